// ctnn/kernels/gemm_ukernel.hpp — GEMM microkernels and the per-ISA blocking constants.
//
// The packed microkernel `gemm_ukernel<Arch, MR, NR>` updates one MR x NR tile of C with a single
// k-loop of rank-1 updates on register accumulators (BLIS / salykova design; the panel order it
// reads is drawn in gemm.hpp). `row_ukernel<Arch, RB, NV>` is its unpacked twin for a few rows
// (small batches), and `dot_ukernel` the inner-product form for dz · wᵀ at small batches.
// Not here: the five loops, packing and threading (gemm.hpp, pack.hpp, parallel.hpp).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "ctnn/detail/simd_headers.hpp"

#include "ctnn/kernels/arch.hpp"

namespace ctnn::kernels {

// The arch the GEMMs are compiled for unless told otherwise (kernels/arch.hpp).
using gemm_arch = simd_arch;

namespace detail {

// One spelling of load/store/fma/broadcast for xsimd batches and for the generic scalar fallback.
template <class Arch> struct simd_ops {
    using vec = xsimd::batch<float, Arch>;
    static constexpr std::size_t width = vec::size;
    static vec load(const float* p) noexcept { return vec::load_unaligned(p); }
    static vec load_aligned(const float* p) noexcept { return vec::load_aligned(p); }
    static void store(float* p, const vec& v) noexcept { v.store_unaligned(p); }
    static vec broadcast(float s) noexcept { return vec(s); }
    static vec fma(const vec& a, const vec& b, const vec& c) noexcept {
#if defined(__AVX512F__)
        // xsimd 8.1 has no AVX-512 fma: its fallback a * b + c is fused by GCC but not by clang.
        if constexpr (is_avx512<Arch>) return _mm512_fmadd_ps(a, b, c);
#endif
        return xsimd::fma(a, b, c);
    }
    static vec zero() noexcept { return vec(0.0f); }
    static float sum(const vec& v) noexcept { return xsimd::hadd(v); }
};
// Vector registers of an arch: 32 on AVX-512 and AArch64, 16 on AVX and SSE.
template <class Arch>
inline constexpr std::size_t vector_registers = is_avx512<Arch> || std::is_same_v<Arch, xsimd::neon64> ? 32 : 16;

template <> struct simd_ops<generic_arch> {
    using vec = float;
    static constexpr std::size_t width = 1;
    static float load(const float* p) noexcept { return *p; }
    static float load_aligned(const float* p) noexcept { return *p; }
    static void store(float* p, float v) noexcept { *p = v; }
    static float broadcast(float s) noexcept { return s; }
    static float fma(float a, float b, float c) noexcept { return a * b + c; }
    static float zero() noexcept { return 0.0f; }
    static float sum(float v) noexcept { return v; }
};

}  // namespace detail

// Blocking constants per register width (named as in BLIS):
//   MR x NR  register tile of C (MR rows x NR/width vector accumulators),
//   KC       depth of a packed block: one B micro-panel (KC x NR) stays in L1,
//   MC       rows of the packed A block (MC x KC) kept in L2,
//   NC       columns of the packed B block (KC x NC) kept in L3.
// KC and MC are maxima: the driver balances the blocks so the last one is not a sliver.
template <class Arch, std::size_t Width = detail::simd_ops<Arch>::width> struct gemm_config;

// AVX-512: 32 zmm registers -> 12 x 2 = 24 accumulators + 2 B vectors + 1 broadcast.
template <class Arch> struct gemm_config<Arch, 16> {
    static constexpr std::size_t MR = 12, NR = 32, KC = 256, MC = 120, NC = 4096;
};
// AVX/AVX2 (+FMA): 16 ymm registers -> 6 x 2 = 12 accumulators + 2 B vectors + 1 broadcast.
// KC x NR x 4 B = 16 KiB of B in L1 (32 KiB on Zen 3), MC x KC x 4 B = 144 KiB of A in L2 (512 KiB).
template <class Arch> struct gemm_config<Arch, 8> {
    static constexpr std::size_t MR = 6, NR = 16, KC = 256, MC = 144, NC = 4096;
};
// SSE (and 32-bit NEON): 16 xmm registers -> 6 x 2 accumulators.
template <class Arch> struct gemm_config<Arch, 4> {
    static constexpr std::size_t MR = 6, NR = 8, KC = 256, MC = 144, NC = 4096;
};
// AArch64 NEON: 32 q registers -> 8 x 3 = 24 accumulators + 3 B vectors + 1 broadcast (BLIS's armv8a
// sgemm shape: 11 loads per 24 FMAs, where 12 x 2 would need 14). MC is a multiple of MR, NC of NR.
template <> struct gemm_config<xsimd::neon64, 4> {
    static constexpr std::size_t MR = 8, NR = 12, KC = 256, MC = 144, NC = 4092;
};
// Generic scalar fallback: small tile the compiler can keep in registers (or vectorise itself).
template <class Arch> struct gemm_config<Arch, 1> {
    static constexpr std::size_t MR = 4, NR = 4, KC = 256, MC = 128, NC = 4096;
};

// The tile for a C at most one vector wide, known at compile time (NS of gemm: a convolution with 16
// filters, a 10-class Dense on AVX-512): the 12 x 32 tile would multiply half its columns by padding,
// so AVX-512 takes 24 x 16 instead (24 accumulators + 1 B vector, the A elements broadcast from
// memory). Each element's sum keeps its order: only which elements share a tile changes.
template <class Arch, std::size_t NS> struct gemm_config_for : gemm_config<Arch> {};
template <class Arch, std::size_t NS>
    requires(detail::simd_ops<Arch>::width == 16 && NS != 0 && NS <= 16)
struct gemm_config_for<Arch, NS> {
    static constexpr std::size_t MR = 24, NR = 16, KC = 256, MC = 120, NC = 4096;
};

// Where the microkernel reads A: a packed micro-panel (kc, MR), or A itself when packing would not
// pay (a single column panel of C reuses the A block only once), row-major or column-major with
// stride lda. Unpacked A needs all MR rows to exist; the driver packs a partial last tile instead.
enum class a_source { packed, row_major, col_major };

// How a tile starts: from zero, from a broadcast row (the bias), or from the current C (later k-blocks;
// C is then added after the k-loop: C + Σ_block, one fixed order).
enum class tile_start { zero, row, load };

// C[0:m, 0:n] = start + Ap · Bp, then Act::forward elementwise when `finish` (the last k-block).
//   ap (kc, MR)  packed A micro-panel, column after column (MR floats per k), zero-padded rows;
//                or (Src != packed) the top-left element of the MR x kc block of A, stride lda
//   bp (kc, NR)  packed B micro-panel, row after row (NR floats per k), zero-padded columns, aligned;
//                or (DirectB) the top-left element of the kc x NR block of a row-major B, stride ldb
//   row (NR)     bias slice, padded to NR (read only when start == row)
//   c            the tile's top-left element, row stride ldc; m <= MR, n <= NR (edges go through a buffer)
//   kept         (SkipsK) the packed A panel holds only kc of the block's k, those where some of its MR
//                rows is nonzero (compact_zero_k in pack.hpp); kept[p] is the k of its p-th column,
//                whose row of Bp is read. A skipped k would have added exact zeros.
template <class Arch, std::size_t MR, std::size_t NR> struct gemm_ukernel {
    using S = detail::simd_ops<Arch>;
    using vec = typename S::vec;
    static constexpr std::size_t W = S::width;
    static constexpr std::size_t NV = NR / W;  // vector accumulators per row
    static_assert(NR % W == 0, "gemm_ukernel<Arch, MR, NR>: NR must be a multiple of the SIMD width");

    template <class Act, a_source Src = a_source::packed, bool DirectB = false, bool SkipsK = false>
    static void run(std::size_t kc, const float* ap, std::size_t lda, const float* bp, std::size_t ldb,
                    tile_start start, const float* row, bool finish, float* c, std::size_t ldc, std::size_t m,
                    std::size_t n, const std::uint8_t* kept = nullptr) noexcept {
        static_assert(!SkipsK || (Src == a_source::packed && !DirectB), "gemm_ukernel: skipping k needs packed A and B");
        // Steps through A: to the next row of the tile (a_row) and to the next k (a_k).
        const std::size_t a_row = Src == a_source::packed ? 1 : Src == a_source::row_major ? lda : 1;
        const std::size_t a_k = Src == a_source::packed ? MR : Src == a_source::row_major ? 1 : lda;
        const bool full = m == MR && n == NR;
        alignas(64) float edge[MR * NR];  // an edge tile, padded to MR x NR
        float* out = full ? c : edge;
        const std::size_t ld = full ? ldc : NR;

        // C is only prefetched here (for writing: every k-block stores the tile), so its latency, likely
        // L3's, hides behind the k-loop instead of stalling the first FMAs (a later k-block reads C
        // after the loop) or the stores at the end (the first k-block, C's lines not in cache yet).
        vec acc[MR][NV];
        for (std::size_t i = 0; i < m; ++i) {
            __builtin_prefetch(c + i * ldc, 1);
            __builtin_prefetch(c + i * ldc + n - 1, 1);
        }
#pragma GCC unroll 4
        for (std::size_t v = 0; v < NV; ++v) {
            const vec init = start == tile_start::row ? S::load(row + v * W) : S::zero();
#pragma GCC unroll 32
            for (std::size_t i = 0; i < MR; ++i) acc[i][v] = init;
        }

        // The k-loop: one rank-1 update (column of Ap times row of Bp) per step.
#pragma GCC unroll 4
        for (std::size_t p = 0; p < kc; ++p) {
            const float* b_row = SkipsK ? bp + std::size_t{kept[p]} * NR : bp;
            vec b[NV];
#pragma GCC unroll 4
            for (std::size_t v = 0; v < NV; ++v) b[v] = DirectB ? S::load(b_row + v * W) : S::load_aligned(b_row + v * W);
#pragma GCC unroll 32
            for (std::size_t i = 0; i < MR; ++i) {
                const vec a = S::broadcast(ap[i * a_row]);
#pragma GCC unroll 4
                for (std::size_t v = 0; v < NV; ++v) acc[i][v] = S::fma(a, b[v], acc[i][v]);
            }
            ap += a_k;
            if constexpr (!SkipsK) bp += DirectB ? ldb : NR;
        }

        if (start == tile_start::load) {
            if (!full) copy_in(c, ldc, m, n, edge);
#pragma GCC unroll 32
            for (std::size_t i = 0; i < MR; ++i)
#pragma GCC unroll 4
                for (std::size_t v = 0; v < NV; ++v) acc[i][v] = acc[i][v] + S::load(out + i * ld + v * W);
        }
        if (finish) {
#pragma GCC unroll 32
            for (std::size_t i = 0; i < MR; ++i)
#pragma GCC unroll 4
                for (std::size_t v = 0; v < NV; ++v) acc[i][v] = Act::forward(acc[i][v]);
        }
#pragma GCC unroll 32
        for (std::size_t i = 0; i < MR; ++i)
#pragma GCC unroll 4
            for (std::size_t v = 0; v < NV; ++v) S::store(out + i * ld + v * W, acc[i][v]);
        if (!full) copy_out(edge, m, n, c, ldc);
    }

private:
    static void copy_in(const float* c, std::size_t ldc, std::size_t m, std::size_t n, float* edge) noexcept {
        for (std::size_t i = 0; i < MR; ++i)
            for (std::size_t j = 0; j < NR; ++j) edge[i * NR + j] = (i < m && j < n) ? c[i * ldc + j] : 0.0f;
    }
    static void copy_out(const float* edge, std::size_t m, std::size_t n, float* c, std::size_t ldc) noexcept {
        for (std::size_t i = 0; i < m; ++i)
            for (std::size_t j = 0; j < n; ++j) c[i * ldc + j] = edge[i * NR + j];
    }
};

// Unpacked twin of gemm_ukernel for a few rows (small batches: packing would cost more than it saves).
// C[0:RB, 0:NV*W] = row + A · B, then Act.   a (RB, k) row stride lda, b (k, NV*W) row stride ldb,
// row (NV*W) the bias slice or nullptr; c row stride ldc. All pointers may be unaligned.
template <class Arch, std::size_t RB, std::size_t NV> struct row_ukernel {
    using S = detail::simd_ops<Arch>;
    using vec = typename S::vec;
    static constexpr std::size_t W = S::width;

    template <class Act> static void run(std::size_t k, const float* a, std::size_t lda, const float* b,
                                         std::size_t ldb, const float* row, float* c, std::size_t ldc) noexcept {
        vec acc[RB][NV];
#pragma GCC unroll 16
        for (std::size_t v = 0; v < NV; ++v) {
            const vec init = row ? S::load(row + v * W) : S::zero();
#pragma GCC unroll 8
            for (std::size_t i = 0; i < RB; ++i) acc[i][v] = init;
        }
        for (std::size_t p = 0; p < k; ++p) {
            vec bv[NV];
#pragma GCC unroll 16
            for (std::size_t v = 0; v < NV; ++v) bv[v] = S::load(b + p * ldb + v * W);
#pragma GCC unroll 8
            for (std::size_t i = 0; i < RB; ++i) {
                const vec av = S::broadcast(a[i * lda + p]);
#pragma GCC unroll 16
                for (std::size_t v = 0; v < NV; ++v) acc[i][v] = S::fma(av, bv[v], acc[i][v]);
            }
        }
#pragma GCC unroll 8
        for (std::size_t i = 0; i < RB; ++i)
#pragma GCC unroll 16
            for (std::size_t v = 0; v < NV; ++v) S::store(c + i * ldc + v * W, Act::forward(acc[i][v]));
    }
};

// Inner products for C = A · Bᵀ with both operands row-major along k (dx = dz · wᵀ at small batches):
// C[i][j] = Σ_p a[i][p] · b[j][p] for RB rows of A and CB rows of B, vectorised along k, reduced at
// the end.  a (RB, k) row stride lda, b (CB, k) row stride ldb, c (RB, CB) row stride ldc.
template <class Arch, std::size_t RB, std::size_t CB> struct dot_ukernel {
    using S = detail::simd_ops<Arch>;
    using vec = typename S::vec;
    static constexpr std::size_t W = S::width;

    static void run(std::size_t k, const float* a, std::size_t lda, const float* b, std::size_t ldb, float* c,
                    std::size_t ldc) noexcept {
        vec acc[RB][CB];
#pragma GCC unroll 8
        for (std::size_t i = 0; i < RB; ++i)
#pragma GCC unroll 16
            for (std::size_t j = 0; j < CB; ++j) acc[i][j] = S::zero();
        std::size_t p = 0;
        for (; p + W <= k; p += W) {
            vec bv[CB];
#pragma GCC unroll 16
            for (std::size_t j = 0; j < CB; ++j) bv[j] = S::load(b + j * ldb + p);
#pragma GCC unroll 8
            for (std::size_t i = 0; i < RB; ++i) {
                const vec av = S::load(a + i * lda + p);
#pragma GCC unroll 16
                for (std::size_t j = 0; j < CB; ++j) acc[i][j] = S::fma(av, bv[j], acc[i][j]);
            }
        }
        for (std::size_t i = 0; i < RB; ++i)
            for (std::size_t j = 0; j < CB; ++j) {
                float s = S::sum(acc[i][j]);
                for (std::size_t q = p; q < k; ++q) s += a[i * lda + q] * b[j * ldb + q];
                c[i * ldc + j] = s;
            }
    }
};

}  // namespace ctnn::kernels
