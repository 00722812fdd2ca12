// ctnn/kernels/pool.hpp — 2-D max and average pooling (Keras MaxPooling2D / AveragePooling2D with
// padding "valid"), NHWC, statically sized.
//
// Legend: B = batch (run time); the rest is the compile-time geometry G.
//   x, dx   (B, H, W, C)     input and its gradient
//   y, dy   (B, OH, OW, C)   output and its gradient; window (oh, ow) = rows oh·SH .. oh·SH + PH - 1,
//                            columns ow·SW .. ow·SW + PW - 1 of x
// Channels are contiguous in NHWC, so every kernel runs along C in SIMD vectors (plus a scalar tail)
// with the window loops outside: no shuffles, and each window row is one stream of loads.
// Max-pool backward recomputes where each window's maximum is from x and y (no argmax buffer): the
// first element of the window, in row-major order, equal to y takes all of dy (TensorFlow's rule on
// ties). Backward kernels zero dx and then add, so overlapping windows (stride < pool) accumulate;
// windows that tile the input (stride = pool, Keras's default) store instead, on a dx zeroed only
// where no window reaches.
// Threads split the batch by image: every output and every dx element is written by one thread in
// one order, so results never depend on the thread count.
#pragma once

#include <algorithm>
#include <cstddef>

#include "ctnn/kernels/parallel.hpp"
#include "ctnn/kernels/simd.hpp"

namespace ctnn::kernels {

// Static geometry of one 2-D pooling; a structural type, used as a template argument.
struct pool2d_geometry {
    std::size_t height, width, channels;  // input (H, W, C)
    std::size_t pool_h, pool_w;           // window (PH, PW)
    std::size_t stride_h, stride_w;
    std::size_t out_height, out_width;  // output (OH, OW, C)

