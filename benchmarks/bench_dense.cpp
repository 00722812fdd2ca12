// benchmarks/bench_dense.cpp — the three GEMMs of a Dense layer (forward, backward data, backward
// weights) on the reference net 784-1000-500-10, at batch 1, 32, 128 and 1000, with the naive twins
// beside them at small batch. Counters: FLOPS (2·M·N·K per call) and pct_peak (of the all-threads
// FMA peak measured by peak.hpp; Google Benchmark prints it with a "/s" because it is a rate counter).
//
// To benchmark your own layer, add ONE line at the bottom of this file:
//     CTNN_BENCH_DENSE(784, 1000, ctnn::Relu);
//
// Run: ./build/benchmarks/bench_dense --benchmark_counters_tabular=true [--benchmark_filter=batch:1000]
//      or meson test -C build --benchmark -v
#include <cstddef>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "ctnn/activations.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/core/tensor.hpp"
#include "ctnn/kernels/dense.hpp"
#include "ctnn/kernels/reference.hpp"
#include "peak.hpp"

namespace {

namespace k = ctnn::kernels;

const std::vector<std::int64_t> batches = {1, 32, 128, 1000};
constexpr std::int64_t naive_max_batch = 32;  // the naive twins take seconds beyond this

ctnn::Buffer random_buffer(std::size_t n, std::uint64_t seed) {
    ctnn::Buffer b(n);
    ctnn::Rng rng(seed);
    for (auto& v : b) v = rng.uniform(-1.0f, 1.0f);
    return b;
}

// FLOP/s and % of peak for a product (M, K) · (K, N).
void set_flops(benchmark::State& state, std::size_t m, std::size_t n, std::size_t k) {
    const double flops = 2.0 * double(m) * double(n) * double(k);
    state.counters["FLOPS"] =
        benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::OneK::kIs1000);
    state.counters["pct_peak"] = ctnn::bench::percent_of_peak(flops);
}

// y = Act(x · w + b): M = batch, N = Out, K = In.
template <std::size_t In, std::size_t Out, class Act, bool Naive> void forward(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    auto x = random_buffer(batch * In, 1), w = random_buffer(In * Out, 2), b = random_buffer(Out, 3);
    ctnn::Buffer y(batch * Out);  // (B, Out)
    for (auto _ : state) {
        if constexpr (Naive)
            k::reference::dense_forward_naive<In, Out, Act>(batch, x.data(), w.data(), b.data(), y.data());
        else
            k::dense_forward<In, Out, Act>(batch, x.data(), w.data(), b.data(), y.data());
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_flops(state, batch, Out, In);
}

// dx = dz · wᵀ: M = batch, N = In, K = Out.
template <std::size_t In, std::size_t Out, bool Naive> void backward_data(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    auto dz = random_buffer(batch * Out, 4), w = random_buffer(In * Out, 5);
    ctnn::Buffer dx(batch * In);  // (B, In)
    for (auto _ : state) {
        if constexpr (Naive)
            k::reference::dense_backward_data_naive<In, Out>(batch, dz.data(), w.data(), dx.data());
        else
            k::dense_backward_data<In, Out>(batch, dz.data(), w.data(), dx.data());
        benchmark::DoNotOptimize(dx.data());
        benchmark::ClobberMemory();
    }
    set_flops(state, batch, In, Out);
}

// dw = xᵀ · dz, db = Σ dz: M = In, N = Out, K = batch.
template <std::size_t In, std::size_t Out, bool Naive> void backward_weights(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    auto x = random_buffer(batch * In, 6), dz = random_buffer(batch * Out, 7);
    ctnn::Buffer dw(In * Out), db(Out);  // (In, Out), (Out)
    for (auto _ : state) {
        if constexpr (Naive)
            k::reference::dense_backward_weights_naive<In, Out>(batch, x.data(), dz.data(), dw.data(), db.data());
        else
            k::dense_backward_weights<In, Out>(batch, x.data(), dz.data(), dw.data(), db.data());
        benchmark::DoNotOptimize(dw.data());
        benchmark::ClobberMemory();
    }
    set_flops(state, In, Out, batch);
}

// Both backward products through dense_backward (what Dense::backward runs), dz with `density_pct`%
// nonzeros at random places: the sparse path below kernels::sparse_max_density, the GEMMs above, or
// the GEMMs always when Sparse is false. FLOPS counts the dense products' work (effective rate).
template <std::size_t In, std::size_t Out, bool Sparse> void backward_both(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    const double density = double(state.range(1)) / 100.0;
    auto x = random_buffer(batch * In, 8), w = random_buffer(In * Out, 9), dz = random_buffer(batch * Out, 10);
    ctnn::Rng rng(11);
    for (auto& v : dz)
        if (rng.uniform(0.0f, 1.0f) >= density) v = 0.0f;
    ctnn::Buffer dx(batch * In), dw(In * Out), db(Out);
    k::sparse_products_enabled = Sparse;
    for (auto _ : state) {
        k::dense_backward<In, Out>(batch, x.data(), dz.data(), w.data(), dw.data(), db.data(), dx.data());
        benchmark::DoNotOptimize(dw.data());
        benchmark::ClobberMemory();
    }
    k::sparse_products_enabled = true;
    const double flops = 4.0 * double(batch) * In * Out;
    state.counters["FLOPS"] =
        benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::OneK::kIs1000);
    state.counters["pct_peak"] = ctnn::bench::percent_of_peak(flops);
}

