// benchmarks/bench_peak.cpp — the FMA peak of this machine (GFLOP/s) on 1 thread and on all threads:
// the ceiling every other benchmark's "pct_peak" counter refers to (see peak.hpp); and the GEMM
// microkernel alone on panels already in cache: what bench_dense's GEMMs could reach if packing
// and C's memory traffic cost nothing.
//   ./bench_peak --benchmark_counters_tabular=true
// FLOPS is timed on the wall clock; GFLOPS_on_cpu_time is the cached peak of peak.hpp. The label and
// the context's ctnn_isa name the SIMD arch measured (xsimd's, from -march).
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>

#include "ctnn/activations.hpp"
#include "ctnn/core/cpu.hpp"
#include "ctnn/core/tensor.hpp"
#include "ctnn/kernels/gemm_ukernel.hpp"
#include "peak.hpp"

namespace {

void fma_peak(benchmark::State& state) {
    const int threads = static_cast<int>(state.range(0));
    const std::uint64_t iterations = std::uint64_t{1} << 22;
    double flops = 0;
    bool exact = true;
    for (auto _ : state) {
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) reduction(+ : flops) reduction(&& : exact)
#endif
        {
            const auto r = ctnn::bench::fma_chains_checked(iterations);
            flops += r.flops;
            exact = exact && r.exact;
        }
    }
    if (!exact) {
        state.SkipWithError("FMA chains' final values are not those of the FMAs counted: the FLOP count is wrong");
        return;
    }
    state.SetLabel(ctnn::compiled_isa());
    state.counters["FLOPS"] = benchmark::Counter(flops, benchmark::Counter::kIsRate, benchmark::Counter::OneK::kIs1000);
    state.counters["threads"] = threads;
    // What pct_peak elsewhere divides by: the same loop timed on each thread's own CPU clock, so it
    // stays the machine's peak when other processes share the cores (real time above then drops).
    const auto& peak = ctnn::bench::fma_peak();
    state.counters["GFLOPS_on_cpu_time"] = threads == 1 ? peak.one_thread : peak.all_threads;
}

// The packed microkernel as the GEMM drives it at batch 1000, minus the memory system: one A block
// (MC x KC, in L2) swept per B micro-panel, 16 B micro-panels (L2) in turn, C tiles in a small
// region that stays in L1. Each thread has its own panels. pct_peak is of the peak on as many threads.
void gemm_microkernel(benchmark::State& state) {
    using namespace ctnn::kernels;
    using cfg = gemm_config<gemm_arch>;
    constexpr std::size_t MR = cfg::MR, NR = cfg::NR, KC = cfg::KC, a_panels = cfg::MC / MR, b_panels = 16;
    constexpr std::size_t calls = a_panels * b_panels, c_tiles = 8;
    const int threads = static_cast<int>(state.range(0));
    double flops = 0;
    for (auto _ : state) {
#ifdef _OPENMP
#pragma omp parallel num_threads(threads) reduction(+ : flops)
#endif
        {
            thread_local ctnn::Buffer a(a_panels * KC * MR, 0.001f), b(b_panels * KC * NR, 0.002f),
                c(c_tiles * MR * NR, 0.0f);
            for (std::size_t call = 0; call < calls; ++call)
                gemm_ukernel<gemm_arch, MR, NR>::run<ctnn::Linear>(
                    KC, a.data() + call % a_panels * KC * MR, 0, b.data() + call / a_panels * KC * NR, 0,
                    tile_start::load, nullptr, false, c.data() + call % c_tiles * MR * NR, NR, MR, NR);
            benchmark::DoNotOptimize(c.data());
            flops += 2.0 * double(calls) * MR * NR * KC;
        }
    }
    state.counters["FLOPS"] = benchmark::Counter(flops, benchmark::Counter::kIsRate, benchmark::Counter::OneK::kIs1000);
    const auto& peak = ctnn::bench::fma_peak();
    state.counters["pct_peak"] = benchmark::Counter(
        flops * 100.0 / ((threads == 1 ? peak.one_thread : peak.all_threads) * 1e9), benchmark::Counter::kIsRate);
    state.counters["threads"] = threads;
    state.SetLabel(ctnn::compiled_isa());
}

}  // namespace

BENCHMARK(gemm_microkernel)->ArgNames({"threads"})->Arg(1)->Arg(ctnn::bench::max_threads())->UseRealTime();
BENCHMARK(fma_peak)->ArgNames({"threads"})->Arg(1)->Arg(ctnn::bench::max_threads())->UseRealTime();

// BENCHMARK_MAIN plus the kernels' ISA in the context header: a peak is only that of one ISA.
int main(int argc, char** argv) {
    benchmark::AddCustomContext("ctnn_isa", ctnn::compiled_isa());
    benchmark::Initialize(&argc, argv);
    if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}
