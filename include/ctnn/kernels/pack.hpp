// ctnn/kernels/pack.hpp — copies blocks of the GEMM operands into the panel order the microkernel
// reads (drawn in gemm.hpp), zero-padding partial panels so the microkernel never branches on edges.
// pack_b can also sum the columns it copies (the bias gradient db comes for free in dw = xᵀ · dz).
// Not here: choosing the blocks (gemm.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "ctnn/kernels/gemm_ukernel.hpp"

namespace ctnn::kernels {

// How an operand is stored: element (r, c) is p[r * ld + c] (row_major) or p[c * ld + r] (col_major).
// dx = dz · wᵀ reads w as a col_major (Out, In) matrix; dw = xᵀ · dz reads x as a col_major (In, B) one.
enum class layout { row_major, col_major };

namespace detail {

template <layout L> inline const float* element(const float* p, std::size_t ld, std::size_t r, std::size_t c) noexcept {
    return L == layout::row_major ? p + r * ld + c : p + c * ld + r;
}

// The transposing packs (row-major A, column-major B) move 8 x 8 blocks through AVX registers
// instead of one float at a time: 24 shuffles per 64 floats, against 64 scalar loads and stores.
#ifdef __AVX__
template <class Arch> inline constexpr bool avx_transpose = std::is_base_of_v<xsimd::avx, Arch>;

inline void transpose8x8(__m256 (&r)[8]) noexcept {
    __m256 t[8], s[8];
    for (int i = 0; i < 8; i += 2) {
        t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    }
    for (int i = 0; i < 8; i += 4) {
        s[i] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(1, 0, 1, 0));
        s[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], _MM_SHUFFLE(3, 2, 3, 2));
        s[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(1, 0, 1, 0));
        s[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], _MM_SHUFFLE(3, 2, 3, 2));
    }
    for (int i = 0; i < 4; ++i) {
        r[i] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x20);
        r[i + 4] = _mm256_permute2f128_ps(s[i], s[i + 4], 0x31);
    }
}
#else
template <class Arch> inline constexpr bool avx_transpose = false;
#endif

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
        // per k: usually another page, where the hardware prefetchers stop). Panel after panel instead
        // touched each k's page once per panel: dw = xᵀ · dz packed 2-3x slower at lda = 1000.
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
#ifdef __AVX__
            if constexpr (detail::avx_transpose<Arch> && MR <= 8) {
                // 8 k at a time: MR rows (zero-padded to 8) transposed, each k's column stored as 8
                // floats whose extra 8 - MR spill into the next k's slots, written right after. The
                // last block keeps a later k to absorb its spill.
                for (; p + 8 < kc; p += 8) {
                    __m256 r[8];
                    for (std::size_t i = 0; i < 8; ++i)
                        r[i] = i < MR ? _mm256_loadu_ps(src + i * lda + p) : _mm256_setzero_ps();
                    detail::transpose8x8(r);
                    for (std::size_t q = 0; q < 8; ++q) _mm256_storeu_ps(dst + (p + q) * MR, r[q]);
                }
            }
#endif
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

#ifdef __AVX__
// One full panel of a column-major B: NR columns of kc floats (column c at src + c * ldb) into
// dst[p][c], 8 columns x 8 k per transpose; column sums in k order, as the scalar loop sums them.
template <std::size_t NR>
void pack_b_col_major_avx(const float* src, std::size_t ldb, std::size_t kc, float* dst, float* colsum) noexcept {
    for (std::size_t h = 0; h < NR; h += 8) {
        const float* col = src + h * ldb;
        __m256 sum = colsum ? _mm256_loadu_ps(colsum + h) : _mm256_setzero_ps();
        std::size_t p = 0;
        for (; p + 8 <= kc; p += 8) {
            __m256 r[8];
            for (std::size_t c = 0; c < 8; ++c) r[c] = _mm256_loadu_ps(col + c * ldb + p);
            detail::transpose8x8(r);
            for (std::size_t q = 0; q < 8; ++q) {
                _mm256_storeu_ps(dst + (p + q) * NR + h, r[q]);
                sum = _mm256_add_ps(sum, r[q]);
            }
        }
        alignas(32) float sums[8];
        _mm256_store_ps(sums, sum);
        for (; p < kc; ++p)
            for (std::size_t c = 0; c < 8; ++c) {
                dst[p * NR + h + c] = col[c * ldb + p];
                sums[c] += col[c * ldb + p];
            }
        if (colsum)
            for (std::size_t c = 0; c < 8; ++c) colsum[h + c] = sums[c];
    }
}
#endif

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
#ifdef __AVX__
            if constexpr (detail::avx_transpose<Arch> && NR % 8 == 0) {
                if (cols == NR) {
                    pack_b_col_major_avx<NR>(b + (j0 + jr) * ldb + p0, ldb, kc, dst, colsum ? colsum + jr : nullptr);
                    continue;
                }
            }
#endif
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
