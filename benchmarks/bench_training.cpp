// benchmarks/bench_training.cpp — the reference workload end to end: one training step of the MNIST
// MLP (784-1000-500-10, Dropout 0.9, Adam, categorical cross-entropy, accuracy) at batch 1, 32, 128
// and 1000, one 55,000-sample epoch at batch 1000, batch-1 predict latency, and the peak RSS of the
// process. Synthetic data with a fixed seed: timing does not depend on the pixel values.
// Not a kernel benchmark (bench_dense / bench_elementwise) and not the PyTorch comparison
// (compare.sh): this is what a user of Model sees, through fit / predict.
//
// Run: build/benchmarks/bench_training --benchmark_counters_tabular=true [--benchmark_filter=step]
#include <sys/resource.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include <benchmark/benchmark.h>

#include <ctnn/ctnn.hpp>

#include "peak.hpp"

namespace {

using namespace ctnn;

struct MnistMlp : Sequential<Dense<784, 1000, Relu>, Dense<1000, 500, Relu>, Dropout<0.9>, Dense<500, 10, Softmax>> {};

// FLOPs per sample, counting a multiply-add as 2 and ignoring the O(width) elementwise work:
//   forward           2·(784·1000 + 1000·500 + 500·10)   = 2.578 MFLOP
//   backward data     2·(1000·500 + 500·10)              = 1.010 MFLOP  (no dx for the first layer)
//   backward weights  2·(784·1000 + 1000·500 + 500·10)   = 2.578 MFLOP
//   training step                                        = 6.166 MFLOP  (339 GFLOP per 55,000-sample epoch)
constexpr double forward_flops_per_sample = 2.0 * (784 * 1000 + 1000 * 500 + 500 * 10);
constexpr double backward_data_flops_per_sample = 2.0 * (1000 * 500 + 500 * 10);
constexpr double step_flops_per_sample = 2 * forward_flops_per_sample + backward_data_flops_per_sample;
static_assert(step_flops_per_sample == 6'166'000.0);

constexpr std::size_t epoch_samples = 55'000;

auto make_model() {
    auto model = compile<MnistMlp>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
    model.initialize(0);
    return model;
}
using ModelType = decltype(make_model());

// n rows of pixels in [0, 1) and one-hot labels, from a fixed seed.
struct Data {
    Matrix x, y;
};
Data synthetic_data(std::size_t n, std::uint64_t seed = 42) {
    Data d{Matrix::from_shape({n, 784}), Matrix::from_shape({n, 10})};
    Rng rng(seed);
    for (auto& v : d.x) v = rng.uniform(0.0f, 1.0f);
    d.y.fill(0.0f);
    for (std::size_t i = 0; i < n; ++i) d.y(i, rng.below(10)) = 1.0f;
    return d;
}

// ru_maxrss is in KiB on Linux; the counter is in MB (1e6 bytes), as PyTorch figures are quoted.
double peak_rss_mb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_maxrss) * 1024.0 / 1e6;
}

