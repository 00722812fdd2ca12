// ctnn/kernels/conv_direct.hpp — stride-1 convolution without im2col, NHWC: the forward product (and so
// backward data, the transposed convolution) and backward weights, on a zero-padded copy of each image.
//
// Legend (G a stride-1 conv2d_geometry, kernels/conv.hpp):
//   xpad  (Hp, Wp, C)  one image with its padding written out: Hp = OH + KH − 1 rows of Wp = OW + KW − 1
//                      pixels, pixel (ih, iw) of x at (ih + pad_top, iw + pad_left), zeros elsewhere
//   v = oh·Wp + ow     an output pixel numbered on the padded grid (0 <= ow < Wp: the KW − 1 columns with
//                      ow >= OW are computed and dropped, about 7% extra work for 28 columns and a 3x3 kernel)
// Kernel row kh of pixel v's window is the KW·C floats at xpad + (v + kh·Wp)·C, and consecutive v are
// C floats apart, so for each kh the windows form a matrix with row stride C read in place:
//   forward           y[v] = Act(bias + Σ_kh Σ_p xpad[(v + kh·Wp)·C + p] · kernel[kh·KW·C + p])
//   backward weights  dk[kh·KW·C + p] = Σ_v xpad[(v + kh·Wp)·C + p] ⊗ dz[v],  db = Σ_v dz[v] (real v only)
// Each runs a register tile over the sum, with the A operand broadcast straight from xpad: NR columns
// as the GEMM's tile for this width (gemm_config_for); in the forward, one whole output row (OW pixels,
// nothing dropped) when the registers hold it, else the GEMM's MR pixels v.
// Why: im2col copies every input float KH·KW times before the GEMM reads it, as many bytes written as
// multiply-adds done per float when C·F is small (16 x 16 in a ResNet's first stage); the padded copy
// costs one pass. Each element's sum has one fixed order (kh, then p; images and pixels in order for
// dk), so results do not depend on the thread count.
#pragma once

#include <algorithm>
#include <cstddef>

#include "ctnn/activations.hpp"
#include "ctnn/core/tensor.hpp"
#include "ctnn/kernels/gemm_ukernel.hpp"

