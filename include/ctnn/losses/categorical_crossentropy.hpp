// ctnn/losses/categorical_crossentropy.hpp — Keras's categorical_crossentropy on probabilities.
//
// Per sample: −Σ t·log(clip(p / Σp, ε, 1−ε)), ε = 1e-7 (Keras backend.epsilon()); the batch loss
// is the mean over samples. After a softmax the gradient w.r.t. the logits is (p − t)/B, which
// Sequential uses instead of chaining through the softmax Jacobian (as llm.c fuses it).
#pragma once

#include <cstddef>
#include <string_view>

#include "ctnn/kernels/loss.hpp"

namespace ctnn::losses {

inline constexpr float keras_epsilon = 1e-7f;

struct CategoricalCrossentropy {
    static constexpr std::string_view name = "categorical_crossentropy";
    static constexpr bool sparse_targets = false;  // targets: (B, N) rows, one-hot or probabilities
    static constexpr bool fuses_with_softmax = true;
    using target_type = float;

    // Σ over the batch of the per-sample loss.  p, t (B, N)
    template <std::size_t N> double sum(std::size_t batch, const float* p, const float* t) const {
        return kernels::categorical_crossentropy_sum<N>(batch, p, t);
    }
    // dp = d(mean loss)/dp through renormalisation and clipping (a clipped entry passes no gradient).
    template <std::size_t N> void gradient(std::size_t batch, const float* p, const float* t, float* dp) const {
        const float inv_batch = 1.0f / static_cast<float>(batch);
        for (std::size_t r = 0; r < batch; ++r) {
            const float* pr = p + r * N;
            const float* tr = t + r * N;
            float* dr = dp + r * N;
            double total = 0;
            for (std::size_t c = 0; c < N; ++c) total += pr[c];
            const float s = static_cast<float>(total);
            double unclipped_target = 0;
            for (std::size_t c = 0; c < N; ++c) {
                const float q = pr[c] / s;
                const bool clipped = q < keras_epsilon || q > 1.0f - keras_epsilon;
                dr[c] = clipped ? 0.0f : -tr[c] / pr[c];
                if (!clipped) unclipped_target += tr[c];
            }
            for (std::size_t c = 0; c < N; ++c) dr[c] = (dr[c] + static_cast<float>(unclipped_target) / s) * inv_batch;
        }
    }
    // dz = d(mean loss)/d(logits) when p = softmax(z).
    template <std::size_t N> void softmax_gradient(std::size_t batch, const float* p, const float* t, float* dz) const {
        kernels::softmax_crossentropy_backward<N>(batch, p, t, 1.0f / static_cast<float>(batch), dz);
    }
};

}  // namespace ctnn::losses