    constexpr std::size_t input_size() const noexcept { return height * width * channels; }           // per image
    constexpr std::size_t output_size() const noexcept { return out_height * out_width * channels; }  // per image
    constexpr std::size_t window_size() const noexcept { return pool_h * pool_w; }
    friend constexpr bool operator==(const pool2d_geometry&, const pool2d_geometry&) = default;
};

// Padding "valid": out = (in - pool) / stride + 1 (floor), as Keras's default. A call that breaks a
// precondition is not a constant expression, so the program does not compile.
consteval pool2d_geometry make_pool2d_geometry(std::size_t height, std::size_t width, std::size_t channels,
                                               std::size_t pool_h, std::size_t pool_w, std::size_t stride_h,
                                               std::size_t stride_w) {
    if (height == 0 || width == 0 || channels == 0 || pool_h == 0 || pool_w == 0)
        throw "make_pool2d_geometry: every size must be positive";
    if (stride_h == 0 || stride_w == 0) throw "make_pool2d_geometry: strides must be positive";
    if (pool_h > height || pool_w > width) throw "make_pool2d_geometry: the window must fit in the input";
    return {height, width, channels, pool_h, pool_w, stride_h, stride_w, (height - pool_h) / stride_h + 1,
            (width - pool_w) / stride_w + 1};
}

namespace detail {

// Runs body(image) for every image of the batch, the images split among threads when worth it.
template <class Body> void for_each_image(std::size_t batch, std::size_t work_per_image, Body&& body) {
    parallel::run(parallel::threads_for(batch * work_per_image), [&](int t, int nt) {
        const parallel::range mine = parallel::split(batch, nt, t, 1);
        for (std::size_t b = mine.begin; b < mine.end; ++b) body(b);
    });
}

// Offset in an image of x of channel 0 of element (i, j) of window (oh, ow).
template <pool2d_geometry G>
constexpr std::size_t window_offset(std::size_t oh, std::size_t ow, std::size_t i, std::size_t j) noexcept {
    return ((oh * G.stride_h + i) * G.width + ow * G.stride_w + j) * G.channels;
}

// Whether the windows tile the input (stride = window): then every element lies in at most one
// window, and the backward stores each window's gradients instead of adding them to a zeroed dx.
template <pool2d_geometry G> inline constexpr bool windows_tile = G.stride_h == G.pool_h && G.stride_w == G.pool_w;

// dx of one image before the windows write theirs: all zeros, or (tiling windows) only the elements
// of the rows and columns beyond the last window (the floor of the output size drops them).
template <pool2d_geometry G> void clear_gradient(float* dxb) {
    if constexpr (!windows_tile<G>) {
        std::fill_n(dxb, G.input_size(), 0.0f);
    } else {
        constexpr std::size_t covered_rows = G.out_height * G.pool_h, covered_cols = G.out_width * G.pool_w;
        if constexpr (covered_cols < G.width)
            for (std::size_t h = 0; h < covered_rows; ++h)
                std::fill_n(dxb + (h * G.width + covered_cols) * G.channels, (G.width - covered_cols) * G.channels,
                            0.0f);
        std::fill_n(dxb + covered_rows * G.width * G.channels, (G.height - covered_rows) * G.width * G.channels, 0.0f);
    }
}

}  // namespace detail

// y = max over each window    x (B, H, W, C), y (B, OH, OW, C)
// The first maximum wins (a later element replaces it only if greater), as the backward assumes.
template <pool2d_geometry G, class Arch = simd_arch>
void max_pool2d_forward(std::size_t batch, const float* x, float* y) {
    detail::for_each_image(batch, G.output_size() * G.window_size(), [=](std::size_t b) {
        const float* xb = x + b * G.input_size();
        float* yb = y + b * G.output_size();
        for (std::size_t oh = 0; oh < G.out_height; ++oh)
            for (std::size_t ow = 0; ow < G.out_width; ++ow) {
                const float* w = xb + detail::window_offset<G>(oh, ow, 0, 0);
                float* out = yb + (oh * G.out_width + ow) * G.channels;
                detail::simd_for<Arch>(0, G.channels, [=](std::size_t c, auto l) {
                    auto best = detail::load(l, w + c);
                    for (std::size_t i = 0; i < G.pool_h; ++i)
                        for (std::size_t j = 0; j < G.pool_w; ++j) {
                            const auto v = detail::load(l, w + detail::window_offset<G>(0, 0, i, j) + c);
                            best = detail::select(v > best, v, best);
                        }
                    detail::store(out + c, best);
                });
            }
    });
}

// dx = 0, then each dy added at its window's first maximum    x, dx (B, H, W, C), y, dy (B, OH, OW, C)
// y must be max_pool2d_forward's output for x.
template <pool2d_geometry G, class Arch = simd_arch>
void max_pool2d_backward(std::size_t batch, const float* x, const float* y, const float* dy, float* dx) {
    detail::for_each_image(batch, G.output_size() * G.window_size(), [=](std::size_t b) {
        const float* xb = x + b * G.input_size();
        float* dxb = dx + b * G.input_size();
        detail::clear_gradient<G>(dxb);
        for (std::size_t oh = 0; oh < G.out_height; ++oh)
            for (std::size_t ow = 0; ow < G.out_width; ++ow) {
                const std::size_t o = b * G.output_size() + (oh * G.out_width + ow) * G.channels;
                const float* w = xb + detail::window_offset<G>(oh, ow, 0, 0);
                float* dw = dxb + detail::window_offset<G>(oh, ow, 0, 0);
                const float* yo = y + o;
                const float* dyo = dy + o;
                detail::simd_for<Arch>(0, G.channels, [=](std::size_t c, auto l) {
                    const auto m = detail::load(l, yo + c);
                    const auto zero = detail::splat(l, 0.0f);
                    auto left = detail::load(l, dyo + c);  // dy not yet given to a maximum (per lane)
                    for (std::size_t i = 0; i < G.pool_h; ++i)
                        for (std::size_t j = 0; j < G.pool_w; ++j) {
                            const std::size_t at = detail::window_offset<G>(0, 0, i, j) + c;
                            const auto hit = detail::load(l, w + at) == m;
                            if constexpr (detail::windows_tile<G>)
                                detail::store(dw + at, detail::select(hit, left, zero));
                            else
                                detail::store(dw + at, detail::load(l, dw + at) + detail::select(hit, left, zero));
                            left = detail::select(hit, zero, left);
                        }
                });
            }
    });
}

// y = mean over each window    x (B, H, W, C), y (B, OH, OW, C)
template <pool2d_geometry G, class Arch = simd_arch>
void average_pool2d_forward(std::size_t batch, const float* x, float* y) {
    constexpr float scale = 1.0f / float(G.window_size());
    detail::for_each_image(batch, G.output_size() * G.window_size(), [=](std::size_t b) {
        const float* xb = x + b * G.input_size();
        float* yb = y + b * G.output_size();
        for (std::size_t oh = 0; oh < G.out_height; ++oh)
            for (std::size_t ow = 0; ow < G.out_width; ++ow) {
                const float* w = xb + detail::window_offset<G>(oh, ow, 0, 0);
                float* out = yb + (oh * G.out_width + ow) * G.channels;
                detail::simd_for<Arch>(0, G.channels, [=](std::size_t c, auto l) {
                    auto sum = detail::splat(l, 0.0f);
                    for (std::size_t i = 0; i < G.pool_h; ++i)
                        for (std::size_t j = 0; j < G.pool_w; ++j)
                            sum = sum + detail::load(l, w + detail::window_offset<G>(0, 0, i, j) + c);
                    detail::store(out + c, sum * detail::splat(l, scale));
                });
            }
    });
}

// dx = 0, then dy / (PH·PW) added on every element of its window    dy (B, OH, OW, C), dx (B, H, W, C)
template <pool2d_geometry G, class Arch = simd_arch>
void average_pool2d_backward(std::size_t batch, const float* dy, float* dx) {
    constexpr float scale = 1.0f / float(G.window_size());
    detail::for_each_image(batch, G.output_size() * G.window_size(), [=](std::size_t b) {
        float* dxb = dx + b * G.input_size();
        detail::clear_gradient<G>(dxb);
        for (std::size_t oh = 0; oh < G.out_height; ++oh)
            for (std::size_t ow = 0; ow < G.out_width; ++ow) {
                const float* dyo = dy + b * G.output_size() + (oh * G.out_width + ow) * G.channels;
                float* dw = dxb + detail::window_offset<G>(oh, ow, 0, 0);
                detail::simd_for<Arch>(0, G.channels, [=](std::size_t c, auto l) {
                    const auto g = detail::load(l, dyo + c) * detail::splat(l, scale);
                    for (std::size_t i = 0; i < G.pool_h; ++i)
                        for (std::size_t j = 0; j < G.pool_w; ++j) {
                            const std::size_t at = detail::window_offset<G>(0, 0, i, j) + c;
                            if constexpr (detail::windows_tile<G>)
                                detail::store(dw + at, g);
                            else
                                detail::store(dw + at, detail::load(l, dw + at) + g);
                        }
                });
            }
    });
}

}  // namespace ctnn::kernels