namespace ctnn::kernels::direct {

// The padded image of a stride-1 geometry G (the fields of conv2d_geometry, so any struct with them).
template <auto G> struct padded_image {
    static_assert(G.stride_h == 1 && G.stride_w == 1, "direct convolution: stride 1 only");
    static constexpr std::size_t rows = G.out_height + G.kernel_h - 1;  // Hp
    static constexpr std::size_t cols = G.out_width + G.kernel_w - 1;   // Wp
    static constexpr std::size_t pixels = G.out_height * cols;          // v = 0 .. pixels − 1
};

// Floats of one padded image: the grid, then slack for the reads of the last tile past its end (a row
// tile runs past the last v by up to MR pixels, a weights tile past the last p by up to MR floats).
template <auto G, class Arch> constexpr std::size_t padded_floats() {
    using P = padded_image<G>;
    constexpr std::size_t MR = gemm_config_for<Arch, G.filters>::MR;
    return (P::rows * P::cols + MR + G.kernel_w) * G.channels + MR;
}

// xpad = image x (H, W, C) with its zeros around it; xpad holds padded_floats<G, Arch>() floats.
template <auto G, class Arch> void pad_image(const float* x, float* xpad) {
    using P = padded_image<G>;
    constexpr std::size_t C = G.channels, W = G.width, Wp = P::cols, left = G.pad_left * C,
                          right = (Wp - G.pad_left - W) * C;
    std::fill_n(xpad, G.pad_top * Wp * C, 0.0f);
    float* row = xpad + G.pad_top * Wp * C;
    for (std::size_t ih = 0; ih < G.height; ++ih, row += Wp * C) {
        std::fill_n(row, left, 0.0f);
        std::copy_n(x + ih * W * C, W * C, row + left);
        std::fill_n(row + left + W * C, right, 0.0f);
    }
    std::fill(row, xpad + padded_floats<G, Arch>(), 0.0f);
}

// The kernel (K, F) as F/NR panels (the last zero-padded), each (K, NR) row after row; bias likewise
// (zeros without one).
template <auto G, class Arch> constexpr std::size_t panel_count() {
    constexpr std::size_t NR = gemm_config_for<Arch, G.filters>::NR;
    return (G.filters + NR - 1) / NR;
}
template <auto G, class Arch> void pack_kernel(const float* kernel, const float* bias, float* panels, float* bias_panels) {
    constexpr std::size_t NR = gemm_config_for<Arch, G.filters>::NR, K = G.patch_size(), F = G.filters;
    for (std::size_t j = 0; j < panel_count<G, Arch>(); ++j) {
        const std::size_t cols = std::min(NR, F - j * NR);
        float* panel = panels + j * K * NR;
        for (std::size_t k = 0; k < K; ++k) {
            std::copy_n(kernel + k * F + j * NR, cols, panel + k * NR);
            std::fill(panel + k * NR + cols, panel + (k + 1) * NR, 0.0f);
        }
        for (std::size_t c = 0; c < NR; ++c) bias_panels[j * NR + c] = (bias && c < cols) ? bias[j * NR + c] : 0.0f;
    }
}

// Whether the forward's tile is one output row: OW x NV accumulators, the B vectors and a broadcast
// fit in the registers.
template <auto G, class Arch> constexpr bool forward_by_rows() {
    constexpr std::size_t NV = gemm_config_for<Arch, G.filters>::NR / detail::simd_ops<Arch>::width;
    return G.out_width * NV + NV + 1 <= detail::vector_registers<Arch>;
}

// y (OH, OW, F) of one image from its xpad: tiles of MR pixels v (one output row, or the GEMM's MR),
// each across every panel.
template <auto G, class Act, class Arch>
void forward_image(const float* xpad, const float* panels, const float* bias_panels, float* y) {
    using S = detail::simd_ops<Arch>;
    using vec = typename S::vec;
    using P = padded_image<G>;
    constexpr bool by_rows = forward_by_rows<G, Arch>();
    constexpr std::size_t NR = gemm_config_for<Arch, G.filters>::NR,
                          MR = by_rows ? G.out_width : gemm_config_for<Arch, G.filters>::MR;
    constexpr std::size_t W = S::width, NV = NR / W, C = G.channels, F = G.filters, KH = G.kernel_h,
                          KWC = G.kernel_w * C, K = G.patch_size(), Wp = P::cols, OW = G.out_width;
    constexpr std::size_t step = by_rows ? Wp : MR;  // from one tile's first v to the next one's
    for (std::size_t v0 = 0; v0 < P::pixels; v0 += step) {
        for (std::size_t j = 0; j < panel_count<G, Arch>(); ++j) {
            vec acc[MR][NV];
#pragma GCC unroll 4
            for (std::size_t v = 0; v < NV; ++v) {
                const vec init = S::load(bias_panels + j * NR + v * W);
#pragma GCC unroll 32
                for (std::size_t i = 0; i < MR; ++i) acc[i][v] = init;
            }
            const float* b = panels + j * K * NR;
            for (std::size_t kh = 0; kh < KH; ++kh) {
                const float* a = xpad + (v0 + kh * Wp) * C;
#pragma GCC unroll 4
                for (std::size_t p = 0; p < KWC; ++p, b += NR) {
                    vec bv[NV];
#pragma GCC unroll 4
                    for (std::size_t v = 0; v < NV; ++v) bv[v] = S::load(b + v * W);
#pragma GCC unroll 32
                    for (std::size_t i = 0; i < MR; ++i) {
                        const vec av = S::broadcast(a[i * C + p]);
#pragma GCC unroll 4
                        for (std::size_t v = 0; v < NV; ++v) acc[i][v] = S::fma(av, bv[v], acc[i][v]);
                    }
                }
            }
            const std::size_t cols = std::min(NR, F - j * NR);
#pragma GCC unroll 32
            for (std::size_t i = 0; i < MR; ++i) {
                const std::size_t pixel = v0 + i, oh = pixel / Wp, ow = pixel - oh * Wp;
                if (pixel >= P::pixels || ow >= OW) continue;  // past the image, or a dropped column
                float* out = y + (oh * OW + ow) * F + j * NR;
                if (cols == NR) {
#pragma GCC unroll 4
                    for (std::size_t v = 0; v < NV; ++v) S::store(out + v * W, Act::forward(acc[i][v]));
                } else {
                    alignas(64) float row[NR];
                    for (std::size_t v = 0; v < NV; ++v) S::store(row + v * W, Act::forward(acc[i][v]));
                    std::copy_n(row, cols, out);
                }
            }
        }
    }
}

// Backward weights needs whole panels of dz (F a multiple of NR); otherwise conv.hpp takes im2col.
template <auto G, class Arch>
inline constexpr bool weights_direct = G.filters % gemm_config_for<Arch, G.filters>::NR == 0;

// dk (K, F) and db (F) += (or =, when first) the sums over one image's pixels; dz (OH, OW, F).
template <auto G, class Arch>
void weights_image(const float* xpad, const float* dz, float* dk, float* db, bool first) {
    using S = detail::simd_ops<Arch>;
    using vec = typename S::vec;
    using P = padded_image<G>;
    constexpr std::size_t MR = gemm_config_for<Arch, G.filters>::MR, NR = gemm_config_for<Arch, G.filters>::NR;
    constexpr std::size_t W = S::width, NV = NR / W, C = G.channels, F = G.filters, KH = G.kernel_h,
                          KWC = G.kernel_w * C, Wp = P::cols, OH = G.out_height, OW = G.out_width;
    static_assert(weights_direct<G, Arch>, "direct::weights_image: F must be a multiple of the tile's NR");
    for (std::size_t kh = 0; kh < KH; ++kh)
        for (std::size_t p0 = 0; p0 < KWC; p0 += MR) {
            const std::size_t rows = std::min(MR, KWC - p0);  // rows of dk in this tile
            for (std::size_t j = 0; j < F / NR; ++j) {
                float* tile = dk + (kh * KWC + p0) * F + j * NR;
                vec acc[MR][NV];
#pragma GCC unroll 32
                for (std::size_t i = 0; i < MR; ++i)
#pragma GCC unroll 4
                    for (std::size_t v = 0; v < NV; ++v)
                        acc[i][v] = (first || i >= rows) ? S::zero() : S::load(tile + i * F + v * W);
                for (std::size_t oh = 0; oh < OH; ++oh) {
                    const float* a = xpad + ((oh + kh) * Wp) * C + p0;
                    const float* g = dz + oh * OW * F + j * NR;
#pragma GCC unroll 2
                    for (std::size_t ow = 0; ow < OW; ++ow, a += C, g += F) {
                        vec gv[NV];
#pragma GCC unroll 4
                        for (std::size_t v = 0; v < NV; ++v) gv[v] = S::load(g + v * W);
#pragma GCC unroll 32
                        for (std::size_t i = 0; i < MR; ++i) {
                            const vec av = S::broadcast(a[i]);
#pragma GCC unroll 4
                            for (std::size_t v = 0; v < NV; ++v) acc[i][v] = S::fma(av, gv[v], acc[i][v]);
                        }
                    }
                }
                for (std::size_t i = 0; i < rows; ++i)
#pragma GCC unroll 4
                    for (std::size_t v = 0; v < NV; ++v) S::store(tile + i * F + v * W, acc[i][v]);
            }
        }
    // db: the pixels' dz rows summed in order.
    constexpr std::size_t vectors = F / W;
    for (std::size_t v = 0; v < vectors; ++v) {
        vec sum = first ? S::zero() : S::load(db + v * W);
        for (std::size_t pixel = 0; pixel < OH * OW; ++pixel) sum = sum + S::load(dz + pixel * F + v * W);
        S::store(db + v * W, sum);
    }
}

}  // namespace ctnn::kernels::direct
