// Model weights: get/set/save/load by Keras names, refusal of mismatched or damaged files with
// the weights left as they were.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>

#include <ctnn/ctnn.hpp>

#include <string>
#include <vector>

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

// A convnet's kernels are rank 4 in Keras's layout (KH, KW, C, F); pooling and Flatten have no weights.
struct SmallConvnet : Sequential<Input<8, 8, 1>, Conv2D<4, 3, 3, Relu>, MaxPooling2D<2, 2>, Conv2D<6, 2, 2, Relu>,
                                 Flatten, Dense<24, 3, Softmax>> {};

TEST_CASE("Weights.convnet_names_and_rank_4_shapes_like_keras_and_round_trip") {
    auto a = compile<SmallConvnet>(optimizers::Adam{}, losses::CategoricalCrossentropy{});
    auto b = compile<SmallConvnet>(optimizers::Adam{}, losses::CategoricalCrossentropy{});
    a.initialize(1);
    b.initialize(2);
    const auto w = a.get_weights();
    REQUIRE(w.size() == 6);
    CHECK(w[0].name == "conv2d/kernel");
    CHECK(w[0].shape == std::vector<std::size_t>{3, 3, 1, 4});
    CHECK(w[1].shape == std::vector<std::size_t>{4});
    CHECK(w[2].name == "conv2d_1/kernel");
    CHECK(w[2].shape == std::vector<std::size_t>{2, 2, 4, 6});
    CHECK(w[4].name == "dense/kernel");
    CHECK(w[4].shape == std::vector<std::size_t>{24, 3});

    const auto dir = temp_dir();
    Matrix x = Matrix::from_shape({2, 64});
    for (std::size_t k = 0; k < x.size(); ++k) x.data()[k] = static_cast<float>(k % 7) / 7.0f;
    CHECK(a.predict(x) != b.predict(x));
    a.save_weights(dir / "conv.npz");
    b.load_weights(dir / "conv.npz");
    CHECK(a.predict(x) == b.predict(x));
    // A kernel of the right size but another rank-4 shape is refused by name and shape.
    auto swapped = a.get_weights();
    swapped[2].shape = {2, 2, 6, 4};
    CHECK_THROWS_WITH_AS(b.set_weights(swapped), doctest::Contains("(2, 2, 6, 4), expected (2, 2, 4, 6)"),
                         std::invalid_argument);
    std::filesystem::remove_all(dir);
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

TEST_CASE("Weights.blocks_and_batch_normalization_under_keras_names_round_trip") {
    // A residual block with a normalized projection: every array, the moving statistics included,
    // under Keras's functional names, and a save/load that restores inference exactly.
    struct Block : Sequential<Input<4, 4, 2>, Conv2D<3, 3, 3, Linear, 1, Padding::same>, BatchNormalization,
                              Residual<Conv2D<4, 3, 3, Relu, 2, Padding::same>, Shortcut<Conv2D<4, 1, 1, Linear, 2>, BatchNormalization>>,
                              GlobalAveragePooling2D, Dense<4, 2, Softmax>> {};
    auto a = compile<Block>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
    auto b = compile<Block>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
    a.initialize(1);
    b.initialize(2);
    Matrix x = Matrix::from_shape({3, 32});
    for (std::size_t i = 0; i < x.size(); ++i) x.data()[i] = 0.25f + 0.01f * float(i);
    const Matrix y = {{1, 0}, {0, 1}, {1, 0}};
    a.fit(x, y, {.epochs = 2, .batch_size = 3, .verbose = 0});  // moving statistics away from 0 and 1
    std::vector<std::string> names;
    for (const auto& w : a.get_weights()) names.push_back(w.name + (w.shape.size() == 1 ? "" : "*"));
    CHECK(names == std::vector<std::string>{"conv2d/kernel*", "conv2d/bias", "batch_normalization/gamma",
                                            "batch_normalization/beta", "batch_normalization/moving_mean",
                                            "batch_normalization/moving_variance", "conv2d_1/kernel*", "conv2d_1/bias",
                                            "conv2d_2/kernel*", "conv2d_2/bias", "batch_normalization_1/gamma",
                                            "batch_normalization_1/beta", "batch_normalization_1/moving_mean",
                                            "batch_normalization_1/moving_variance", "dense/kernel*", "dense/bias"});
    const auto dir = temp_dir();
    a.save_weights(dir / "block.npz");
    CHECK(a.predict(x) != b.predict(x));
    b.load_weights(dir / "block.npz");
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
