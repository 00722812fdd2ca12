// ctnn/kernels/conv.hpp — the three products of a 2-D convolution (Keras Conv2D), NHWC, statically sized.
//
// Legend: B = batch (run time); every other size is a compile-time member of the geometry G.
//   x, dx        (B, H, W, C)      input and its gradient, channels last as Keras
//   kernel, dk   (KH, KW, C, F)    = a (K, F) row-major matrix, K = KH·KW·C (G.patch_size())
//   bias, dbias  (F)
//   y, dz        (B, OH, OW, F)    output, gradient w.r.t. the output before the activation
//   P = OH·OW output pixels per image; row (b, oh, ow) of a (B·P, ·) matrix is pixel (oh, ow) of image b.
//   col          (rows, K)         im2col: row (b, oh, ow) is the KH x KW x C window of x under that
//                                  pixel, in kernel order, zeros where the window covers the padding.
//
// Stride 1 from conv_direct_min_channels input channels: forward and backward weights run on a padded
// copy of each image instead of col (kernels/conv_direct.hpp); every other product is one GEMM of
// gemm.hpp on col (im2col + GEMM, as Caffe and oneDNN's gemm convolution):
//   forward          y (rows, F)     = Act(col (rows, K) · kernel (K, F) + bias)     bias and Act fused
//   backward data    stride 1, C >= conv_transposed_min_channels: dx is the forward convolution of
//                                      dz (padded KH-1-pad_top above, KW-1-pad_left left) with the kernel
//                                      turned 180 degrees and C, F swapped: dx (B·H·W, C) = col(dz)
//                                      (B·H·W, KH·KW·F) · kernel' (KH·KW·F, C) (transposed_geometry);
//                                  otherwise dcol (rows, K) = dz (rows, F) · kernelᵀ, then col2im: dx = Σ of
//                                      each dcol row added back onto its window (overlapping windows accumulate)
//   backward weights dk (K, F)       = colᵀ · dz,  dbias = Σ rows of dz (summed while dz is packed);
//                                      for a small patch (K <= conv_small_patch: one input channel)
//                                      dk accumulates in registers instead (detail::small_patch_weights)
// Why: the GEMM is the one register-blocked, packed kernel ctnn has; im2col costs one copy of x per
// kernel tap, small next to the K·F multiply-adds per pixel once C·F is in the hundreds, and it turns
// every geometry (stride, padding, odd kernels) into the same well-tested product.
//
// The batch is cut into chunks of whole images (chunk_images<G>), so a chunk's col stays in the
// core's cache between im2col and the GEMM that reads it (one col of the whole batch would go to
// memory and back). Several chunks run on a team, each thread claiming the next chunk and running its
// GEMMs on its own; a single chunk (batch 1) runs on the calling thread, the GEMM threading itself.
// Backward weights sums over the batch: each chunk writes its own partial dk, dbias and the partials
// are added in chunk order; chunks depend on G and B only, so results never depend on the threads.
// A 1x1 kernel with stride 1 and no padding needs no im2col: x itself is col, and dcol is dx.
// Why the transposed form for backward data: its GEMM has the forward's shape (depth KH·KW·F, C
// columns) where dz · kernelᵀ has depth F only (16 in a ResNet's first stage: the tile is loaded
// and stored for 16 multiply-adds per element), and it writes dx once instead of scattering KH·KW
// partial sums into it.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <type_traits>

#include "ctnn/activations.hpp"
#include "ctnn/core/tensor.hpp"
#include "ctnn/kernels/conv_direct.hpp"
#include "ctnn/kernels/gemm.hpp"
#include "ctnn/kernels/parallel.hpp"

namespace ctnn::kernels {

// Static geometry of one 2-D convolution; a structural type, used as a template argument.
struct conv2d_geometry {
    std::size_t height, width, channels;      // input (H, W, C)
    std::size_t kernel_h, kernel_w, filters;  // kernel (KH, KW, C, F)
    std::size_t stride_h, stride_w;
    std::size_t pad_top, pad_left;  // zeros before the first row / column (after: implied by the output size)
    std::size_t out_height, out_width;  // output (OH, OW, F)

