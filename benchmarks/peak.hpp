// benchmarks/peak.hpp — the machine's single-precision FMA peak, measured: independent FMA chains
// on register accumulators (no memory traffic), on one thread and on all OpenMP threads. Other
// benchmarks divide their FLOP/s by `ctnn::bench::fma_peak().all_threads` for a "% of peak" counter.
// Not a theoretical peak (no cpuid tables): it includes the clock the machine actually runs at.
// Measured on thread CPU time, so other processes sharing the cores do not lower it.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <ctime>

#include <benchmark/benchmark.h>
#include <xsimd/xsimd.hpp>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "ctnn/kernels/gemm_ukernel.hpp"

namespace ctnn::bench {

// Independent accumulator chains: enough to cover FMA latency x FMA ports (4 x 2 on Zen 3 and
// Skylake) so the loop is throughput bound, few enough to stay in 16 registers with the operands.
inline constexpr std::size_t peak_chains = 12;

// Runs `iterations` rounds of peak_chains FMAs on SIMD registers; returns the flops done.
// x * 0.99999 + 1e-5 converges to 1, so values stay finite for any iteration count.
inline double fma_chains(std::uint64_t iterations) {
    using S = kernels::detail::simd_ops<kernels::gemm_arch>;
    using vec = typename S::vec;
    vec acc[peak_chains];
    for (std::size_t c = 0; c < peak_chains; ++c) acc[c] = S::broadcast(1.0f + 0.001f * float(c));
    const vec scale = S::broadcast(0.99999f), shift = S::broadcast(1e-5f);
    for (std::uint64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 16
        for (std::size_t c = 0; c < peak_chains; ++c) acc[c] = S::fma(acc[c], scale, shift);
    }
    for (std::size_t c = 0; c < peak_chains; ++c) benchmark::DoNotOptimize(acc[c]);
    return double(iterations) * peak_chains * S::width * 2.0;
}

// CPU time of the calling thread: the peak is taken per thread over the time it actually ran, so a
// busy machine (other processes on the same cores) lowers neither the peak nor the best case.
inline double thread_cpu_seconds() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

// GFLOP/s of fma_chains on `threads` threads (each runs the full loop; the team's rate is the sum of
// the threads' rates), best of a few runs.
inline double measure_fma_peak_gflops(int threads, std::uint64_t iterations = std::uint64_t{1} << 24) {
    double best = 0;
    for (int run = 0; run < 3; ++run) {
        double gflops = 0;
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) reduction(+ : gflops)
#else
        (void)threads;
#endif
        {
            const double start = thread_cpu_seconds();
            const double flops = fma_chains(iterations);
            gflops += flops / (thread_cpu_seconds() - start) * 1e-9;
        }
        best = std::max(best, gflops);
    }
    return best;
}

inline int max_threads() {
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

struct fma_peak_result {
    double one_thread;   // GFLOP/s
    double all_threads;  // GFLOP/s on `threads` threads
    int threads;
};

// Measured once per process (about a second), then cached.
inline const fma_peak_result& fma_peak() {
    static const fma_peak_result peak = [] {
        const int threads = max_threads();
        return fma_peak_result{measure_fma_peak_gflops(1), measure_fma_peak_gflops(threads), threads};
    }();
    return peak;
}

// Counter whose rate is the percentage of the all-threads peak reached by `flops_per_iteration`.
inline benchmark::Counter percent_of_peak(double flops_per_iteration) {
    return benchmark::Counter(flops_per_iteration * 100.0 / (fma_peak().all_threads * 1e9),
                              benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace ctnn::bench