void set_step_counters(benchmark::State& state, std::size_t batch) {
    const double flops = step_flops_per_sample * double(batch);
    state.counters["samples_per_s"] = benchmark::Counter(double(batch), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["GFLOPS"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["pct_peak"] = bench::percent_of_peak(flops);
    state.counters["peak_rss_MB"] = peak_rss_mb();
}

// One training step through the public API: fit on exactly one batch (epochs 1, no shuffle, silent).
// This pays fit's per-call work (History, callback list, order vector, logs) on every step.
void train_step_fit(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    auto model = make_model();
    const Data data = synthetic_data(batch);
    const FitOptions options{.epochs = 1, .batch_size = batch, .shuffle = false, .verbose = 0};
    model.fit(data.x, data.y, options);  // warm-up: buffers allocated, pages faulted in
    for (auto _ : state) {
        model.fit(data.x, data.y, options);
        benchmark::ClobberMemory();
    }
    set_step_counters(state, batch);
}

// The same step without fit: forward, fused softmax + cross-entropy gradient, backward, Adam — what
// Model::train_step does, rebuilt from public pieces, so the gap to train_step_fit is fit's overhead.
void train_step_direct(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    auto model = make_model();
    const Data data = synthetic_data(batch);
    MnistMlp& net = model.network();
    MnistMlp::Workspace workspace;
    workspace.reserve(batch);
    net.reserve(batch);
    auto& adam = model.optimizer();
    std::vector<optimizers::Adam::State> states;
    for (Parameter* p : model.parameters()) states.push_back(adam.make_state(*p));
    const losses::CategoricalCrossentropy loss;
    const metrics::Accuracy accuracy;
    Rng dropout_rng(7);
    auto step = [&] {
        net.forward(data.x.data(), workspace, {batch, Phase::training, &dropout_rng});
        const float* p = workspace.output();
        benchmark::DoNotOptimize(loss.sum<10>(batch, p, data.y.data()));
        benchmark::DoNotOptimize(accuracy.correct<10, losses::CategoricalCrossentropy>(batch, p, data.y.data()));
        loss.softmax_gradient<10>(batch, p, data.y.data(), workspace.gradient_in.data());
        net.backward(data.x.data(), workspace, batch, true);
        adam.begin_step();
        for (std::size_t i = 0; i < states.size(); ++i) adam.update(*model.parameters()[i], states[i]);
    };
    step();
    for (auto _ : state) {
        step();
        benchmark::ClobberMemory();
    }
    set_step_counters(state, batch);
}

// One epoch of the reference workload: 55,000 samples, batch 1000, shuffled, as the example trains.
void epoch(benchmark::State& state) {
    auto model = make_model();
    const Data data = synthetic_data(epoch_samples);
    const FitOptions options{.epochs = 1, .batch_size = 1000, .verbose = 0};
    for (auto _ : state) {
        model.fit(data.x, data.y, options);
        benchmark::ClobberMemory();
    }
    const double flops = step_flops_per_sample * double(epoch_samples);
    state.counters["samples_per_s"] = benchmark::Counter(double(epoch_samples), benchmark::Counter::kIsIterationInvariantRate);
    state.counters["GFLOPS"] = benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["pct_peak"] = bench::percent_of_peak(flops);
    state.counters["peak_rss_MB"] = peak_rss_mb();
}

// One sample through the trained-mode-free network: model.predict on a (1, 784) matrix. The time
// includes predict's result matrix (one small allocation), as a user calling predict pays it.
void predict_batch1(benchmark::State& state) {
    auto model = make_model();
    const Data data = synthetic_data(1);
    const PredictOptions options{.batch_size = 1};
    benchmark::DoNotOptimize(model.predict(data.x, options));
    for (auto _ : state) {
        Matrix out = model.predict(data.x, options);
        benchmark::DoNotOptimize(out.data());
    }
    state.counters["GFLOPS"] = benchmark::Counter(forward_flops_per_sample * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["peak_rss_MB"] = peak_rss_mb();
}

// The same forward pass on the network directly (no result matrix, no callback list).
void forward_batch1_direct(benchmark::State& state) {
    auto model = make_model();
    const Data data = synthetic_data(1);
    MnistMlp& net = model.network();
    MnistMlp::Workspace workspace;
    workspace.reserve(1);
    net.reserve(1);
    for (auto _ : state) {
        net.forward(data.x.data(), workspace, {1, Phase::inference, nullptr});
        benchmark::DoNotOptimize(workspace.output());
        benchmark::ClobberMemory();
    }
    state.counters["GFLOPS"] = benchmark::Counter(forward_flops_per_sample * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
    state.counters["peak_rss_MB"] = peak_rss_mb();
}

// Wall-clock time: the kernels run on OpenMP threads whose work the main thread's CPU time misses.
// Medians over repetitions: the machine is shared, and the median resists another process's burst.
void step_batches(benchmark::internal::Benchmark* b) {
    b->ArgNames({"batch"})->Arg(1)->Arg(32)->Arg(128)->Arg(1000)->UseRealTime()->Unit(benchmark::kMicrosecond);
}

}  // namespace

BENCHMARK(train_step_fit)->Apply(step_batches);
BENCHMARK(train_step_direct)->Apply(step_batches);
BENCHMARK(epoch)->Iterations(1)->Repetitions(3)->ReportAggregatesOnly(true)->UseRealTime()->Unit(benchmark::kSecond);
BENCHMARK(predict_batch1)->UseRealTime()->Unit(benchmark::kMicrosecond);
BENCHMARK(forward_batch1_direct)->UseRealTime()->Unit(benchmark::kMicrosecond);

BENCHMARK_MAIN();
