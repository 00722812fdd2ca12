// ctnn/kernels/simd.hpp — the small SIMD toolkit shared by the elementwise kernels: the batch type,
// one loop helper that runs the same body on an xsimd batch (vector body) and on a float (scalar
// tail), and the switch to threads. Not a general SIMD layer: only what the kernels in kernels/ need.
//
// Every helper is a template on the xsimd arch (kernels/arch.hpp): a kernel instantiated for
// xsimd::sse2 in a translation unit compiled for AVX-512 runs SSE2 code, which is how the tests check
// every ISA level that one build contains.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "ctnn/detail/simd_headers.hpp"

#include "ctnn/kernels/arch.hpp"
#include "ctnn/kernels/parallel.hpp"

// `#pragma omp` through a macro, so builds without -fopenmp do not warn (-Wunknown-pragmas is an
// error here). ctnn's own loops no longer use it: they run on parallel::run's thread team (one team
// for every kernel, which stays awake between consecutive calls); it remains for code outside the
// kernels. Extra clauses go in the argument: CTNN_OMP_PARALLEL_FOR(reduction(+ : count)).
#ifndef CTNN_PRAGMA
#define CTNN_PRAGMA(x) _Pragma(#x)
#endif
#if defined(_OPENMP)
#define CTNN_OMP_PARALLEL_FOR(...) CTNN_PRAGMA(omp parallel for schedule(static) __VA_ARGS__)
#else
#define CTNN_OMP_PARALLEL_FOR(...)
#endif

namespace ctnn::kernels::detail {

// Below this many elements a kernel stays on one thread: forking costs more than it saves (a
// 1000x10 softmax, a 32-row loss). Above it, two cores help on an idle machine; on an oversubscribed
// one every fork may wait a scheduler slice for its second thread, so there run with
// OMP_NUM_THREADS=1.
inline constexpr std::size_t parallel_threshold = std::size_t{1} << 16;
// Whether a loop over `work` elements should use threads: large enough, more than one thread allowed
// (OMP_NUM_THREADS=1 never forks), and not already inside a parallel job.
inline bool worth_threads(std::size_t work) noexcept {
    return work > parallel_threshold && parallel::max_threads() > 1;
}

// Runs body(begin, end) over consecutive parts of [0, n) on the threads, one part per thread, the
// parts' boundaries on multiples of `grain` (inline when 1 thread is granted). What OpenMP's
// `parallel for schedule(static)` did over n / grain chunks.
template <class Body> inline void parallel_parts(std::size_t n, std::size_t grain, Body&& body) {
    parallel::run(parallel::max_threads(), [&](int t, int nt) {
        const parallel::range part = parallel::split(n, nt, t, grain);
        if (part.begin < part.end) body(part.begin, part.end);
    });
}
// Elementwise loops are cut into chunks of this many elements (a multiple of every batch size), so
// the split and hence the results never depend on the number of threads.
inline constexpr std::size_t parallel_chunk = std::size_t{1} << 14;

// The float vector of an arch (a plain float for generic_arch) and its number of lanes.
template <class Arch> struct vector_of {
    using type = xsimd::batch<float, Arch>;
};
template <> struct vector_of<generic_arch> {
    using type = float;
};
template <class Arch> using batch = typename vector_of<Arch>::type;
template <class Arch> inline constexpr std::size_t lanes = sizeof(batch<Arch>) / sizeof(float);

// Tag selecting the lane type of one loop step: `float` for the scalar tail, `batch<Arch>` for the body.
template <class T> struct lane {
    using type = T;
};
using scalar_lane = lane<float>;
template <class Arch> using vector_lane = lane<batch<Arch>>;

inline float load(scalar_lane, const float* p) noexcept { return *p; }
template <class Arch> inline xsimd::batch<float, Arch> load(lane<xsimd::batch<float, Arch>>, const float* p) noexcept {
    return xsimd::batch<float, Arch>::load_unaligned(p);
}
inline void store(float* p, float v) noexcept { *p = v; }
template <class Arch> inline void store(float* p, const xsimd::batch<float, Arch>& v) noexcept { v.store_unaligned(p); }
inline float splat(scalar_lane, float v) noexcept { return v; }
template <class Arch> inline xsimd::batch<float, Arch> splat(lane<xsimd::batch<float, Arch>>, float v) noexcept {
    return xsimd::batch<float, Arch>(v);
}

// A byte mask (0 = false, anything else = true) as the lane's condition.
inline bool load_mask(scalar_lane, const std::uint8_t* p) noexcept { return *p != 0; }
template <class Arch>
inline xsimd::batch_bool<float, Arch> load_mask(lane<xsimd::batch<float, Arch>>, const std::uint8_t* p) noexcept {
    using vec = xsimd::batch<float, Arch>;
    // xsimd 8 widens bytes to floats one at a time; AVX2 and AVX-512 do it in one or two instructions.
#if defined(__AVX512F__)
    if constexpr (is_avx512<Arch>) {
        const __m512i words = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
        return xsimd::batch_bool<float, Arch>(_mm512_test_epi32_mask(words, words));
    }
#endif
#if defined(__AVX2__)
    if constexpr (std::is_base_of_v<xsimd::avx2, Arch>) {
        const __m128i bytes = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(p));
        return vec(_mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(bytes))) != vec(0.0f);
    }
