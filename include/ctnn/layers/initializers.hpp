// ctnn/layers/initializers.hpp — Keras's default initializers: glorot_uniform kernels, zero biases.
#pragma once

#include <cmath>
#include <cstddef>

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

}  // namespace ctnn::initializers
