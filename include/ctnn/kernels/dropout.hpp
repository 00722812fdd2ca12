// ctnn/kernels/dropout.hpp — inverted dropout with a byte mask (1 = kept).
#pragma once

#include <cstddef>
#include <cstdint>

#include "ctnn/kernels/reference.hpp"

namespace ctnn::kernels {

inline void dropout_forward(std::size_t n, const float* x, const std::uint8_t* keep, float scale, float* y) {
    reference::dropout_forward_naive(n, x, keep, scale, y);
}
inline void dropout_backward(std::size_t n, const std::uint8_t* keep, float scale, float* dy) {
    reference::dropout_backward_naive(n, keep, scale, dy);
}

}  // namespace ctnn::kernels
