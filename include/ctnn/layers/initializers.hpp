// ctnn/layers/initializers.hpp — Keras's default initializers: glorot_uniform kernels, zero biases,
// uniform(−0.05, 0.05) embeddings and orthogonal recurrent kernels.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numbers>
#include <vector>

#include "ctnn/core/parameter.hpp"
#include "ctnn/core/random.hpp"

namespace ctnn::initializers {

// U(-limit, limit), limit = sqrt(6 / (fan_in + fan_out)) (Glorot & Bengio 2010; Keras default).
inline void glorot_uniform(Parameter& kernel, std::size_t fan_in, std::size_t fan_out, Rng& rng) {
    const float limit = std::sqrt(6.0f / static_cast<float>(fan_in + fan_out));
    for (auto& w : kernel.value) w = rng.uniform(-limit, limit);
}

inline void zeros(Parameter& p) {
    for (auto& w : p.value) w = 0.0f;
}

// U(lo, hi): Keras's RandomUniform, "uniform" (−0.05, 0.05) for Embedding.
inline void uniform(Parameter& p, float lo, float hi, Rng& rng) {
    for (auto& w : p.value) w = rng.uniform(lo, hi);
}

// Keras's Orthogonal (gain 1) for a (rows, cols) matrix: a normal (max, min) matrix, the Q of its QR
// decomposition with R's diagonal made positive (here by Gram–Schmidt, which gives that Q directly),
// transposed when rows < cols. A recurrent kernel (U, G·U) so gets orthonormal rows.
inline void orthogonal(Parameter& p, std::size_t rows, std::size_t cols, Rng& rng) {
    const std::size_t n = std::max(rows, cols), m = std::min(rows, cols);
    std::vector<double> a(n * m);  // (n, m), column j = a[i * m + j]
    for (std::size_t k = 0; k < a.size(); k += 2) {  // Box–Muller: two standard normals per two uniforms
        const double radius = std::sqrt(-2.0 * std::log(1.0 - double(rng.uniform())));
        const double angle = 2.0 * std::numbers::pi * double(rng.uniform());
        a[k] = radius * std::cos(angle);
        if (k + 1 < a.size()) a[k + 1] = radius * std::sin(angle);
    }
    for (std::size_t j = 0; j < m; ++j) {  // modified Gram–Schmidt over the columns
        for (std::size_t k = 0; k < j; ++k) {
            double dot = 0.0;
            for (std::size_t i = 0; i < n; ++i) dot += a[i * m + k] * a[i * m + j];
            for (std::size_t i = 0; i < n; ++i) a[i * m + j] -= dot * a[i * m + k];
        }
        double norm = 0.0;
        for (std::size_t i = 0; i < n; ++i) norm += a[i * m + j] * a[i * m + j];
        norm = std::sqrt(norm);
        for (std::size_t i = 0; i < n; ++i) a[i * m + j] /= norm;
    }
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c)
            p.value[r * cols + c] = static_cast<float>(rows < cols ? a[c * m + r] : a[r * m + c]);
}

}  // namespace ctnn::initializers
