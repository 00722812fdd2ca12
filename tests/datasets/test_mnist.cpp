// Tests of ctnn/datasets/mnist.hpp: small MNIST-format directories written here, every broken
// file the loader must name, and (when installed) the real Fashion-MNIST from Debian.
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include <xtensor/xmath.hpp>
#include <xtensor/xview.hpp>

#include "ctnn/datasets/mnist.hpp"
#include "datasets/idx_test_support.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace datasets_test_mnist {

namespace mnist = ctnn::datasets::mnist;
using ctnn_test::Bytes;
using ctnn_test::contains;
using ctnn_test::idx_file;
using ctnn_test::message_of;

namespace {

// Pixels and labels of a fake data set, and how each of the four files is written.
struct FakeFiles {
    std::uint32_t train_count = 12;
    std::uint32_t test_count = 5;
    bool gzip_train_images = false, gzip_train_labels = false, gzip_test_images = false, gzip_test_labels = false;

    Bytes train_pixels() const { return ctnn_test::pattern(train_count * 784, 11); }
    Bytes test_pixels() const { return ctnn_test::pattern(test_count * 784, 22); }
    Bytes train_labels() const { return labels(train_count, 3); }
    Bytes test_labels() const { return labels(test_count, 7); }
    static Bytes labels(std::uint32_t n, std::uint32_t offset) {
        Bytes out(n);
        for (std::uint32_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>((i * 7 + offset) % 10);
        return out;
    }

    void write(const std::filesystem::path& dir) const {
        put(dir, "train-images-idx3-ubyte", idx_file(8, {train_count, 28, 28}, train_pixels()), gzip_train_images);
        put(dir, "train-labels-idx1-ubyte", idx_file(8, {train_count}, train_labels()), gzip_train_labels);
        put(dir, "t10k-images-idx3-ubyte", idx_file(8, {test_count, 28, 28}, test_pixels()), gzip_test_images);
        put(dir, "t10k-labels-idx1-ubyte", idx_file(8, {test_count}, test_labels()), gzip_test_labels);
    }
    static void put(const std::filesystem::path& dir, const std::string& name, const Bytes& bytes, bool gz) {
        if (gz) ctnn_test::write_file(dir / (name + ".gz"), ctnn_test::gzip(bytes));
        else ctnn_test::write_file(dir / name, bytes);
    }
};

// Checks a split against images [begin, begin + n) of the given pixels and labels.
void check_split(const mnist::Split& split, const Bytes& pixels, const Bytes& labels, std::size_t begin, std::size_t n) {
    REQUIRE(split.size() == n);
    REQUIRE(split.x.shape(0) == n);
    REQUIRE(split.x.shape(1) == 784);
    REQUIRE(split.y.shape(0) == n);
    REQUIRE(split.y.shape(1) == 10);
    for (std::size_t i = 0; i < n; ++i) {
        CAPTURE(i);
        CHECK(split.labels(i) == labels[begin + i]);
        for (std::size_t c = 0; c < 10; ++c) CHECK(split.y(i, c) == (c == labels[begin + i] ? 1.0f : 0.0f));
        for (std::size_t p : {std::size_t{0}, std::size_t{1}, std::size_t{405}, std::size_t{783}})
            CHECK(split.x(i, p) == doctest::Approx(pixels[(begin + i) * 784 + p] / 255.0));
    }
}

std::string load_error(const std::filesystem::path& dir, mnist::LoadOptions options = {.validation_size = 4}) {
    return message_of([&] { mnist::load(dir, options); });
}

}  // namespace

TEST_CASE("Mnist.load.valid") {
    ctnn_test::TempDir dir;
    FakeFiles files;
    SUBCASE("raw files") {}
    SUBCASE("gzipped files") {
        files.gzip_train_images = files.gzip_train_labels = files.gzip_test_images = files.gzip_test_labels = true;
    }
    SUBCASE("a mix of raw and gzipped files") { files.gzip_train_images = files.gzip_test_labels = true; }
    files.write(dir.path());
    const mnist::Dataset data = mnist::load(dir.path(), {.validation_size = 4});
    // Validation is the first 4 training images, train the 8 after them, as read_data_sets did.
    check_split(data.validation, files.train_pixels(), files.train_labels(), 0, 4);
    check_split(data.train, files.train_pixels(), files.train_labels(), 4, 8);
    check_split(data.test, files.test_pixels(), files.test_labels(), 0, 5);
}

TEST_CASE("Mnist.load.options") {
    ctnn_test::TempDir dir;
    FakeFiles files;
    files.write(dir.path());
    SUBCASE("no validation set") {
        const mnist::Dataset data = mnist::load(dir.path(), {.validation_size = 0});
        CHECK(data.validation.size() == 0);
        check_split(data.train, files.train_pixels(), files.train_labels(), 0, 12);
    }
    SUBCASE("validation_size must leave training images") {
        for (std::size_t size : {std::size_t{12}, std::size_t{5000}}) {
            const std::string message = message_of<std::invalid_argument>([&] {
                mnist::load(dir.path(), {.validation_size = size});
            });
            CHECK(contains(message, dir.path().string()));
            CHECK(contains(message, "validation_size is " + std::to_string(size) +
                                        " but the training files hold only 12 images"));
        }
    }
    SUBCASE("a raw file is preferred over its .gz twin") {
        // The .gz twin is corrupt: loading succeeds only if the raw file is the one read.
        ctnn_test::write_file(dir / "train-images-idx3-ubyte.gz", {0x1f, 0x8b, 0x08, 0x00, 0x01});
        CHECK(mnist::load(dir.path(), {.validation_size = 4}).train.size() == 8);
    }
}

TEST_CASE("Mnist.load.broken") {
    ctnn_test::TempDir dir;
    FakeFiles files;
    files.write(dir.path());
    const auto path = [&](const char* name) { return (dir / name).string(); };

    SUBCASE("missing directory names the expected files and the Debian package") {
        const std::string missing = (dir / "no-such-dir").string();
        const std::string message = load_error(missing);
        CHECK(contains(message, missing + ": directory not found"));
        for (const char* name : {"train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                                 "t10k-labels-idx1-ubyte", "dataset-fashion-mnist"})
            CHECK(contains(message, name));
        CHECK(contains(load_error(dir / "train-images-idx3-ubyte"), "is not a directory"));
    }
    SUBCASE("missing file") {
        std::filesystem::remove(dir / "t10k-labels-idx1-ubyte");
        const std::string message = load_error(dir.path());
        CHECK(contains(message, path("t10k-labels-idx1-ubyte") + ": not found (nor t10k-labels-idx1-ubyte.gz)"));
        CHECK(contains(message, "dataset-fashion-mnist"));
    }
    SUBCASE("wrong magic") {
        Bytes bytes = idx_file(8, {12, 28, 28}, files.train_pixels());
        bytes[1] = 3;
        ctnn_test::write_file(dir / "train-images-idx3-ubyte", bytes);
        CHECK(contains(load_error(dir.path()), path("train-images-idx3-ubyte") + ": not an IDX file: bad magic"));
    }
    SUBCASE("truncated file") {
        ctnn_test::write_file(dir / "t10k-labels-idx1-ubyte", idx_file(8, {5}, {1, 2, 3}));
        CHECK(contains(load_error(dir.path()),
                       path("t10k-labels-idx1-ubyte") + ": truncated: header declares 5 bytes of data, file has 3"));
    }
    SUBCASE("corrupt gzip") {
        std::filesystem::remove(dir / "t10k-images-idx3-ubyte");
        Bytes gz = ctnn_test::gzip(idx_file(8, {5, 28, 28}, files.test_pixels()));
        gz[gz.size() - 7] ^= 0x20;  // CRC-32
        ctnn_test::write_file(dir / "t10k-images-idx3-ubyte.gz", gz);
        CHECK(contains(load_error(dir.path()), path("t10k-images-idx3-ubyte.gz") + ": corrupt gzip stream"));
        gz.resize(gz.size() / 2);
        ctnn_test::write_file(dir / "t10k-images-idx3-ubyte.gz", gz);
        CHECK(contains(load_error(dir.path()), path("t10k-images-idx3-ubyte.gz") + ": truncated gzip stream"));
    }
    SUBCASE("image and label counts differ") {
        ctnn_test::write_file(dir / "train-labels-idx1-ubyte", idx_file(8, {11}, Bytes(11, 1)));
        CHECK(contains(load_error(dir.path()),
                       path("train-labels-idx1-ubyte") + ": has 11 labels but train-images-idx3-ubyte has 12 images"));
    }
    SUBCASE("images that are not 28x28") {
        ctnn_test::write_file(dir / "t10k-images-idx3-ubyte", idx_file(8, {5, 32, 32}, Bytes(5 * 32 * 32, 0)));
        CHECK(contains(load_error(dir.path()),
                       path("t10k-images-idx3-ubyte") + ": images must be (count, 28, 28), found (5 x 32 x 32)"));
        ctnn_test::write_file(dir / "t10k-images-idx3-ubyte", idx_file(8, {5, 784}, Bytes(5 * 784, 0)));
        CHECK(contains(load_error(dir.path()), "found (5 x 784)"));
    }
    SUBCASE("images or labels that are not unsigned bytes") {
        ctnn_test::write_file(dir / "t10k-images-idx3-ubyte", idx_file(0x0d, {5, 28, 28}, Bytes(5 * 784 * 4, 0)));
        CHECK(contains(load_error(dir.path()),
                       path("t10k-images-idx3-ubyte") + ": images must be unsigned bytes (IDX type 0x08), found float32"));
        ctnn_test::write_file(dir / "train-labels-idx1-ubyte", idx_file(0x09, {12}, Bytes(12, 0)));
        CHECK(contains(load_error(dir.path()), path("train-labels-idx1-ubyte") + ": labels must be unsigned bytes"));
    }
    SUBCASE("label above 9") {
        Bytes labels = files.train_labels();
        labels[7] = 10;
        ctnn_test::write_file(dir / "train-labels-idx1-ubyte", idx_file(8, {12}, labels));
        CHECK(contains(load_error(dir.path()), path("train-labels-idx1-ubyte") + ": label 7 is 10, expected 0 to 9"));
    }
    SUBCASE("billions of images are refused before any large allocation") {
        ctnn_test::write_file(dir / "train-images-idx3-ubyte", idx_file(8, {2'000'000, 28, 28}, Bytes(784, 0)));
        CHECK(ctnn_test::run_with_memory_limit([&] { mnist::load(dir.path()); }) == "file_error");
        std::filesystem::remove(dir / "train-images-idx3-ubyte");
        ctnn_test::write_file(dir / "train-images-idx3-ubyte.gz",
                              ctnn_test::gzip(idx_file(8, {4'000'000'000u, 28, 28}, Bytes(784, 0))));
        CHECK(ctnn_test::run_with_memory_limit([&] { mnist::load(dir.path()); }) == "file_error");
    }
}

TEST_CASE("Mnist.load.fashion_mnist_from_debian") {
    if (!std::filesystem::is_directory(mnist::default_directory)) {
        MESSAGE("skipping the real-data check: " << mnist::default_directory
                                                 << " not found (apt-get install dataset-fashion-mnist)");
        return;
    }
    const mnist::Dataset data = mnist::load(mnist::default_directory);
    CHECK(data.train.size() == 55'000);
    CHECK(data.validation.size() == 5'000);
    CHECK(data.test.size() == 10'000);
    CHECK(data.train.x.shape(1) == 784);
    CHECK(data.test.y.shape(1) == 10);
    // Expected values decoded independently with Python's gzip + NumPy from the same files.
    const std::vector<int> validation_first = {9, 0, 0, 3, 0, 2, 7, 2, 5, 5};  // training labels 0..9
    const std::vector<int> train_first = {4, 0, 7, 9, 9, 9, 4, 4, 3, 4};       // training labels 5000..5009
    const std::vector<int> test_first = {9, 2, 1, 1, 6, 1, 4, 6, 5, 7};
    for (int i = 0; i < 10; ++i) {
        CHECK(data.validation.labels(i) == validation_first[i]);
        CHECK(data.train.labels(i) == train_first[i]);
        CHECK(data.test.labels(i) == test_first[i]);
    }
    CHECK(xt::amin(data.train.x)() == 0.0f);
    CHECK(xt::amax(data.train.x)() == 1.0f);
    CHECK(data.validation.x(0, 417) == 1.0f);  // the brightest pixel of training image 0 is 255
    // Pixel sums of single images (uint8 sums / 255): 76247, 94772 and 33456.
    CHECK(xt::sum(xt::view(data.validation.x, 0, xt::all()))() * 255 == doctest::Approx(76247).epsilon(1e-5));
    CHECK(xt::sum(xt::view(data.train.x, 0, xt::all()))() * 255 == doctest::Approx(94772).epsilon(1e-5));
    CHECK(xt::sum(xt::view(data.test.x, 0, xt::all()))() * 255 == doctest::Approx(33456).epsilon(1e-5));
    // Fashion-MNIST's test set is balanced: 1,000 of each class; one-hot rows sum to one.
    const auto per_class = xt::eval(xt::sum(data.test.y, {0}));
    for (std::size_t c = 0; c < 10; ++c) CHECK(per_class(c) == 1000.0f);
    CHECK(xt::amin(xt::sum(data.train.y, {1}))() == 1.0f);
    CHECK(xt::amax(xt::sum(data.train.y, {1}))() == 1.0f);
}

}  // namespace datasets_test_mnist
