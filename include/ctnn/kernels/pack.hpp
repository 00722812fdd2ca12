// ctnn/kernels/pack.hpp — copies blocks of the GEMM operands into the panel order the microkernel
// reads (drawn in gemm.hpp), zero-padding partial panels so the microkernel never branches on edges.
// pack_b can also sum the columns it copies (the bias gradient db comes for free in dw = xᵀ · dz).
// Not here: choosing the blocks (gemm.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>

#include "ctnn/kernels/gemm_ukernel.hpp"
#include "ctnn/kernels/transpose.hpp"

namespace ctnn::kernels {

// How an operand is stored: element (r, c) is p[r * ld + c] (row_major) or p[c * ld + r] (col_major).
// dx = dz · wᵀ reads w as a col_major (Out, In) matrix; dw = xᵀ · dz reads x as a col_major (In, B) one.
enum class layout { row_major, col_major };

namespace detail {

template <layout L> inline const float* element(const float* p, std::size_t ld, std::size_t r, std::size_t c) noexcept {
    return L == layout::row_major ? p + r * ld + c : p + c * ld + r;
}

}  // namespace detail

// How many k ahead the column-major pack of A prefetches (of 4, 8 and 16, 8 packed fastest here).
inline constexpr std::size_t pack_a_prefetch_distance = 8;

// Packs A[i0 : i0+mc, p0 : p0+kc] into ceil(mc/MR) micro-panels of (kc, MR): dst[panel][p][r].
template <class Arch, std::size_t MR, layout LA> void pack_a(const float* a, std::size_t lda, std::size_t i0,
                                                             std::size_t p0, std::size_t mc, std::size_t kc,
                                                             float* dst) noexcept {
    if constexpr (LA == layout::col_major) {
        // The mc rows at one k are contiguous in memory (the MR-row pieces of all panels side by
        // side): copy them k after k, prefetching the rows pack_a_prefetch_distance k ahead (lda floats
        // per k: usually another page, where the hardware prefetchers stop). Panel after panel would
        // touch each k's page once per panel (benchmarks/README.md, "Where the GEMM time goes").
        const std::size_t full = mc / MR, tail = mc - full * MR;
        for (std::size_t p = 0; p < kc; ++p) {
            const float* src = a + (p0 + p) * lda + i0;
            if (p + pack_a_prefetch_distance < kc) {
                const float* ahead = src + pack_a_prefetch_distance * lda;
                const auto first_line = reinterpret_cast<std::uintptr_t>(ahead) / 64;
                const auto last_line = reinterpret_cast<std::uintptr_t>(ahead + mc - 1) / 64;
                for (auto line = first_line; line <= last_line; ++line)
                    __builtin_prefetch(reinterpret_cast<const void*>(line * 64));
            }
            float* out = dst + p * MR;
            for (std::size_t panel = 0; panel < full; ++panel, src += MR, out += kc * MR) {
#pragma GCC unroll 16
                for (std::size_t r = 0; r < MR; ++r) out[r] = src[r];
            }
            if (tail != 0)  // the last, partial panel: zero rows below the matrix
                for (std::size_t r = 0; r < MR; ++r) out[r] = r < tail ? src[r] : 0.0f;
        }
        return;
    }
    for (std::size_t ir = 0; ir < mc; ir += MR, dst += kc * MR) {
        const std::size_t rows = std::min(MR, mc - ir);
        if (rows == MR) {
            // MR row streams read side by side; the compiler keeps MR pointers in registers.
            const float* src = a + (i0 + ir) * lda + p0;
            std::size_t p = 0;
            if constexpr (detail::has_square_transpose<Arch>) {
                // W k at a time (W = lanes): the MR rows in groups of W (the last zero-padded) are
                // transposed, and each k's column of a group stored as W floats. A partial group's
                // extra floats spill into the next k's slots: it goes first, so the full groups
                // overwrite the spill, and the last block keeps a later k to absorb its own.
                using vec = xsimd::batch<float, Arch>;
                constexpr std::size_t W = vec::size, groups = (MR + W - 1) / W;
                for (; p + W < kc; p += W) {
                    for (std::size_t g = groups; g-- > 0;) {
                        vec r[W];
                        for (std::size_t i = 0; i < W; ++i)
                            r[i] = g * W + i < MR ? vec::load_unaligned(src + (g * W + i) * lda + p) : vec(0.0f);
                        detail::transpose_vectors<Arch>(r);
                        for (std::size_t q = 0; q < W; ++q) r[q].store_unaligned(dst + (p + q) * MR + g * W);
                    }
                }
            }
            for (; p < kc; ++p)
#pragma GCC unroll 16
                for (std::size_t r = 0; r < MR; ++r) dst[p * MR + r] = src[r * lda + p];
        } else {
            const float* src = a + (i0 + ir) * lda + p0;
            for (std::size_t p = 0; p < kc; ++p)
                for (std::size_t r = 0; r < MR; ++r) dst[p * MR + r] = r < rows ? src[r * lda + p] : 0.0f;
        }
    }
}

// Drops from one packed A micro-panel (kc, MR) the k at which all MR rows are zero, moving the
// others forward in order; kept[i] is the k of the i-th column left, and the count is returned.
// The microkernel then skips those k (gemm_ukernel SkipsK), which only ever added exact zeros:
// the input images' background and ReLU's zeros make a fifth of a first layer's k-steps empty.
template <std::size_t MR> std::size_t compact_zero_k(float* panel, std::size_t kc, std::uint8_t* kept) noexcept {
    std::size_t count = 0;
    for (std::size_t p = 0; p < kc; ++p) {
        const float* column = panel + p * MR;
        // The bits without the sign (so -0.0f is zero too, and a NaN is not): an integer OR that
        // vectorizes, where float compares would not.
        std::uint32_t bits = 0;
#pragma GCC unroll 16
        for (std::size_t r = 0; r < MR; ++r) {
            std::uint32_t u;
            std::memcpy(&u, column + r, sizeof u);
            bits |= u << 1;
        }
        if (bits == 0) continue;
        if (count != p) std::copy_n(column, MR, panel + count * MR);
        kept[count++] = static_cast<std::uint8_t>(p);
    }
    return count;
}

// One full panel of a column-major B: NR columns of kc floats (column c at src + c * ldb) into
// dst[p][c], W columns x W k per register transpose; column sums in k order, as the scalar loop sums them.
template <class Arch, std::size_t NR>
void pack_b_col_major_transposed(const float* src, std::size_t ldb, std::size_t kc, float* dst, float* colsum) noexcept {
    using vec = xsimd::batch<float, Arch>;
    constexpr std::size_t W = vec::size;
    for (std::size_t h = 0; h < NR; h += W) {
        const float* col = src + h * ldb;
        vec sum = colsum ? vec::load_unaligned(colsum + h) : vec(0.0f);
        std::size_t p = 0;
        for (; p + W <= kc; p += W) {
            vec r[W];
            for (std::size_t c = 0; c < W; ++c) r[c] = vec::load_unaligned(col + c * ldb + p);
            detail::transpose_vectors<Arch>(r);
            for (std::size_t q = 0; q < W; ++q) {
                r[q].store_unaligned(dst + (p + q) * NR + h);
                sum = sum + r[q];
            }
        }
        alignas(64) float sums[W];
        sum.store_aligned(sums);
        for (; p < kc; ++p)
            for (std::size_t c = 0; c < W; ++c) {
                dst[p * NR + h + c] = col[c * ldb + p];
                sums[c] += col[c * ldb + p];
            }
        if (colsum)
            for (std::size_t c = 0; c < W; ++c) colsum[h + c] = sums[c];
    }
}

// Packs B[p0 : p0+kc, j0 : j0+nc] into ceil(nc/NR) micro-panels of (kc, NR): dst[panel][p][c].
// If colsum is given (padded to a multiple of NR), colsum[c] += Σ_p B[p0+p][j0+c], summed in p order.
template <class Arch, std::size_t NR, layout LB> void pack_b(const float* b, std::size_t ldb, std::size_t p0,
                                                             std::size_t j0, std::size_t kc, std::size_t nc, float* dst,
                                                             float* colsum) noexcept {
    using S = detail::simd_ops<Arch>;
    using vec = typename S::vec;
    constexpr std::size_t W = S::width, NV = NR / W;
    std::size_t first = 0;  // the first column the panel-by-panel loop below packs
    if constexpr (LB == layout::row_major) {
        // Without sums, the full panels are filled row after row: B is then read sequentially (as
        // the prefetchers like), not one 64-byte piece per row per panel.
        const std::size_t full = nc / NR;
        if (!colsum && full > 1) {
            for (std::size_t p = 0; p < kc; ++p) {
                const float* src = b + (p0 + p) * ldb + j0;
                for (std::size_t panel = 0; panel < full; ++panel)
#pragma GCC unroll 4
                    for (std::size_t v = 0; v < NV; ++v)
                        S::store(dst + panel * kc * NR + p * NR + v * W, S::load(src + panel * NR + v * W));
            }
            first = full * NR;
        }
    }
    dst += first * kc;
    for (std::size_t jr = first; jr < nc; jr += NR, dst += kc * NR) {
        const std::size_t cols = std::min(NR, nc - jr);
        if constexpr (LB == layout::row_major) {
            const float* src = b + p0 * ldb + j0 + jr;
            if (cols == NR) {
                vec sum[NV];
                for (std::size_t v = 0; v < NV; ++v) sum[v] = colsum ? S::load_aligned(colsum + jr + v * W) : S::zero();
                for (std::size_t p = 0; p < kc; ++p)
#pragma GCC unroll 4
                    for (std::size_t v = 0; v < NV; ++v) {
                        const vec x = S::load(src + p * ldb + v * W);
                        S::store(dst + p * NR + v * W, x);
                        sum[v] = sum[v] + x;
                    }
                if (colsum)
                    for (std::size_t v = 0; v < NV; ++v) S::store(colsum + jr + v * W, sum[v]);
            } else {
                for (std::size_t p = 0; p < kc; ++p)
                    for (std::size_t c = 0; c < NR; ++c) dst[p * NR + c] = c < cols ? src[p * ldb + c] : 0.0f;
                if (colsum)
                    for (std::size_t p = 0; p < kc; ++p)
                        for (std::size_t c = 0; c < cols; ++c) colsum[jr + c] += src[p * ldb + c];
            }
        } else {
            if constexpr (detail::has_square_transpose<Arch>) {
                if (cols == NR) {
                    pack_b_col_major_transposed<Arch, NR>(b + (j0 + jr) * ldb + p0, ldb, kc, dst,
                                                          colsum ? colsum + jr : nullptr);
                    continue;
                }
            }
            // Columns of B are contiguous: read each along k, write it down the panel (stride NR).
            for (std::size_t c = 0; c < NR; ++c) {
                if (c < cols) {
                    const float* src = b + (j0 + jr + c) * ldb + p0;
                    float sum = colsum ? colsum[jr + c] : 0.0f;
                    for (std::size_t p = 0; p < kc; ++p) {
                        dst[p * NR + c] = src[p];
                        sum += src[p];
                    }
                    if (colsum) colsum[jr + c] = sum;
                } else {
                    for (std::size_t p = 0; p < kc; ++p) dst[p * NR + c] = 0.0f;
                }
            }
        }
    }
}

}  // namespace ctnn::kernels
