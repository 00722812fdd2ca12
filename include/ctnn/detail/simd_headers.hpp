// ctnn/detail/simd_headers.hpp — xsimd and the x86 intrinsics headers, included once for every ctnn
// header, with GCC 12's false -W(maybe-)uninitialized on `__Y = __Y` in avx512fintrin.h (its
// _mm512_undefined_* idiom, reported where AVX-512 code is inlined) silenced for these headers only.
// Include this before any other header pulls in <immintrin.h>, or the pragma does not cover them.
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

#if defined(__SSE2__) || defined(__AVX__) || defined(__AVX512F__)
#include <immintrin.h>
#endif
#if defined(__aarch64__) && defined(__ARM_NEON)
#include <arm_neon.h>
#endif
#include <xsimd/xsimd.hpp>

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
