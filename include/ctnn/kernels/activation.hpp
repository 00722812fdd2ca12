// ctnn/kernels/activation.hpp — activation forward/backward over a (B, N) block.
#pragma once

#include <cstddef>

#include "ctnn/kernels/reference.hpp"

namespace ctnn::kernels {

// y = Act(x), row-wise for Softmax; x and y may alias.
template <std::size_t N, class Act>
void activation_forward(std::size_t batch, const float* x, float* y) {
    reference::activation_forward_naive<N, Act>(batch, x, y);
}

// In place: dy (w.r.t. y = Act(z)) becomes dz (w.r.t. z).
template <std::size_t N, class Act>
void activation_backward(std::size_t batch, const float* y, float* dy) {
    reference::activation_backward_naive<N, Act>(batch, y, dy);
}

}  // namespace ctnn::kernels