void with_batches(benchmark::internal::Benchmark* bench, std::int64_t max_batch) {
    bench->ArgNames({"batch"})->UseRealTime();
    for (std::int64_t b : batches)
        if (b <= max_batch) bench->Arg(b);
}

// Registers forward / backward_data / backward_weights of Dense<In, Out, Act> and their naive twins.
template <std::size_t In, std::size_t Out, class Act> bool register_dense() {
    const std::string layer = "<" + std::to_string(In) + "," + std::to_string(Out) + "," + std::string(Act::name) + ">";
    const std::int64_t all = batches.back();
    with_batches(benchmark::RegisterBenchmark(("dense_forward" + layer).c_str(), forward<In, Out, Act, false>), all);
    with_batches(benchmark::RegisterBenchmark(("dense_forward_naive" + layer).c_str(), forward<In, Out, Act, true>),
                 naive_max_batch);
    with_batches(benchmark::RegisterBenchmark(("dense_backward_data" + layer).c_str(), backward_data<In, Out, false>),
                 all);
    with_batches(
        benchmark::RegisterBenchmark(("dense_backward_data_naive" + layer).c_str(), backward_data<In, Out, true>),
        naive_max_batch);
    with_batches(
        benchmark::RegisterBenchmark(("dense_backward_weights" + layer).c_str(), backward_weights<In, Out, false>),
        all);
    with_batches(
        benchmark::RegisterBenchmark(("dense_backward_weights_naive" + layer).c_str(), backward_weights<In, Out, true>),
        naive_max_batch);
    for (bool sparse : {true, false}) {
        auto* b = benchmark::RegisterBenchmark(
            ((sparse ? "dense_backward" : "dense_backward_gemm_only") + layer).c_str(),
            sparse ? backward_both<In, Out, true> : backward_both<In, Out, false>);
        b->ArgNames({"batch", "density_pct"})->UseRealTime();
        for (std::int64_t batch : {128, 1000})
            for (std::int64_t density : {3, 10, 25, 50}) b->Args({batch, density});
    }
    return true;
}

}  // namespace

#define CTNN_BENCH_CONCAT_(a, b) a##b
#define CTNN_BENCH_CONCAT(a, b) CTNN_BENCH_CONCAT_(a, b)
// One line per layer: registers its three products (fast and naive) at every batch.
#define CTNN_BENCH_DENSE(In, Out, Act) \
    [[maybe_unused]] static const bool CTNN_BENCH_CONCAT(ctnn_bench_dense_, __LINE__) = register_dense<In, Out, Act>()

// The reference net 784-1000-500-10.
CTNN_BENCH_DENSE(784, 1000, ctnn::Relu);
CTNN_BENCH_DENSE(1000, 500, ctnn::Relu);
CTNN_BENCH_DENSE(500, 10, ctnn::Softmax);

BENCHMARK_MAIN();
