// benchmarks/bench_recurrent.cpp — SimpleRNN, LSTM and GRU forward and backpropagation through time
// (kernels/recurrent.hpp) on the geometries of examples/addition_rnn (Keras's "learning to add
// numbers": LSTM(128) over 7 steps of 12 features, then LSTM(128) over 4 steps of 128 with every
// step returned), at batch 1, 32 (the example's) and 128, with the naive twin beside them at batch 1.
// Counters: FLOPS (2·T·B·(F + U)·G·U for the forward's products, twice that again for the backward's
// three: the gate nonlinearities are not counted) and pct_peak (of the all-threads FMA peak,
// peak.hpp; printed with a "/s" by Google Benchmark because it is a rate).
//
// To benchmark your own layer, add ONE line at the bottom of this file:
//     CTNN_BENCH_LSTM(7, 12, 128, false);   // steps, features, units, return_sequences
//     CTNN_BENCH_GRU(7, 12, 128, false);
//     CTNN_BENCH_SIMPLE_RNN(7, 12, 128, false);
//
// Run: ./build/benchmarks/bench_recurrent --benchmark_counters_tabular=true [--benchmark_filter=batch:32]
#include <cstddef>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "ctnn/core/random.hpp"
#include "ctnn/core/tensor.hpp"
#include "ctnn/kernels/recurrent.hpp"
#include "ctnn/kernels/reference_recurrent.hpp"
#include "peak.hpp"

namespace {

namespace k = ctnn::kernels;
using k::reference::recurrent_cell;

const std::vector<std::int64_t> batches = {1, 32, 128};

template <recurrent_cell C> struct cell_of;
template <> struct cell_of<recurrent_cell::simple> { using type = k::SimpleRnnCell; };
template <> struct cell_of<recurrent_cell::lstm> { using type = k::LstmCell; };
template <> struct cell_of<recurrent_cell::gru> { using type = k::GruCell; };

ctnn::Buffer random_buffer(std::size_t n, std::uint64_t seed) {
    ctnn::Buffer b(n);
    ctnn::Rng rng(seed);
    for (auto& v : b) v = rng.uniform(-0.5f, 0.5f);
    return b;
}

enum class pass { forward, backward, naive_forward };

template <recurrent_cell Kind, std::size_t T, std::size_t F, std::size_t U, bool Sequences, pass What>
void recurrent(benchmark::State& state) {
    using Cell = typename cell_of<Kind>::type;
    constexpr std::size_t GU = Cell::gates * U, out = Sequences ? T * U : U;
    const auto batch = static_cast<std::size_t>(state.range(0));
    auto x = random_buffer(batch * T * F, 1), kernel = random_buffer(F * GU, 2), recurrent = random_buffer(U * GU, 3),
         bias = random_buffer(Cell::recurrent_bias ? 2 * GU : GU, 4), dy = random_buffer(batch * out, 5);
    ctnn::Buffer y(batch * out), dk(F * GU), dr(U * GU), db(bias.size()), dx(batch * T * F), d(dy.size());
    k::recurrent_workspace<Cell, T, F, U> ws;
    ws.reserve(batch);
    k::recurrent_forward<Cell, T, F, U, Sequences>(batch, x.data(), kernel.data(), recurrent.data(), bias.data(), ws,
                                                   y.data());
    for (auto _ : state) {
        if constexpr (What == pass::forward) {
            k::recurrent_forward<Cell, T, F, U, Sequences>(batch, x.data(), kernel.data(), recurrent.data(),
                                                           bias.data(), ws, y.data());
            benchmark::DoNotOptimize(y.data());
        } else if constexpr (What == pass::backward) {
            d = dy;  // backward may use dy as scratch
            k::recurrent_backward<Cell, T, F, U, Sequences>(batch, d.data(), kernel.data(), recurrent.data(), ws,
                                                            dk.data(), dr.data(), db.data(), dx.data());
            benchmark::DoNotOptimize(dk.data());
        } else {
            k::reference::recurrent_forward_naive<Kind, T, F, U, Sequences>(batch, x.data(), kernel.data(),
                                                                            recurrent.data(), bias.data(), y.data());
            benchmark::DoNotOptimize(y.data());
        }
        benchmark::ClobberMemory();
    }
    const double forward_flops = 2.0 * double(T) * double(batch) * double(F + U) * double(GU);
    const double flops = What == pass::backward ? 2.0 * forward_flops : forward_flops;
    state.counters["FLOPS"] =
        benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::OneK::kIs1000);
    state.counters["pct_peak"] = ctnn::bench::percent_of_peak(flops);
}

template <recurrent_cell Kind, std::size_t T, std::size_t F, std::size_t U, bool Sequences> bool register_recurrent() {
    static constexpr const char* names[] = {"simple_rnn", "lstm", "gru"};
    const std::string name = std::string(names[int(Kind)]) + "<T" + std::to_string(T) + ",F" + std::to_string(F) +
                             ",U" + std::to_string(U) + (Sequences ? ",seq>" : ">");
    auto with_batches = [](benchmark::internal::Benchmark* bench, std::int64_t max_batch) {
        bench->ArgNames({"batch"})->UseRealTime();
        for (std::int64_t b : batches)
            if (b <= max_batch) bench->Arg(b);
    };
    with_batches(benchmark::RegisterBenchmark((name + "_forward").c_str(), recurrent<Kind, T, F, U, Sequences, pass::forward>),
                 batches.back());
    with_batches(benchmark::RegisterBenchmark((name + "_backward").c_str(), recurrent<Kind, T, F, U, Sequences, pass::backward>),
                 batches.back());
    with_batches(benchmark::RegisterBenchmark((name + "_forward_naive").c_str(),
                                              recurrent<Kind, T, F, U, Sequences, pass::naive_forward>),
                 1);
    return true;
}

}  // namespace

#define CTNN_BENCH_CONCAT_(a, b) a##b
#define CTNN_BENCH_CONCAT(a, b) CTNN_BENCH_CONCAT_(a, b)
// One line per layer: steps, features per step, units, and whether every step is returned.
#define CTNN_BENCH_RECURRENT_(Kind, T, F, U, Sequences)                                   \
    [[maybe_unused]] static const bool CTNN_BENCH_CONCAT(ctnn_bench_recurrent_, __LINE__) = \
        register_recurrent<ctnn::kernels::reference::recurrent_cell::Kind, T, F, U, Sequences>()
#define CTNN_BENCH_LSTM(T, F, U, Sequences) CTNN_BENCH_RECURRENT_(lstm, T, F, U, Sequences)
#define CTNN_BENCH_GRU(T, F, U, Sequences) CTNN_BENCH_RECURRENT_(gru, T, F, U, Sequences)
#define CTNN_BENCH_SIMPLE_RNN(T, F, U, Sequences) CTNN_BENCH_RECURRENT_(simple, T, F, U, Sequences)

// examples/addition_rnn with 3 digits: the encoder and the decoder, as LSTM (the example's default) and GRU.
CTNN_BENCH_LSTM(7, 12, 128, false);
CTNN_BENCH_LSTM(4, 128, 128, true);
CTNN_BENCH_GRU(7, 12, 128, false);
CTNN_BENCH_GRU(4, 128, 128, true);
CTNN_BENCH_SIMPLE_RNN(7, 12, 128, false);

BENCHMARK_MAIN();
