// ctnn/kernels/pad.hpp — 2-D zero padding (Keras ZeroPadding2D) and its backward, the crop back to
// the input, NHWC, statically sized.
//
// Legend: B = batch (run time); the rest is the compile-time geometry G.
//   x, dx   (B, H, W, C)     input and its gradient
//   y, dy   (B, OH, OW, C)   output and its gradient, OH = top + H + bottom, OW = left + W + right;
//                            x (h, w) is y (top + h, left + w), every other element of y is 0
// A row of an image is W·C contiguous floats in x and in y, so both directions are row copies and
// fills (std::copy / std::fill_n, vectorised by the compiler and libc): no xsimd, no Arch parameter.
// Threads split the batch by image: every element is written by one thread. Oracles: the *_naive
// twins in kernels/reference_pad.hpp.
#pragma once

#include <algorithm>
#include <cstddef>

#include "ctnn/kernels/pool.hpp"  // detail::for_each_image

namespace ctnn::kernels {

// Static geometry of one 2-D zero padding; a structural type, used as a template argument.
struct pad2d_geometry {
    std::size_t height, width, channels;    // input (H, W, C)
    std::size_t top, bottom, left, right;   // zeros added on each side (Keras's ((top, bottom), (left, right)))
    std::size_t out_height, out_width;      // output (OH, OW, C)

    constexpr std::size_t input_size() const noexcept { return height * width * channels; }           // per image
    constexpr std::size_t output_size() const noexcept { return out_height * out_width * channels; }  // per image
    friend constexpr bool operator==(const pad2d_geometry&, const pad2d_geometry&) = default;
};

// A call that breaks a precondition is not a constant expression, so the program does not compile.
consteval pad2d_geometry make_pad2d_geometry(std::size_t height, std::size_t width, std::size_t channels,
                                             std::size_t top, std::size_t bottom, std::size_t left,
                                             std::size_t right) {
    if (height == 0 || width == 0 || channels == 0) throw "make_pad2d_geometry: every size must be positive";
    return {height, width, channels, top, bottom, left, right, top + height + bottom, left + width + right};
}

// y = x surrounded by zeros    x (B, H, W, C) -> y (B, OH, OW, C)
template <pad2d_geometry G> void zero_pad2d_forward(std::size_t batch, const float* x, float* y) {
    constexpr std::size_t row = G.width * G.channels, out_row = G.out_width * G.channels;
    detail::for_each_image(batch, G.output_size(), [=](std::size_t b) {
        const float* xb = x + b * G.input_size();
        float* yb = y + b * G.output_size();
        std::fill_n(yb, G.top * out_row, 0.0f);
        for (std::size_t h = 0; h < G.height; ++h) {
            float* out = yb + (G.top + h) * out_row;
            std::fill_n(out, G.left * G.channels, 0.0f);
            std::copy(xb + h * row, xb + (h + 1) * row, out + G.left * G.channels);
            std::fill_n(out + G.left * G.channels + row, G.right * G.channels, 0.0f);
        }
        std::fill_n(yb + (G.top + G.height) * out_row, G.bottom * out_row, 0.0f);
    });
}

// dx = the part of dy over x (the padding's gradient is dropped)    dy (B, OH, OW, C) -> dx (B, H, W, C)
template <pad2d_geometry G> void zero_pad2d_backward(std::size_t batch, const float* dy, float* dx) {
    constexpr std::size_t row = G.width * G.channels, out_row = G.out_width * G.channels;
    detail::for_each_image(batch, G.input_size(), [=](std::size_t b) {
        const float* dyb = dy + b * G.output_size();
        float* dxb = dx + b * G.input_size();
        for (std::size_t h = 0; h < G.height; ++h) {
            const float* in = dyb + (G.top + h) * out_row + G.left * G.channels;
            std::copy(in, in + row, dxb + h * row);
        }
    });
}

}  // namespace ctnn::kernels
