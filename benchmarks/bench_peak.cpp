// benchmarks/bench_peak.cpp — the FMA peak of this machine (GFLOP/s) on 1 thread and on all threads:
// the ceiling every other benchmark's "pct_peak" counter refers to (see peak.hpp).
//   ./bench_peak --benchmark_counters_tabular=true
// FLOPS is timed on the wall clock; GFLOPS_on_cpu_time is the cached peak of peak.hpp.
#include <benchmark/benchmark.h>

#include "peak.hpp"

namespace {

void fma_peak(benchmark::State& state) {
    const int threads = static_cast<int>(state.range(0));
    constexpr std::uint64_t iterations = std::uint64_t{1} << 22;
    double flops = 0;
    for (auto _ : state) {
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) reduction(+ : flops)
        flops += ctnn::bench::fma_chains(iterations);
#else
        flops += ctnn::bench::fma_chains(iterations);
#endif
    }
    state.counters["FLOPS"] = benchmark::Counter(flops, benchmark::Counter::kIsRate, benchmark::Counter::OneK::kIs1000);
    state.counters["threads"] = threads;
    // What pct_peak elsewhere divides by: the same loop timed on each thread's own CPU clock, so it
    // stays the machine's peak when other processes share the cores (real time above then drops).
    const auto& peak = ctnn::bench::fma_peak();
    state.counters["GFLOPS_on_cpu_time"] = threads == 1 ? peak.one_thread : peak.all_threads;
}

}  // namespace

BENCHMARK(fma_peak)->ArgNames({"threads"})->Arg(1)->Arg(ctnn::bench::max_threads())->UseRealTime();

BENCHMARK_MAIN();
