// tests/callbacks/fake_model.hpp — test tools for the built-in callbacks: FakeModel, a
// ModelInterface without a network for driving hooks by hand (weights are two small named arrays
// the test sets, saves are real .npz files); a tiny real model with data whose validation labels
// are the training labels flipped (so val_loss rises while training goes well); a temp directory.
#pragma once

#include <cstddef>
#include <cstdint>
#include <unistd.h>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <system_error>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "helpers.hpp"

namespace ctnn::testing {

class FakeModel final : public ModelInterface {
public:
    float lr = 0.01f;
    std::int64_t steps = 0;
    std::vector<io::NamedArray> weights{{"dense/kernel", {2, 1}, {0.0f, 0.0f}}, {"dense/bias", {1}, {0.0f}}};
    mutable std::vector<std::filesystem::path> saved;  // every save_weights path, in order

    // Makes the weights recognisably "those of epoch e".
    void mark(float value) {
        for (auto& a : weights)
            for (auto& v : a.values) v = value;
    }
    float marker() const { return weights[0].values[0]; }

    float learning_rate() const override { return lr; }
    void set_learning_rate(float value) override { lr = value; }
    std::int64_t iterations() const override { return steps; }
    std::string layer_name(std::size_t) const override { return "dense"; }
    std::size_t layer_count() const override { return 1; }
    std::vector<io::NamedArray> get_weights() const override { return weights; }
    void set_weights(const std::vector<io::NamedArray>& arrays) override { weights = arrays; }
    void save_weights(const std::filesystem::path& path) const override {
        io::save_npz(path, weights);
        saved.push_back(path);
    }
    void load_weights(const std::filesystem::path& path) override { weights = io::load_npz(path); }
};

// A fresh, empty directory under the system temp dir, removed at scope end.
// TempDir comes from tests/helpers.hpp.

// 2 -> 4 -> 2 classifier of 10 points on a line; `flipped` swaps the two classes.
struct TinyNet : Sequential<Dense<2, 4, Tanh>, Dense<4, 2, Softmax>> {};

inline auto make_tiny_model(float learning_rate = 0.1f) {
    return compile<TinyNet>(optimizers::SGD{.learning_rate = learning_rate}, losses::CategoricalCrossentropy{},
                            metrics::Accuracy{});
}

struct TinyData {
    Matrix x = Matrix::from_shape({10, 2});
    Matrix y = Matrix::from_shape({10, 2});
    Matrix flipped = Matrix::from_shape({10, 2});
    TinyData() {
        for (std::size_t i = 0; i < 10; ++i) {
            x(i, 0) = float(i) / 10.0f;
            x(i, 1) = 1.0f - float(i) / 10.0f;
            y(i, 0) = flipped(i, 1) = i < 5 ? 1.0f : 0.0f;
            y(i, 1) = flipped(i, 0) = i < 5 ? 0.0f : 1.0f;
        }
    }
};

// Records the weights and learning rate seen at every epoch end.
struct WeightRecorder {
    ModelInterface* model = nullptr;
    std::vector<std::vector<io::NamedArray>> weights;
    std::vector<float> learning_rates;
    void set_model(ModelInterface& m) { model = &m; }
    void on_epoch_end(std::size_t) {
        weights.push_back(model->get_weights());
        learning_rates.push_back(model->learning_rate());
    }
};

inline bool same_values(const std::vector<io::NamedArray>& a, const std::vector<io::NamedArray>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].name != b[i].name || a[i].shape != b[i].shape || a[i].values != b[i].values) return false;
    return true;
}

inline std::string read_text(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

}  // namespace ctnn::testing