    constexpr std::size_t input_size() const noexcept { return height * width * channels; }      // per image
    constexpr std::size_t output_size() const noexcept { return out_height * out_width * filters; }  // per image
    constexpr std::size_t positions() const noexcept { return out_height * out_width; }          // P
    constexpr std::size_t patch_size() const noexcept { return kernel_h * kernel_w * channels; }  // K
    constexpr std::size_t kernel_size() const noexcept { return patch_size() * filters; }         // K·F
    // Multiply-adds x 2 of one image's forward (also of its backward data, and of its share of dk).
    constexpr std::size_t forward_flops() const noexcept { return 2 * positions() * patch_size() * filters; }
    // Every window lies inside the input and col is x itself: 1x1 kernel, stride 1, no padding.
    constexpr bool pointwise() const noexcept {
        return kernel_h == 1 && kernel_w == 1 && stride_h == 1 && stride_w == 1 && pad_top == 0 && pad_left == 0;
    }
    friend constexpr bool operator==(const conv2d_geometry&, const conv2d_geometry&) = default;
};

enum class padding { valid, same };

namespace detail {
// Keras / TensorFlow output size and leading padding along one axis.
struct conv_axis {
    std::size_t out, pad_before;
};
constexpr conv_axis conv_output_axis(std::size_t in, std::size_t k, std::size_t stride, padding pad) {
    if (pad == padding::valid) return {(in - k) / stride + 1, 0};
    const std::size_t out = (in + stride - 1) / stride;
    const std::size_t span = (out - 1) * stride + k;
    return {out, span > in ? (span - in) / 2 : 0};  // the odd extra zero goes after (TF)
}
}  // namespace detail

// valid: out = (in - k) / stride + 1; same: out = ceil(in / stride), pad_total = max((out - 1)·stride
// + k - in, 0), pad_top = pad_total / 2 (the extra row at the bottom, as TF). A call that breaks a
// precondition is not a constant expression, so the program does not compile.
consteval conv2d_geometry make_conv2d_geometry(std::size_t height, std::size_t width, std::size_t channels,
                                               std::size_t kernel_h, std::size_t kernel_w, std::size_t filters,
                                               std::size_t stride_h, std::size_t stride_w, padding pad) {
    if (height == 0 || width == 0 || channels == 0 || kernel_h == 0 || kernel_w == 0 || filters == 0)
        throw "make_conv2d_geometry: every size must be positive";
    if (stride_h == 0 || stride_w == 0) throw "make_conv2d_geometry: strides must be positive";
    if (pad == padding::valid && (kernel_h > height || kernel_w > width))
        throw "make_conv2d_geometry: with padding::valid the kernel must fit in the input";
    const detail::conv_axis rows = detail::conv_output_axis(height, kernel_h, stride_h, pad);
    const detail::conv_axis cols = detail::conv_output_axis(width, kernel_w, stride_w, pad);
    return {height,   width,    channels,  kernel_h,   kernel_w,  filters,
            stride_h, stride_w, rows.pad_before, cols.pad_before, rows.out, cols.out};
}

// col floats one chunk of images may fill: col is written by im2col and read back by the GEMM's
// packing right after, so it should stay in the core's L2 (1 MiB per core on current x86) beside
// the GEMM's packed blocks. Backward weights takes chunks 4 times larger: each chunk costs it a
// partial dk to write and add up, and its GEMM's depth is the chunk's rows anyway.
inline constexpr std::size_t conv_chunk_floats = std::size_t{1} << 17;
inline constexpr std::size_t conv_weights_chunk_floats = 4 * conv_chunk_floats;
// Patches of at most this many floats (K) take detail::small_patch_weights for dk instead of the GEMM.
inline constexpr std::size_t conv_small_patch = 16;
// At least this many chunks when the batch allows, so a team of threads balances its chunks.
inline constexpr std::size_t conv_min_chunks = 8;
// Stride-1 products read the input in place (conv_direct.hpp), and backward data is the transposed
// convolution, from this many channels: with fewer (C = 1 or 3, an image's first layer), a window row
// is too short for a tile's k-loop, or the transposed product narrower than a tile.
inline constexpr std::size_t conv_direct_min_channels = 16;

// The convolution that computes backward data for a stride-1 G: input dz (OH, OW, F), output dx
// (H, W, C), the same kernel size, padded so that every window that saw an input pixel sees its dz.
consteval conv2d_geometry transposed_geometry(conv2d_geometry g) {
    if (g.stride_h != 1 || g.stride_w != 1) throw "transposed_geometry: stride 1 only";
    return {g.out_height, g.out_width, g.filters, g.kernel_h, g.kernel_w, g.channels, 1, 1,
            g.kernel_h - 1 - g.pad_top, g.kernel_w - 1 - g.pad_left, g.height, g.width};
}
template <conv2d_geometry G>
inline constexpr bool direct_stride1 =
    G.stride_h == 1 && G.stride_w == 1 && !G.pointwise() && G.channels >= conv_direct_min_channels;
template <conv2d_geometry G> inline constexpr bool backward_data_transposed = direct_stride1<G>;

namespace detail {

// Workspace of one thread: allocated on first use, grown when needed, never shrunk.
struct conv_workspace {
    Buffer col;      // (chunk rows, K) patches, or their gradients
    Buffer partial;  // (chunks, K·F + F) per-chunk dk and dbias (the calling thread's)
    Buffer turned;   // (KH·KW·F, C) the kernel of the transposed convolution (the calling thread's)
    Buffer padded;   // one padded image (direct products)
    Buffer panels;   // the kernel and bias in NR-wide panels (direct forward; the calling thread's)
};
inline conv_workspace& conv_scratch() {
    thread_local conv_workspace ws;
    return ws;
}

// Images per chunk: col within `budget` floats, and conv_min_chunks chunks or more if B allows.
template <conv2d_geometry G>
constexpr std::size_t chunk_images(std::size_t batch, std::size_t budget = conv_chunk_floats) noexcept {
    const std::size_t by_cache = std::max<std::size_t>(1, budget / (G.positions() * G.patch_size()));
    const std::size_t by_count = std::max<std::size_t>(1, (batch + conv_min_chunks - 1) / conv_min_chunks);
    return std::min(by_cache, by_count);
}

// Images per chunk of the direct products: conv_min_chunks chunks when the batch allows (an image's
// padded copy is small, so the cache sets no limit).
constexpr std::size_t direct_chunk_images(std::size_t batch) noexcept {
    return std::max<std::size_t>(1, (batch + conv_min_chunks - 1) / conv_min_chunks);
}

// Runs body(chunk, first_image, images) for every chunk of `chunk` images: inline for one chunk (the
// GEMM inside then threads itself), else on a team whose threads claim chunks one at a time.
template <class Body>
void for_each_chunk(std::size_t batch, std::size_t chunk, std::size_t flops_per_image, Body&& body) {
    const std::size_t chunks = (batch + chunk - 1) / chunk;
    auto one = [&](std::size_t c) { body(c, c * chunk, std::min(chunk, batch - c * chunk)); };
    const auto wanted = static_cast<std::size_t>(parallel::threads_for(batch * flops_per_image / 2));  // multiply-adds
    const int threads = chunks < 2 ? 1 : static_cast<int>(std::min(chunks, wanted));
    if (threads <= 1) {
        for (std::size_t c = 0; c < chunks; ++c) one(c);
        return;
    }
    std::atomic<std::size_t> next{0};
    parallel::run(threads, [&](int, int) {
        for (std::size_t c = next.fetch_add(1, std::memory_order_relaxed); c < chunks;
             c = next.fetch_add(1, std::memory_order_relaxed))
            one(c);
    });
}

// The input columns [lo, hi) of the window whose first column is iw0 (signed), as kernel columns.
struct kernel_cols {
    std::size_t lo, hi;
};
constexpr kernel_cols inside_columns(std::ptrdiff_t iw0, std::size_t kernel_w, std::size_t width) noexcept {
    const std::ptrdiff_t lo = std::max<std::ptrdiff_t>(0, -iw0);
    const std::ptrdiff_t hi = std::min<std::ptrdiff_t>(std::ptrdiff_t(kernel_w), std::ptrdiff_t(width) - iw0);
    return {std::size_t(lo), std::size_t(std::max(lo, hi))};
}

// col (images·P, K) = the windows of x (images, H, W, C). A window row (KW·C floats) is contiguous in
// x, so it is one copy (its in-range part) plus zeros for the padding.
template <conv2d_geometry G> void im2col(std::size_t images, const float* x, float* col) {
    constexpr std::size_t H = G.height, W = G.width, C = G.channels, KH = G.kernel_h, KW = G.kernel_w;
    constexpr std::size_t span = KW * C, K = G.patch_size();
    for (std::size_t b = 0; b < images; ++b) {
        const float* image = x + b * G.input_size();
        for (std::size_t oh = 0; oh < G.out_height; ++oh)
            for (std::size_t ow = 0; ow < G.out_width; ++ow) {
                float* dst = col + ((b * G.out_height + oh) * G.out_width + ow) * K;
                const std::ptrdiff_t ih0 = std::ptrdiff_t(oh * G.stride_h) - std::ptrdiff_t(G.pad_top);
                const std::ptrdiff_t iw0 = std::ptrdiff_t(ow * G.stride_w) - std::ptrdiff_t(G.pad_left);
                const kernel_cols in = inside_columns(iw0, KW, W);
                for (std::size_t kh = 0; kh < KH; ++kh, dst += span) {
                    const std::ptrdiff_t ih = ih0 + std::ptrdiff_t(kh);
                    if (ih < 0 || ih >= std::ptrdiff_t(H)) {
                        std::fill_n(dst, span, 0.0f);
                        continue;
                    }
                    const float* src = image + std::size_t(ih) * W * C;
                    if (in.lo == 0 && in.hi == KW) {  // the usual case: a constant-size copy, inlined
                        const float* from = src + std::size_t(iw0) * C;  // (not std::copy_n: a memmove call)
                        for (std::size_t i = 0; i < span; ++i) dst[i] = from[i];
                        continue;
                    }
                    std::fill_n(dst, in.lo * C, 0.0f);
                    const float* from = src + std::size_t(iw0 + std::ptrdiff_t(in.lo)) * C;
                    std::copy_n(from, (in.hi - in.lo) * C, dst + in.lo * C);
                    std::fill_n(dst + in.hi * C, (KW - in.hi) * C, 0.0f);
                }
            }
    }
}

// dst[0, n) += src[0, n)
template <class Arch> inline void add_to(std::size_t n, const float* src, float* dst) noexcept {
    using S = simd_ops<Arch>;
    // The vector end up front (not `i + width <= n`): with a constant n GCC then sees exact trip counts.
    const std::size_t vector_end = n / S::width * S::width;
    for (std::size_t i = 0; i < vector_end; i += S::width) S::store(dst + i, S::load(dst + i) + S::load(src + i));
    for (std::size_t i = vector_end; i < n; ++i) dst[i] += src[i];
}

// dx (images, H, W, C) = 0, then each row of dcol (images·P, K) added onto its window (col2im).
template <conv2d_geometry G, class Arch> void col2im(std::size_t images, const float* dcol, float* dx) {
    constexpr std::size_t H = G.height, W = G.width, C = G.channels, KH = G.kernel_h, KW = G.kernel_w;
    constexpr std::size_t span = KW * C, K = G.patch_size();
    std::fill_n(dx, images * G.input_size(), 0.0f);
    for (std::size_t b = 0; b < images; ++b) {
        float* image = dx + b * G.input_size();
        for (std::size_t oh = 0; oh < G.out_height; ++oh)
            for (std::size_t ow = 0; ow < G.out_width; ++ow) {
                const float* src = dcol + ((b * G.out_height + oh) * G.out_width + ow) * K;
                const std::ptrdiff_t ih0 = std::ptrdiff_t(oh * G.stride_h) - std::ptrdiff_t(G.pad_top);
                const std::ptrdiff_t iw0 = std::ptrdiff_t(ow * G.stride_w) - std::ptrdiff_t(G.pad_left);
                const kernel_cols in = inside_columns(iw0, KW, W);
                for (std::size_t kh = 0; kh < KH; ++kh, src += span) {
                    const std::ptrdiff_t ih = ih0 + std::ptrdiff_t(kh);
                    if (ih < 0 || ih >= std::ptrdiff_t(H) || in.lo >= in.hi) continue;
                    float* dst = image + (std::size_t(ih) * W + std::size_t(iw0 + std::ptrdiff_t(in.lo))) * C;
                    if (in.lo == 0 && in.hi == KW)
                        add_to<Arch>(span, src, dst);
                    else
                        add_to<Arch>((in.hi - in.lo) * C, src + in.lo * C, dst);
                }
            }
    }
}


// Columns [f0, f0 + NV·width) of dk (K, F) = colᵀ · dz and of db = Σ rows of dz, over `rows` rows of
// col (rows, K) and dz (rows, F): the K x NV block of dk stays in registers while the rows stream by.
template <class Arch, std::size_t K, std::size_t F, std::size_t NV>
void small_patch_weights_block(std::size_t rows, const float* col, const float* dz, std::size_t f0, float* dk,
                               float* db) {
    using S = simd_ops<Arch>;
    using vec = typename S::vec;
    constexpr std::size_t W = S::width;
    vec acc[K][NV], sum[NV];
    for (std::size_t v = 0; v < NV; ++v) {
        sum[v] = S::zero();
        for (std::size_t k = 0; k < K; ++k) acc[k][v] = S::zero();
    }
    for (std::size_t r = 0; r < rows; ++r) {
        const float* a = col + r * K;
        const float* g = dz + r * F + f0;
        vec gv[NV];
        for (std::size_t v = 0; v < NV; ++v) {
            gv[v] = S::load(g + v * W);
            sum[v] = sum[v] + gv[v];
        }
        for (std::size_t k = 0; k < K; ++k) {
            const vec ak = S::broadcast(a[k]);
            for (std::size_t v = 0; v < NV; ++v) acc[k][v] = S::fma(ak, gv[v], acc[k][v]);
        }
    }
    for (std::size_t v = 0; v < NV; ++v) {
        S::store(db + f0 + v * W, sum[v]);
        for (std::size_t k = 0; k < K; ++k) S::store(dk + k * F + f0 + v * W, acc[k][v]);
    }
}

// dk (K, F) = colᵀ · dz and db (F) = Σ rows of dz (overwrite) for a small patch K (a one-channel
// first layer: K = 9). The GEMM would pack both operands, each element of which it then uses only K
// or F times, into a tile of MR >= K rows mostly of padding; here every row of col and dz is read
// once per block of columns and dk accumulates in registers.
template <class Arch, std::size_t K, std::size_t F>
void small_patch_weights(std::size_t rows, const float* col, const float* dz, float* dk, float* db) {
    constexpr std::size_t W = simd_ops<Arch>::width;
    // Blocks of NV vectors take K·NV + NV + 2 registers.
    constexpr std::size_t fit = (vector_registers<Arch> - 4) / (K + 1);
    constexpr std::size_t NV = std::max<std::size_t>(1, std::min<std::size_t>(fit, F / W));
    constexpr std::size_t blocks_end = F / (NV * W) * (NV * W), vectors_end = F / W * W;  // (constant trip counts)
    for (std::size_t f0 = 0; f0 < blocks_end; f0 += NV * W)
        small_patch_weights_block<Arch, K, F, NV>(rows, col, dz, f0, dk, db);
    for (std::size_t f0 = blocks_end; f0 < vectors_end; f0 += W)
        small_patch_weights_block<Arch, K, F, 1>(rows, col, dz, f0, dk, db);
    for (std::size_t f0 = vectors_end; f0 < F; ++f0) {  // columns narrower than a vector
        float sum = 0.0f;
        for (std::size_t k = 0; k < K; ++k) dk[k * F + f0] = 0.0f;
        for (std::size_t r = 0; r < rows; ++r) {
            const float g = dz[r * F + f0];
            sum += g;
            for (std::size_t k = 0; k < K; ++k) dk[k * F + f0] += col[r * K + k] * g;
        }
        db[f0] = sum;
    }
}

}  // namespace detail

// y = Act(conv(x, kernel) + bias)    x (B, H, W, C), kernel (KH, KW, C, F), bias (F), y (B, OH, OW, F)
// Act: an elementwise activation policy (ctnn/activations.hpp), applied on the GEMM's register tile.
template <conv2d_geometry G, class Act, class Arch = simd_arch>
void conv2d_forward(std::size_t batch, const float* x, const float* kernel, const float* bias, float* y) {
    static_assert(Act::elementwise, "conv2d_forward<G, Act>: only elementwise activations (the layer applies Softmax)");
    constexpr std::size_t K = G.patch_size(), F = G.filters, P = G.positions();
    if constexpr (direct_stride1<G>) {
        constexpr std::size_t NR = gemm_config_for<Arch, F>::NR, panels = direct::panel_count<G, Arch>();
        float* packed = detail::reserve(detail::conv_scratch().panels, panels * NR * (K + 1));
        direct::pack_kernel<G, Arch>(kernel, bias, packed, packed + panels * NR * K);
        detail::for_each_chunk(batch, detail::direct_chunk_images(batch), G.forward_flops(),
                               [&](std::size_t, std::size_t first, std::size_t images) {
                                   float* xpad = detail::reserve(detail::conv_scratch().padded,
                                                                 direct::padded_floats<G, Arch>());
                                   for (std::size_t b = first; b < first + images; ++b) {
                                       direct::pad_image<G, Arch>(x + b * G.input_size(), xpad);
                                       direct::forward_image<G, Act, Arch>(xpad, packed, packed + panels * NR * K,
                                                                           y + b * G.output_size());
                                   }
                               });
        return;
    }
    detail::for_each_chunk(batch, detail::chunk_images<G>(batch), G.forward_flops(),
                           [&](std::size_t, std::size_t first, std::size_t images) {
                               const std::size_t rows = images * P;
                               const float* a = x + first * G.input_size();
                               if constexpr (!G.pointwise()) {
                                   float* col = detail::reserve(detail::conv_scratch().col, rows * K);
                                   detail::im2col<G>(images, a, col);
                                   a = col;
                               }
                               gemm<Arch, layout::row_major, layout::row_major, Act, 0, F, K>(
                                   rows, F, K, a, K, kernel, F, y + first * G.output_size(), F, bias);
                           });
}

// dx = gradient w.r.t. x (overwritten)    dz (B, OH, OW, F), kernel (KH, KW, C, F), dx (B, H, W, C)
template <conv2d_geometry G, class Arch = simd_arch>
void conv2d_backward_data(std::size_t batch, const float* dz, const float* kernel, float* dx) {
    constexpr std::size_t K = G.patch_size(), F = G.filters, P = G.positions();
    if constexpr (backward_data_transposed<G>) {
        // kernel'[KH-1-kh][KW-1-kw][f][c] = kernel[kh][kw][c][f]
        constexpr conv2d_geometry T = transposed_geometry(G);
        constexpr std::size_t KH = G.kernel_h, KW = G.kernel_w, C = G.channels;
        float* turned = detail::reserve(detail::conv_scratch().turned, K * F);
        for (std::size_t kh = 0; kh < KH; ++kh)
            for (std::size_t kw = 0; kw < KW; ++kw) {
                const float* from = kernel + (kh * KW + kw) * C * F;
                float* to = turned + ((KH - 1 - kh) * KW + (KW - 1 - kw)) * F * C;
                for (std::size_t c = 0; c < C; ++c)
                    for (std::size_t f = 0; f < F; ++f) to[f * C + c] = from[c * F + f];
            }
        conv2d_forward<T, Linear, Arch>(batch, dz, turned, nullptr, dx);
        return;
    }
    detail::for_each_chunk(batch, detail::chunk_images<G>(batch), G.forward_flops(),
                           [&](std::size_t, std::size_t first, std::size_t images) {
                               const std::size_t rows = images * P;
                               float* dxc = dx + first * G.input_size();
                               // dcol = dz · kernelᵀ: kernelᵀ (F, K) is the kernel read column-major.
                               float* dcol =
                                   G.pointwise() ? dxc : detail::reserve(detail::conv_scratch().col, rows * K);
                               gemm<Arch, layout::row_major, layout::col_major, Linear, 0, K, F>(
                                   rows, K, F, dz + first * G.output_size(), F, kernel, F, dcol, K);
                               if constexpr (!G.pointwise()) detail::col2im<G, Arch>(images, dcol, dxc);
                           });
}

// dk = Σ over the batch and the positions of window ⊗ dz, dbias = Σ dz (both overwritten; sums, not
// means: dz already carries the loss's 1/B)    x (B, H, W, C), dz (B, OH, OW, F), dk (KH, KW, C, F), dbias (F)
template <conv2d_geometry G, class Arch = simd_arch>
void conv2d_backward_weights(std::size_t batch, const float* x, const float* dz, float* dkernel, float* dbias) {
    constexpr std::size_t K = G.patch_size(), F = G.filters, P = G.positions(), KF = K * F;
    if (batch == 0) {
        std::fill_n(dkernel, KF, 0.0f);
        std::fill_n(dbias, F, 0.0f);
        return;
    }
    constexpr bool direct_weights = direct_stride1<G> && direct::weights_direct<G, Arch>;
    const std::size_t chunk =
        direct_weights ? detail::direct_chunk_images(batch) : detail::chunk_images<G>(batch, conv_weights_chunk_floats);
    const std::size_t chunks = (batch + chunk - 1) / chunk;
    // One chunk writes dk and dbias directly; several write partials (chunk c at c · (K·F + F)).
    float* partial = chunks > 1 ? detail::reserve(detail::conv_scratch().partial, chunks * (KF + F)) : nullptr;
    detail::for_each_chunk(batch, chunk, G.forward_flops(), [&](std::size_t c, std::size_t first, std::size_t images) {
        float* dk = partial ? partial + c * (KF + F) : dkernel;
        float* db = partial ? dk + KF : dbias;
        if constexpr (direct_weights) {
            float* xpad = detail::reserve(detail::conv_scratch().padded, direct::padded_floats<G, Arch>());
            for (std::size_t b = first; b < first + images; ++b) {
                direct::pad_image<G, Arch>(x + b * G.input_size(), xpad);
                direct::weights_image<G, Arch>(xpad, dz + b * G.output_size(), dk, db, b == first);
            }
            return;
        }
        const std::size_t rows = images * P;
        const float* a = x + first * G.input_size();
        if constexpr (!G.pointwise()) {
            float* col = detail::reserve(detail::conv_scratch().col, rows * K);
            detail::im2col<G>(images, a, col);
            a = col;
        }
        if constexpr (K <= conv_small_patch)
            detail::small_patch_weights<Arch, K, F>(rows, a, dz + first * G.output_size(), dk, db);
        else  // colᵀ (K, rows) is col read column-major
            gemm<Arch, layout::col_major, layout::row_major, Linear, K, F, 0>(K, F, rows, a, K,
                                                                             dz + first * G.output_size(), F, dk, F,
                                                                             nullptr, db);
    });
    if (!partial) return;
    // dk, dbias = Σ_c partial c, in chunk order.
    std::copy_n(partial, KF, dkernel);
    std::copy_n(partial + KF, F, dbias);
    for (std::size_t c = 1; c < chunks; ++c) {
        detail::add_to<Arch>(KF, partial + c * (KF + F), dkernel);
        detail::add_to<Arch>(F, partial + c * (KF + F) + KF, dbias);
    }
}

}  // namespace ctnn::kernels
