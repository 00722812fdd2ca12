// tests/helpers.hpp — shared test tools: seeded random data and one generic finite-difference
// gradient checker that every layer type runs through (as dlib's test_layer).
#pragma once

#include <atomic>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <string_view>
#include <string>
#include <vector>

#include <ctnn/core/parameter.hpp>
#include <ctnn/core/phase.hpp>
#include <ctnn/core/random.hpp>
#include <ctnn/core/tensor.hpp>

#include <unistd.h>

namespace ctnn::testing {

// A fresh scratch directory, unique per process and per object, removed with its contents at scope exit.
class TempDir {
public:
    explicit TempDir(std::string_view prefix = "test") {
        static std::atomic<int> counter{0};
        path = std::filesystem::temp_directory_path() / ("ctnn_" + std::string(prefix) + "_" + std::to_string(::getpid()) +
                                                         "_" + std::to_string(counter++));
        std::filesystem::remove_all(path);
        std::filesystem::create_directories(path);
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path, ignored);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    std::filesystem::path path;
};

inline std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline std::vector<float> random_vector(std::size_t n, Rng& rng, float lo = -1.0f, float hi = 1.0f) {
    std::vector<float> v(n);
    for (auto& x : v) x = rng.uniform(lo, hi);
    return v;
}

struct GradientCheck {
    bool ok = true;
    std::string log;
    std::size_t checked = 0;
    explicit operator bool() const noexcept { return ok; }
};

// Compares a layer's backward pass with central differences of L = Σ g ⊙ forward(x), for every
// input element and parameter element (or a strided sample of the large ones).
// The forward pass runs in `phase` with the same RNG state each time, so a Dropout mask is fixed.
template <class L>
GradientCheck check_layer_gradients(L& layer, std::size_t batch, Phase phase = Phase::training, std::uint64_t seed = 1,
                                    double tolerance = 2e-2, double upstream_density = 1.0) {
    constexpr std::size_t In = L::input_shape::size, Out = L::output_shape::size;
    Rng rng(seed);
    layer.initialize(rng);
    if constexpr (requires { layer.reserve(batch); }) layer.reserve(batch);
    // Also perturb biases away from zero so their gradient path is exercised with real values.
    layer.visit_parameters([&](Parameter& p) {
        for (auto& v : p.value) v += rng.uniform(-0.1f, 0.1f);
        if (!p.trainable())  // a moving variance stays positive
            for (auto& v : p.value) v = std::fabs(v) + 0.5f;
    });
    std::vector<float> x = random_vector(batch * In, rng), g = random_vector(batch * Out, rng);
    // upstream_density < 1 zeroes that fraction of g, as a ReLU or Dropout after the layer would.
    for (auto& v : g)
        if (upstream_density < 1.0 && rng.uniform(0.0f, 1.0f) >= upstream_density) v = 0.0f;
    const Rng forward_rng = rng.split();

    auto loss = [&]() {
        std::vector<float> y(batch * Out);
        Rng r = forward_rng;
        layer.forward(x.data(), y.data(), ForwardContext{batch, phase, &r});
        double l = 0;
        for (std::size_t k = 0; k < y.size(); ++k) l += double(g[k]) * double(y[k]);
        return l;
    };

    // Analytic gradients.
    std::vector<float> y(batch * Out), dy = g, dx(batch * In, 0.0f);
    {
        Rng r = forward_rng;
        layer.forward(x.data(), y.data(), ForwardContext{batch, phase, &r});
    }
    layer.backward(x.data(), y.data(), dy.data(), dx.data(), batch, false);
    std::vector<std::vector<float>> param_grads;
    layer.visit_parameters([&](Parameter& p) { param_grads.emplace_back(p.gradient.begin(), p.gradient.end()); });

    GradientCheck result;
    auto compare = [&](const std::string& what, std::size_t index, float& value, double analytic) {
        const float saved = value;
        const float h = 1e-3f * std::max(1.0f, std::fabs(saved));  // small: Relu kinks stay out of reach
        value = saved + h;
        const double up = loss();
        value = saved - h;
        const double down = loss();
        value = saved;
        const double numeric = (up - down) / (2.0 * double(h));
        const double err = std::fabs(numeric - analytic) / std::max(1.0, std::fabs(numeric) + std::fabs(analytic));
        ++result.checked;
        if (err > tolerance) {
            result.ok = false;
            std::ostringstream s;
            s << what << "[" << index << "]: analytic " << analytic << " vs numeric " << numeric << " (rel err " << err
              << ")\n";
            if (result.log.size() < 2000) result.log += s.str();
        }
    };
    const std::size_t x_stride = std::max<std::size_t>(1, x.size() / 64);
    for (std::size_t k = 0; k < x.size(); k += x_stride) compare("dx", k, x[k], dx[k]);
    std::size_t param_index = 0;
    layer.visit_parameters([&](Parameter& p) {
        if (!p.trainable()) {  // a moving statistic has no gradient (its buffer holds a batch statistic)
            ++param_index;
            return;
        }
        const std::size_t stride = std::max<std::size_t>(1, p.size() / 64);
        for (std::size_t k = 0; k < p.size(); k += stride)
            compare(std::string(p.name), k, p.value[k], param_grads[param_index][k]);
        ++param_index;
    });
    return result;
}

}  // namespace ctnn::testing
