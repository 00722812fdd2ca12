// ctnn/kernels/reference_pad.hpp — naive twins of kernels/pad.hpp, as kernels/reference.hpp is for
// the others: one element at a time, by its indices. Do not tune these.
//
// Legend: x, dx (B, H, W, C); y, dy (B, OH, OW, C); x (h, w) is y (top + h, left + w).
#pragma once

#include <cstddef>

#include "ctnn/kernels/pad.hpp"

namespace ctnn::kernels::reference {

// y (b, oh, ow, c) = x (b, oh − top, ow − left, c) where that is inside x, else 0
template <pad2d_geometry G> void zero_pad2d_forward_naive(std::size_t batch, const float* x, float* y) {
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t oh = 0; oh < G.out_height; ++oh)
            for (std::size_t ow = 0; ow < G.out_width; ++ow)
                for (std::size_t c = 0; c < G.channels; ++c) {
                    const bool inside = oh >= G.top && oh < G.top + G.height && ow >= G.left && ow < G.left + G.width;
                    y[((b * G.out_height + oh) * G.out_width + ow) * G.channels + c] =
                        inside ? x[((b * G.height + oh - G.top) * G.width + ow - G.left) * G.channels + c] : 0.0f;
                }
}

// dx (b, h, w, c) = dy (b, top + h, left + w, c)
template <pad2d_geometry G> void zero_pad2d_backward_naive(std::size_t batch, const float* dy, float* dx) {
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t h = 0; h < G.height; ++h)
            for (std::size_t w = 0; w < G.width; ++w)
                for (std::size_t c = 0; c < G.channels; ++c)
                    dx[((b * G.height + h) * G.width + w) * G.channels + c] =
                        dy[((b * G.out_height + G.top + h) * G.out_width + G.left + w) * G.channels + c];
}

}  // namespace ctnn::kernels::reference
