// ctnn/kernels/simd.hpp — the small SIMD toolkit shared by the elementwise kernels: the batch type,
// one loop helper that runs the same body on an xsimd batch (vector body) and on a float (scalar
// tail), and the OpenMP switch. Not a general SIMD layer: only what the kernels in kernels/ need.
//
// The arch is xsimd's default, i.e. the widest ISA the translation unit is compiled for (-march);
// there is no runtime dispatch.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#include <xsimd/xsimd.hpp>
#if defined(__AVX2__)
#include <immintrin.h>
#endif
#if defined(_OPENMP)
#include <omp.h>
#endif

// `#pragma omp` through a macro, so builds without -fopenmp neither warn (-Wunknown-pragmas is an
// error here) nor change results: every parallel loop has a static schedule over fixed chunks.
// Extra clauses go in the argument: CTNN_OMP_PARALLEL_FOR(reduction(+ : count)). Callers branch to
// a plain loop below the size threshold rather than use an `if` clause: a parallel region that
// runs on one thread still costs about a microsecond in libgomp.
#ifndef CTNN_PRAGMA
#define CTNN_PRAGMA(x) _Pragma(#x)
#endif
#if defined(_OPENMP)
#define CTNN_OMP_PARALLEL_FOR(...) CTNN_PRAGMA(omp parallel for schedule(static) __VA_ARGS__)
#else
#define CTNN_OMP_PARALLEL_FOR(...)
#endif

namespace ctnn::kernels::detail {

using arch = xsimd::default_arch;
using batch = xsimd::batch<float, arch>;
inline constexpr std::size_t lanes = batch::size;

// Below this many elements a kernel stays on one thread: forking costs more than it saves (a
// 1000x10 softmax, a 32-row loss). Above it, two cores help on an idle machine; on an oversubscribed
// one every fork may wait a scheduler slice for its second thread (measured ~20 ms per call at load
// 12 on 2 cores), so there run with OMP_NUM_THREADS=1 (or at least OMP_WAIT_POLICY=passive).
inline constexpr std::size_t parallel_threshold = std::size_t{1} << 16;
// Whether a loop over `work` elements should fork: large enough, more than one thread allowed
// (OMP_NUM_THREADS=1 skips the region entirely), and not already inside a parallel region.
inline bool worth_threads(std::size_t work) noexcept {
#if defined(_OPENMP)
    return work > parallel_threshold && omp_get_max_threads() > 1 && !omp_in_parallel();
#else
    (void)work;
    return false;
#endif
}
// Elementwise loops are cut into chunks of this many elements (a multiple of every batch size), so
// the split and hence the results never depend on the number of threads.
inline constexpr std::size_t parallel_chunk = std::size_t{1} << 14;

// Tag selecting the lane type of one loop step: `float` for the scalar tail, `batch` for the body.
template <class T> struct lane {
    using type = T;
};
using scalar_lane = lane<float>;
using vector_lane = lane<batch>;

inline float load(scalar_lane, const float* p) noexcept { return *p; }
inline batch load(vector_lane, const float* p) noexcept { return batch::load_unaligned(p); }
inline void store(float* p, float v) noexcept { *p = v; }
inline void store(float* p, const batch& v) noexcept { v.store_unaligned(p); }
inline float splat(scalar_lane, float v) noexcept { return v; }
inline batch splat(vector_lane, float v) noexcept { return batch(v); }

// A byte mask (0 = false, anything else = true) as the lane's condition.
inline bool load_mask(scalar_lane, const std::uint8_t* p) noexcept { return *p != 0; }
inline xsimd::batch_bool<float, arch> load_mask(vector_lane, const std::uint8_t* p) noexcept {
#if defined(__AVX2__)
    if constexpr (lanes == 8) {
        // xsimd 8 widens bytes to floats one at a time (8 scalar converts); AVX2 does it in one
        // instruction. 8 lanes + __AVX2__ means the avx2 / fma3<avx2> arch.
        const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
        return batch(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes))) != batch(0.0f);
    }
#endif
    return xsimd::load_as<float, arch>(p, xsimd::unaligned_mode{}) != batch(0.0f);
}

// xsimd 8 has no scalar select; these give both lane types one spelling.
inline float select(bool cond, float a, float b) noexcept { return cond ? a : b; }
inline batch select(const xsimd::batch_bool<float, arch>& cond, const batch& a, const batch& b) noexcept {
    return xsimd::select(cond, a, b);
}

// Horizontal reductions of one lane value (identity for a float).
inline float reduce_add(float v) noexcept { return v; }
inline float reduce_add(const batch& v) noexcept { return xsimd::hadd(v); }
inline float reduce_max(float v) noexcept { return v; }
inline float reduce_max(const batch& v) noexcept {
    alignas(arch::alignment()) float tmp[lanes];
    v.store_aligned(tmp);
    return *std::max_element(tmp, tmp + lanes);
}

// One running value per lane type, so a generic body can accumulate a reduction:
//   acc.at(l) += load(l, x + k);   then   acc.sum() or acc.max()
struct lane_accumulator {
    batch vec;
    float tail;
    explicit lane_accumulator(float init) noexcept : vec(init), tail(init) {}
    batch& at(vector_lane) noexcept { return vec; }
    float& at(scalar_lane) noexcept { return tail; }
    float sum() const noexcept { return reduce_add(vec) + tail; }
    float max() const noexcept { return std::max(reduce_max(vec), tail); }
};

// Runs body(k, lane) for k = begin, begin + lanes, ... while a whole batch fits (vector body), then
// body(k, scalar_lane{}) for the rest (scalar tail). The body is written once, generically:
//   simd_for(0, n, [=](std::size_t k, auto l) { store(y + k, Act::forward(load(l, x + k))); });
// Requires begin <= end. The vector end is computed up front (not `k + lanes <= end`) so that, with
// constant bounds, GCC sees exact trip counts and neither warns nor keeps a dead tail.
//
// Bodies that store should capture by value ([=]) and are taken by value here: xsimd's stores go
// through may_alias vector types, so pointers reached through a reference (or a closure whose
// address escaped into an OpenMP region) would be reloaded after every store — measured 3x slower.
// Bodies that only accumulate (no store) may capture their accumulator by reference.
template <class Body> inline void simd_for(std::size_t begin, std::size_t end, Body body) {
    const std::size_t vector_end = begin + (end - begin) / lanes * lanes;
    for (std::size_t k = begin; k < vector_end; k += lanes) body(k, vector_lane{});
    for (std::size_t k = vector_end; k < end; ++k) body(k, scalar_lane{});
}

// simd_for over [0, n) in fixed chunks, spread over the OpenMP threads when n is large.
// Only for bodies whose steps are independent (elementwise maps, per-parameter updates).
template <class Body> inline void simd_for_parallel(std::size_t n, Body body) {
    if (!worth_threads(n)) {
        simd_for(0, n, body);
        return;
    }
    const std::size_t chunks = (n + parallel_chunk - 1) / parallel_chunk;
    CTNN_OMP_PARALLEL_FOR()
    for (std::size_t c = 0; c < chunks; ++c) {
        const std::size_t begin = c * parallel_chunk;
        simd_for(begin, std::min(n, begin + parallel_chunk), body);
    }
}

}  // namespace ctnn::kernels::detail
