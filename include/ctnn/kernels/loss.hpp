// ctnn/kernels/loss.hpp — loss gradients that are worth a kernel (the fused softmax + CE one).
#pragma once

#include <cstddef>

#include "ctnn/kernels/reference.hpp"

namespace ctnn::kernels {

// dz = (p − t) · scale          p, t, dz (B, N)
template <std::size_t N>
void softmax_crossentropy_backward(std::size_t batch, const float* p, const float* t, float scale, float* dz) {
    reference::softmax_crossentropy_backward_naive<N>(batch, p, t, scale, dz);
}

}  // namespace ctnn::kernels