#endif
    alignas(64) float widened[vec::size];  // (xsimd 8.1's load_as ignores its arch argument)
    for (std::size_t i = 0; i < vec::size; ++i) widened[i] = p[i];
    return vec::load_aligned(widened) != vec(0.0f);
}

// xsimd 8 has no scalar select; these give both lane types one spelling.
inline float select(bool cond, float a, float b) noexcept { return cond ? a : b; }
template <class Arch>
inline xsimd::batch<float, Arch> select(const xsimd::batch_bool<float, Arch>& cond, const xsimd::batch<float, Arch>& a,
                                        const xsimd::batch<float, Arch>& b) noexcept {
    return xsimd::select(cond, a, b);
}

// Horizontal reductions of one lane value (identity for a float).
inline float reduce_add(float v) noexcept { return v; }
template <class Arch> inline float reduce_add(const xsimd::batch<float, Arch>& v) noexcept { return xsimd::hadd(v); }
inline float reduce_max(float v) noexcept { return v; }
template <class Arch> inline float reduce_max(const xsimd::batch<float, Arch>& v) noexcept {
    constexpr std::size_t n = xsimd::batch<float, Arch>::size;
    alignas(64) float tmp[n];
    v.store_unaligned(tmp);
    return *std::max_element(tmp, tmp + n);
}

// One running value per lane type, so a generic body can accumulate a reduction:
//   acc.at(l) += load(l, x + k);   then   acc.sum() or acc.max()
template <class Arch> struct lane_accumulator {
    batch<Arch> vec;
    float tail;
    explicit lane_accumulator(float init) noexcept : vec(init), tail(init) {}
    batch<Arch>& at(vector_lane<Arch>) noexcept { return vec; }
    float& at(scalar_lane) noexcept { return tail; }
    float sum() const noexcept { return reduce_add(vec) + tail; }
    float max() const noexcept { return std::max(reduce_max(vec), tail); }
};
// generic_arch has no vector body: only the tail accumulates.
template <> struct lane_accumulator<generic_arch> {
    float tail;
    explicit lane_accumulator(float init) noexcept : tail(init) {}
    float& at(scalar_lane) noexcept { return tail; }
    float sum() const noexcept { return tail; }
    float max() const noexcept { return tail; }
};

// Runs body(k, vector_lane<Arch>) for k = begin, begin + lanes, ... while a whole vector fits (vector
// body), then body(k, scalar_lane{}) for the rest (scalar tail). The body is written once, generically:
//   simd_for<Arch>(0, n, [=](std::size_t k, auto l) { store(y + k, Act::forward(load(l, x + k))); });
// Requires begin <= end. The vector end is computed up front (not `k + lanes <= end`) so that, with
// constant bounds, GCC sees exact trip counts and neither warns nor keeps a dead tail.
//
// Bodies that store should capture by value ([=]) and are taken by value here: xsimd's stores go
// through may_alias vector types, so pointers reached through a reference (or a closure whose
// address escaped into an OpenMP region) would be reloaded after every store.
// Bodies that only accumulate (no store) may capture their accumulator by reference.
template <class Arch, class Body> inline void simd_for(std::size_t begin, std::size_t end, Body body) {
    if constexpr (std::is_same_v<Arch, generic_arch>) {
        for (std::size_t k = begin; k < end; ++k) body(k, scalar_lane{});
    } else {
        const std::size_t vector_end = begin + (end - begin) / lanes<Arch> * lanes<Arch>;
        for (std::size_t k = begin; k < vector_end; k += lanes<Arch>) body(k, vector_lane<Arch>{});
        for (std::size_t k = vector_end; k < end; ++k) body(k, scalar_lane{});
    }
}

// simd_for over [0, n) in fixed chunks, spread over the threads when n is large.
// Only for bodies whose steps are independent (elementwise maps, per-parameter updates).
template <class Arch, class Body> inline void simd_for_parallel(std::size_t n, Body body) {
    if (!worth_threads(n)) {
        simd_for<Arch>(0, n, body);
        return;
    }
    parallel_parts(n, parallel_chunk, [&](std::size_t begin, std::size_t end) {
        for (; begin < end; begin += parallel_chunk) simd_for<Arch>(begin, std::min(end, begin + parallel_chunk), body);
    });
}

}  // namespace ctnn::kernels::detail
