// ctnn/losses/binary_crossentropy.hpp — Keras's binary_crossentropy on probabilities:
// p clipped to [ε, 1−ε], −(t·log p + (1−t)·log(1−p)) averaged over outputs, then over the batch.
#pragma once

#include <cstddef>
#include <string_view>

#include "ctnn/kernels/loss.hpp"
#include "ctnn/losses/categorical_crossentropy.hpp"

namespace ctnn::losses {

struct BinaryCrossentropy {
    static constexpr std::string_view name = "binary_crossentropy";
    static constexpr bool sparse_targets = false;
    static constexpr bool fuses_with_softmax = false;
    using target_type = float;

    template <std::size_t N> double sum(std::size_t batch, const float* p, const float* t) const {
        return kernels::binary_crossentropy_sum<N>(batch, p, t);
    }
    // A clipped probability passes no gradient, as Keras's clip does.
    template <std::size_t N> void gradient(std::size_t batch, const float* p, const float* t, float* dp) const {
        const float scale = 1.0f / static_cast<float>(N * batch);
        for (std::size_t k = 0; k < batch * N; ++k) {
            const bool clipped = p[k] < keras_epsilon || p[k] > 1.0f - keras_epsilon;
            dp[k] = clipped ? 0.0f : (-t[k] / p[k] + (1.0f - t[k]) / (1.0f - p[k])) * scale;
        }
    }
};

}  // namespace ctnn::losses
