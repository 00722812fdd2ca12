// ctnn/datasets/mnist.hpp — load MNIST-format data sets (MNIST, Fashion-MNIST, KMNIST) from IDX files.
//
// A directory with the four standard files (each raw or .gz) becomes train/validation/test splits
// of float pixels in [0, 1] and one-hot labels, split as TensorFlow's read_data_sets did: the first
// `validation_size` training images are the validation set. No download: files must be on disk.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include <xtensor/xbuilder.hpp>

#include "ctnn/core/error.hpp"
#include "ctnn/core/tensor.hpp"
#include "ctnn/io/idx.hpp"

namespace ctnn::datasets::mnist {

inline constexpr std::size_t image_rows = 28;
inline constexpr std::size_t image_cols = 28;
inline constexpr std::size_t image_size = image_rows * image_cols;  // 784 features
inline constexpr std::size_t num_classes = 10;

// Where Debian's package dataset-fashion-mnist installs Fashion-MNIST.
inline constexpr const char* default_directory = "/usr/share/datasets/fashion-mnist";

inline constexpr const char* train_images_file = "train-images-idx3-ubyte";
inline constexpr const char* train_labels_file = "train-labels-idx1-ubyte";
inline constexpr const char* test_images_file = "t10k-images-idx3-ubyte";
inline constexpr const char* test_labels_file = "t10k-labels-idx1-ubyte";

struct Split {
    Matrix x;       // (n, 784) pixels scaled to [0, 1]
    Matrix y;       // (n, 10) one-hot
    Labels labels;  // (n,) class indices 0..9
    std::size_t size() const noexcept { return labels.size(); }
};

struct Dataset {
    Split train, validation, test;
};

struct LoadOptions {
    std::size_t validation_size = 5000;  // taken from the front of the training files
};

namespace detail {

inline std::string expected_files_text() {
    return std::string(train_images_file) + ", " + train_labels_file + ", " + test_images_file + ", " +
           test_labels_file + " (each raw or with .gz); on Debian, Fashion-MNIST is in the package "
           "dataset-fashion-mnist (apt-get install dataset-fashion-mnist, files in " +
           default_directory + ")";
}

// `dir/name` if it exists, else `dir/name.gz`; raw wins when both exist (no inflating needed).
inline std::filesystem::path find_file(const std::filesystem::path& dir, const char* name) {
    std::error_code ec;
    const std::filesystem::path raw = dir / name;
    if (std::filesystem::exists(raw, ec)) return raw;
    std::filesystem::path gz = raw;
    gz += ".gz";
    if (std::filesystem::exists(gz, ec)) return gz;
    throw file_error(raw.string(), std::string("not found (nor ") + gz.filename().string() + "); an MNIST-format "
                                   "directory holds " + expected_files_text());
}

inline io::IdxArray read_images(const std::filesystem::path& path) {
    io::IdxArray images = io::read_idx(path);
    const std::string file = path.string();
    if (images.type_code != io::idx_type::unsigned_byte)
        throw file_error(file, std::string("images must be unsigned bytes (IDX type 0x08), found ") +
                                   io::idx_type_name(images.type_code) + " (" + io::detail::hex_byte(images.type_code) +
                                   ")");
    if (images.dims.size() != 3 || images.dims[1] != image_rows || images.dims[2] != image_cols)
        throw file_error(file, "images must be (count, 28, 28), found (" + io::detail::dims_text(images.dims) + ")");
    return images;
}

inline io::IdxArray read_labels(const std::filesystem::path& path) {
    io::IdxArray labels = io::read_idx(path);
    const std::string file = path.string();
    if (labels.type_code != io::idx_type::unsigned_byte)
        throw file_error(file, std::string("labels must be unsigned bytes (IDX type 0x08), found ") +
                                   io::idx_type_name(labels.type_code) + " (" + io::detail::hex_byte(labels.type_code) +
                                   ")");
    if (labels.dims.size() != 1)
        throw file_error(file, "labels must be one-dimensional (count), found (" +
                                   io::detail::dims_text(labels.dims) + ")");
    for (std::size_t i = 0; i < labels.data.size(); ++i)
        if (labels.data[i] >= num_classes)
            throw file_error(file, "label " + std::to_string(i) + " is " + std::to_string(labels.data[i]) +
                                       ", expected 0 to 9");
    return labels;
}

// Images [begin, end) of a checked pair of files as a Split.
inline Split make_split(const io::IdxArray& images, const io::IdxArray& labels, std::size_t begin, std::size_t end) {
    const std::size_t n = end - begin;
    Split split{xt::empty<Scalar>(std::array<std::size_t, 2>{n, image_size}),
                xt::zeros<Scalar>(std::array<std::size_t, 2>{n, num_classes}),
                xt::empty<std::int32_t>(std::array<std::size_t, 1>{n})};
    const std::uint8_t* pixels = images.data.data() + begin * image_size;  // (n, 784)
    Scalar* x = split.x.data();                                             // (n, 784)
    for (std::size_t i = 0; i < n * image_size; ++i) x[i] = static_cast<Scalar>(pixels[i]) / Scalar{255};
    for (std::size_t i = 0; i < n; ++i) {
        const std::uint8_t label = labels.data[begin + i];
        split.labels(i) = label;
        split.y(i, label) = Scalar{1};
    }
    return split;
}

// Reads and cross-checks one images/labels pair.
inline std::pair<io::IdxArray, io::IdxArray> read_pair(const std::filesystem::path& dir, const char* images_name,
                                                       const char* labels_name) {
    const std::filesystem::path images_path = find_file(dir, images_name);
    const std::filesystem::path labels_path = find_file(dir, labels_name);
    io::IdxArray images = read_images(images_path);
    io::IdxArray labels = read_labels(labels_path);
    if (images.dims[0] != labels.dims[0])
        throw file_error(labels_path.string(), "has " + std::to_string(labels.dims[0]) + " labels but " +
                                                   images_path.filename().string() + " has " +
                                                   std::to_string(images.dims[0]) + " images");
    return {std::move(images), std::move(labels)};
}

}  // namespace detail

// Loads the four standard files of `dir`: 55,000 / 5,000 / 10,000 images for MNIST with the default options.
inline Dataset load(const std::filesystem::path& dir, LoadOptions options = {}) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec))
        throw file_error(dir.string(), std::string(std::filesystem::exists(dir, ec) ? "is not a directory"
                                                                                   : "directory not found") +
                                           "; expected an MNIST-format directory holding " +
                                           detail::expected_files_text());
    auto [train_images, train_labels] = detail::read_pair(dir, train_images_file, train_labels_file);
    const std::size_t train_count = train_images.dims[0];
    if (options.validation_size >= train_count)
        throw std::invalid_argument("mnist::load(" + dir.string() + "): LoadOptions::validation_size is " +
                                    std::to_string(options.validation_size) + " but the training files hold only " +
                                    std::to_string(train_count) + " images; it must be smaller");
    auto [test_images, test_labels] = detail::read_pair(dir, test_images_file, test_labels_file);

    Dataset data;
    data.validation = detail::make_split(train_images, train_labels, 0, options.validation_size);
    data.train = detail::make_split(train_images, train_labels, options.validation_size, train_count);
    data.test = detail::make_split(test_images, test_labels, 0, test_images.dims[0]);
    return data;
}

}  // namespace ctnn::datasets::mnist
