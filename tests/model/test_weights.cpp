// Model weights: get/set/save/load by Keras names, refusal of mismatched or damaged files with
// the weights left as they were.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include <ctnn/ctnn.hpp>

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace model_test_weights {

using namespace ctnn;

namespace {
struct Net : Sequential<Dense<3, 4, Relu>, Dropout<0.5>, Dense<4, 2, Softmax>> {};
struct Other : Sequential<Dense<3, 5, Relu>, Dense<5, 2, Softmax>> {};
auto make(std::uint64_t seed) {
    auto m = compile<Net>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
    m.initialize(seed);
    return m;
}
std::filesystem::path temp_dir() {
    auto dir = std::filesystem::temp_directory_path() / ("ctnn_weights_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    return dir;
}
}  // namespace

TEST_CASE("Weights.names_and_shapes_like_keras") {
    auto m = make(1);
    const auto w = m.get_weights();
    REQUIRE(w.size() == 4);
    CHECK(w[0].name == "dense/kernel");
    CHECK(w[0].shape == std::vector<std::size_t>{3, 4});
    CHECK(w[1].name == "dense/bias");
    CHECK(w[1].shape == std::vector<std::size_t>{4});
    CHECK(w[2].name == "dense_1/kernel");
    CHECK(w[3].name == "dense_1/bias");
}

TEST_CASE("Weights.save_load_round_trip") {
    const auto dir = temp_dir();
    auto a = make(1);
    auto b = make(2);
    const Matrix x = {{0.1f, 0.2f, 0.3f}, {1, -1, 0.5f}};
    CHECK(a.predict(x) != b.predict(x));
    a.save_weights(dir / "w.npz");
    b.load_weights(dir / "w.npz");
    CHECK(a.predict(x) == b.predict(x));
    std::filesystem::remove_all(dir);
}

TEST_CASE("Weights.mismatches_are_refused_and_weights_kept") {
    const auto dir = temp_dir();
    auto m = make(3);
    const auto before = m.get_weights();
    auto other = compile<Other>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
    other.save_weights(dir / "other.npz");
    try {
        m.load_weights(dir / "other.npz");
        FAIL("loading another network's weights must throw");
    } catch (const std::invalid_argument& e) {
        CHECK(std::string(e.what()).find("array 'dense/kernel' has shape (3, 5), expected (3, 4)") != std::string::npos);
    }
    auto w = before;
    w.pop_back();
    CHECK_THROWS_WITH_AS(m.set_weights(w), "set_weights: array 'dense_1/bias' is missing", std::invalid_argument);
    w = before;
    w[1].name = "dense/gamma";
    CHECK_THROWS_AS(m.set_weights(w), std::invalid_argument);
    // Damaged file: truncated archive.
    m.save_weights(dir / "good.npz");
    {
        std::ifstream in(dir / "good.npz", std::ios::binary);
        std::string bytes((std::istreambuf_iterator<char>(in)), {});
        std::ofstream out(dir / "cut.npz", std::ios::binary);
        out.write(bytes.data(), static_cast<std::streamsize>(bytes.size() / 2));
    }
    CHECK_THROWS_AS(m.load_weights(dir / "cut.npz"), file_error);
    CHECK_THROWS_AS(m.load_weights(dir / "missing.npz"), file_error);
    const auto after = m.get_weights();
    for (std::size_t i = 0; i < before.size(); ++i) CHECK(after[i].values == before[i].values);
    std::filesystem::remove_all(dir);
}

}  // namespace model_test_weights
