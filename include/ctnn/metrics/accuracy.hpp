// ctnn/metrics/accuracy.hpp — Keras's "accuracy", resolved by the loss as Keras resolves it:
// sparse labels -> sparse categorical accuracy; binary cross-entropy or a single output ->
// binary accuracy (threshold 0.5); otherwise categorical accuracy (argmax match).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "ctnn/kernels/loss.hpp"
#include "ctnn/losses/binary_crossentropy.hpp"

namespace ctnn::metrics {

struct Accuracy {
    static constexpr std::string_view name = "accuracy";

    // Σ over the batch of each sample's accuracy (1 or 0; for binary accuracy the fraction of
    // its outputs on the right side of 0.5, as Keras averages over the last axis).
    // p (B, N); t (B, N) floats or (B,) labels.
    template <std::size_t N, class LossT, class Target>
    double correct(std::size_t batch, const float* p, const Target* t) const {
        if constexpr (std::is_same_v<Target, std::int32_t>) {
            return static_cast<double>(kernels::argmax_label_match_count<N>(batch, p, t));
        } else if constexpr (N == 1 || std::is_same_v<LossT, losses::BinaryCrossentropy>) {
            std::size_t right = 0;
            for (std::size_t k = 0; k < batch * N; ++k) right += (p[k] > 0.5f) == (t[k] > 0.5f);
            return static_cast<double>(right) / static_cast<double>(N);
        } else {
            return static_cast<double>(kernels::argmax_match_count<N>(batch, p, t));
        }
    }
};

}  // namespace ctnn::metrics
