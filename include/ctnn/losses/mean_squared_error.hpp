// ctnn/losses/mean_squared_error.hpp — Keras's mean_squared_error: mean over outputs of (p − t)²
// per sample, then mean over the batch.
#pragma once

#include <cstddef>
#include <string_view>

#include "ctnn/kernels/loss.hpp"

namespace ctnn::losses {

struct MeanSquaredError {
    static constexpr std::string_view name = "mean_squared_error";
    static constexpr bool sparse_targets = false;
    static constexpr bool fuses_with_softmax = false;
    using target_type = float;

    template <std::size_t N> double sum(std::size_t batch, const float* p, const float* t) const {
        return kernels::mean_squared_error_sum<N>(batch, p, t);
    }
    template <std::size_t N> void gradient(std::size_t batch, const float* p, const float* t, float* dp) const {
        const float scale = 2.0f / static_cast<float>(N * batch);
        for (std::size_t k = 0; k < batch * N; ++k) dp[k] = (p[k] - t[k]) * scale;
    }
};

}  // namespace ctnn::losses
