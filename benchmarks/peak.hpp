// benchmarks/peak.hpp — the machine's single-precision FMA peak, measured: independent FMA chains
// on register accumulators (no memory traffic), on one thread and on all OpenMP threads. Other
// benchmarks divide their FLOP/s by `ctnn::bench::fma_peak().all_threads` for a "% of peak" counter.
// Not a theoretical peak (no cpuid tables): it includes the clock the machine actually runs at.
// Measured on thread CPU time, so other processes sharing the cores do not lower it. Measured with the
// kernels' own SIMD arch (ctnn::compiled_isa(), from -march): the peak of what this build can reach.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <string>

#include <benchmark/benchmark.h>
#include <xsimd/xsimd.hpp>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "ctnn/core/cpu.hpp"
#include "ctnn/kernels/gemm_ukernel.hpp"

namespace ctnn::bench {

// Independent accumulator chains: enough to cover FMA latency x FMA ports (4 x 2 on Zen 3/4/5 and
// Skylake) so the loop is throughput bound, few enough to stay in 16 registers with the operands.
inline constexpr std::size_t peak_chains = 12;

// Chain c starts at c + 1 and adds 1 per FMA (x * 1 + 1): its value stays an exact float integer,
// x0 + iterations, as long as that is below 2^24.
inline constexpr std::uint64_t max_chain_iterations = (std::uint64_t{1} << 24) - 2 * peak_chains;

struct fma_chains_result {
    double flops;  // iterations x peak_chains x SIMD width x 2
    bool exact;    // every lane of every chain ended at x0 + iterations: `iterations` FMAs were executed
};

// Runs `iterations` rounds of peak_chains FMAs on SIMD registers, then checks the chains' values.
// noinline, and trip count and operands made opaque: no clone can specialise on a constant trip
// count or fold chains at compile time (a .constprop clone once ran 6 FMAs per trip, not 12).
[[gnu::noinline]] inline fma_chains_result fma_chains_checked(std::uint64_t iterations) {
    using S = kernels::detail::simd_ops<kernels::gemm_arch>;
    using vec = typename S::vec;
    if (iterations > max_chain_iterations) return {0.0, false};
    // Volatile reads, not benchmark::DoNotOptimize: with g++ 12 its "+m,r" asm on a float dropped
    // the store before it (the check below caught chains that started from garbage).
    volatile std::uint64_t opaque_iterations = iterations;
    volatile float opaque_one = 1.0f;
    iterations = opaque_iterations;
    const float one = opaque_one;
    float start[peak_chains];
    for (std::size_t c = 0; c < peak_chains; ++c) start[c] = float(c + 1) * one;
    vec acc[peak_chains];
    for (std::size_t c = 0; c < peak_chains; ++c) acc[c] = S::broadcast(start[c]);
    const vec scale = S::broadcast(one), shift = S::broadcast(one);
    for (std::uint64_t i = 0; i < iterations; ++i) {
#pragma GCC unroll 16
        for (std::size_t c = 0; c < peak_chains; ++c) acc[c] = S::fma(acc[c], scale, shift);
    }
    bool exact = true;
    for (std::size_t c = 0; c < peak_chains; ++c) {
        float lanes[S::width];
        S::store(lanes, acc[c]);
        for (float x : lanes) exact = exact && x == start[c] + float(iterations);
    }
    return {double(iterations) * peak_chains * S::width * 2.0, exact};
}

// The flops of fma_chains_checked; aborts if the chains' values show that fewer FMAs ran than counted.
inline double fma_chains(std::uint64_t iterations) {
    const fma_chains_result r = fma_chains_checked(iterations);
    if (!r.exact) {
        std::fprintf(stderr,
                     "ctnn::bench::fma_chains(%llu): the chains' values are not those of %llu FMAs each "
                     "(at most %llu iterations)\n",
                     static_cast<unsigned long long>(iterations), static_cast<unsigned long long>(iterations),
                     static_cast<unsigned long long>(max_chain_iterations));
        std::abort();
    }
    return r.flops;
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
inline double measure_fma_peak_gflops(int threads, std::uint64_t iterations = std::uint64_t{1} << 23) {
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
    std::string isa;     // ctnn::compiled_isa(): the peak is that of the kernels' SIMD width
};

// Measured once per process (about a second), then cached.
inline const fma_peak_result& fma_peak() {
    static const fma_peak_result peak = [] {
        const int threads = max_threads();
        return fma_peak_result{measure_fma_peak_gflops(1), measure_fma_peak_gflops(threads), threads, compiled_isa()};
    }();
    return peak;
}

// Counter whose rate is the percentage of the all-threads peak reached by `flops_per_iteration`.
inline benchmark::Counter percent_of_peak(double flops_per_iteration) {
    return benchmark::Counter(flops_per_iteration * 100.0 / (fma_peak().all_threads * 1e9),
                              benchmark::Counter::kIsIterationInvariantRate);
}

}  // namespace ctnn::bench
