// ctnn/kernels/transpose.hpp — W x W float transposes in registers (W = the arch's lanes), and a
// block transpose built on them. The transposing packs (pack.hpp) and the sparse products
// (sparse.hpp) use them to move whole vectors instead of one float at a time: 24 shuffles per 64
// floats on AVX, 64 per 256 on AVX-512, against one load and one store per float.
//
// xsimd 8 has no transpose, so each ISA has its own few lines of intrinsics; an arch without them
// (has_square_transpose<Arch> false) takes the scalar loops.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

#include "ctnn/detail/simd_headers.hpp"

#include "ctnn/kernels/arch.hpp"

namespace ctnn::kernels::detail {

#if defined(__AVX512F__)
// 16 x 16: pairs of rows interleaved (unpack), then groups of four (shuffle: every 128-bit lane now
// holds a 4 x 4 transposed block), then the 128-bit lanes gathered across rows (two shuffle_f32x4).
inline void transpose_square(__m512 (&r)[16]) noexcept {
    __m512 t[16];
    for (int i = 0; i < 16; i += 2) {
        t[i] = _mm512_unpacklo_ps(r[i], r[i + 1]);
        t[i + 1] = _mm512_unpackhi_ps(r[i], r[i + 1]);
    }
    __m512 s[16];  // s[4g + c], 128-bit lane L: column 4L + c of rows 4g .. 4g + 3
    for (int g = 0; g < 16; g += 4) {
        s[g] = _mm512_shuffle_ps(t[g], t[g + 2], 0x44);
        s[g + 1] = _mm512_shuffle_ps(t[g], t[g + 2], 0xEE);
        s[g + 2] = _mm512_shuffle_ps(t[g + 1], t[g + 3], 0x44);
        s[g + 3] = _mm512_shuffle_ps(t[g + 1], t[g + 3], 0xEE);
    }
    for (int c = 0; c < 4; ++c) {
        const __m512 low_lo = _mm512_shuffle_f32x4(s[c], s[4 + c], 0x44);   // lanes 0, 1 of rows 0-3 and 4-7
        const __m512 low_hi = _mm512_shuffle_f32x4(s[8 + c], s[12 + c], 0x44);
        const __m512 high_lo = _mm512_shuffle_f32x4(s[c], s[4 + c], 0xEE);  // lanes 2, 3
        const __m512 high_hi = _mm512_shuffle_f32x4(s[8 + c], s[12 + c], 0xEE);
        r[c] = _mm512_shuffle_f32x4(low_lo, low_hi, 0x88);
        r[4 + c] = _mm512_shuffle_f32x4(low_lo, low_hi, 0xDD);
        r[8 + c] = _mm512_shuffle_f32x4(high_lo, high_hi, 0x88);
        r[12 + c] = _mm512_shuffle_f32x4(high_lo, high_hi, 0xDD);
    }
}
#endif

#if defined(__AVX__)
// 8 x 8: unpack, shuffle, then exchange the 128-bit halves.
inline void transpose_square(__m256 (&r)[8]) noexcept {
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
#endif

#if defined(__SSE2__)
inline void transpose_square(__m128 (&r)[4]) noexcept { _MM_TRANSPOSE4_PS(r[0], r[1], r[2], r[3]); }
#endif

#if defined(__aarch64__) && defined(__ARM_NEON)
// 4 x 4: 32-bit pairs, then 64-bit pairs.
inline void transpose_square(float32x4_t (&r)[4]) noexcept {
    const float32x4_t t0 = vtrn1q_f32(r[0], r[1]), t1 = vtrn2q_f32(r[0], r[1]);
    const float32x4_t t2 = vtrn1q_f32(r[2], r[3]), t3 = vtrn2q_f32(r[2], r[3]);
    const auto pairs = [](float32x4_t v) { return vreinterpretq_f64_f32(v); };
    r[0] = vreinterpretq_f32_f64(vtrn1q_f64(pairs(t0), pairs(t2)));
    r[1] = vreinterpretq_f32_f64(vtrn1q_f64(pairs(t1), pairs(t3)));
    r[2] = vreinterpretq_f32_f64(vtrn2q_f64(pairs(t0), pairs(t2)));
    r[3] = vreinterpretq_f32_f64(vtrn2q_f64(pairs(t1), pairs(t3)));
}
#endif

template <class Arch> struct square_transpose_traits {
    static constexpr bool available = false;
};
template <class Arch>
    requires(!std::is_same_v<Arch, generic_arch>)
struct square_transpose_traits<Arch> {
    using vec = xsimd::batch<float, Arch>;
    using reg = typename vec::register_type;
    static constexpr std::size_t W = vec::size;
    // An overload of transpose_square above for this arch's register type.
    static constexpr bool available = requires(reg (&r)[W]) { transpose_square(r); };
};

// Whether Arch has a W x W register transpose (else the callers take scalar loops).
template <class Arch> inline constexpr bool has_square_transpose = square_transpose_traits<Arch>::available;

// Transposes the W vectors r[0 .. W) in place: r[i][j] becomes r[j][i].
template <class Arch> inline void transpose_vectors(xsimd::batch<float, Arch>* r) noexcept {
    using traits = square_transpose_traits<Arch>;
    typename traits::reg x[traits::W];
    for (std::size_t i = 0; i < traits::W; ++i) x[i] = r[i];
    transpose_square(x);
    for (std::size_t i = 0; i < traits::W; ++i) r[i] = x[i];
}

// t[c][r] = a[r][c] for r < rows, c < cols: a (rows, cols) with row stride lda, t with row stride ldt.
// W x W blocks through registers where they fit, single floats elsewhere.
template <class Arch>
inline void transpose_block(const float* a, std::size_t lda, std::size_t rows, std::size_t cols, float* t,
                            std::size_t ldt) noexcept {
    std::size_t r = 0;
    if constexpr (has_square_transpose<Arch>) {
        using vec = xsimd::batch<float, Arch>;
        constexpr std::size_t W = vec::size;
        const std::size_t row_end = rows / W * W, col_end = cols / W * W;  // up front: GCC sees the trip counts
        for (; r < row_end; r += W) {
            for (std::size_t c = 0; c < col_end; c += W) {
                vec block[W];
                for (std::size_t i = 0; i < W; ++i) block[i] = vec::load_unaligned(a + (r + i) * lda + c);
                transpose_vectors<Arch>(block);
                for (std::size_t i = 0; i < W; ++i) block[i].store_unaligned(t + (c + i) * ldt + r);
            }
            for (std::size_t c = col_end; c < cols; ++c)
                for (std::size_t i = 0; i < W; ++i) t[c * ldt + r + i] = a[(r + i) * lda + c];
        }
    }
    for (; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) t[c * ldt + r] = a[r * lda + c];
}

}  // namespace ctnn::kernels::detail
