// ctnn/losses/sparse_categorical_crossentropy.hpp — cross-entropy with integer class labels
// (Keras's sparse_categorical_crossentropy): the same loss as the one-hot form, without
// materialising the one-hot rows.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "ctnn/kernels/loss.hpp"
#include "ctnn/losses/categorical_crossentropy.hpp"

namespace ctnn::losses {

struct SparseCategoricalCrossentropy {
    static constexpr std::string_view name = "sparse_categorical_crossentropy";
    static constexpr bool sparse_targets = true;  // targets: (B,) class indices in [0, N)
    static constexpr bool fuses_with_softmax = true;
    using target_type = std::int32_t;

    template <std::size_t N> double sum(std::size_t batch, const float* p, const std::int32_t* labels) const {
        return kernels::sparse_categorical_crossentropy_sum<N>(batch, p, labels);
    }
    template <std::size_t N> void gradient(std::size_t batch, const float* p, const std::int32_t* labels, float* dp) const {
        const float inv_batch = 1.0f / static_cast<float>(batch);
        for (std::size_t r = 0; r < batch; ++r) {
            const float* pr = p + r * N;
            float* dr = dp + r * N;
            double total = 0;
            for (std::size_t c = 0; c < N; ++c) total += pr[c];
            const float s = static_cast<float>(total);
            const auto label = static_cast<std::size_t>(labels[r]);
            const float q = pr[label] / s;
            const bool clipped = q < keras_epsilon || q > 1.0f - keras_epsilon;
            for (std::size_t c = 0; c < N; ++c) dr[c] = clipped ? 0.0f : inv_batch / s;
            if (!clipped) dr[label] -= inv_batch / pr[label];
        }
    }
    template <std::size_t N> void softmax_gradient(std::size_t batch, const float* p, const std::int32_t* labels, float* dz) const {
        const float inv_batch = 1.0f / static_cast<float>(batch);
        for (std::size_t k = 0; k < batch * N; ++k) dz[k] = p[k] * inv_batch;
        for (std::size_t r = 0; r < batch; ++r) dz[r * N + static_cast<std::size_t>(labels[r])] -= inv_batch;
    }
};

}  // namespace ctnn::losses
