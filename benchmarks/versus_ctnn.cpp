// benchmarks/versus_ctnn.cpp — the ctnn half of the PyTorch comparison: the reference MNIST MLP measured
// with exactly the protocol of benchmarks/pytorch_mlp.py (same data, batch sizes, warm-up and timed
// steps, medians of the same repeats), printed as one JSON object for compare_pytorch.py.
// Not a Google Benchmark program (that is bench_training): the protocol is fixed so that both sides
// do the same work. Threads: OMP_NUM_THREADS (the driver tries 1 and 2).
//
// Run: build/benchmarks/versus_ctnn [--data DIR]      (normally through benchmarks/compare.sh)
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/datasets/mnist.hpp>
#include <ctnn/kernels/dense.hpp>

#include "peak.hpp"
#include "protocol.hpp"

using namespace ctnn;
using bench::Clock;
using bench::median;
using bench::seconds_since;

namespace {

struct MnistMlp : Sequential<Dense<784, 1000, Relu>, Dense<1000, 500, Relu>, Dropout<0.9>, Dense<500, 10, Softmax>> {};

// The protocol, shared with pytorch_mlp.py (keep the two in step).
constexpr std::size_t epoch_batch = 1000;
constexpr std::size_t epoch_warmup_steps = 5;
constexpr std::size_t epoch_repeats = 3;
constexpr std::size_t step_batches[] = {128, 32};
constexpr std::size_t step_warmup = 20;
constexpr std::size_t step_timed = 200;
constexpr std::size_t step_repeats = 3;
constexpr std::size_t latency_warmup = 100;
constexpr std::size_t latency_calls = 1000;
constexpr std::size_t latency_repeats = 5;
constexpr std::size_t gemm_repeats = 10;

Buffer random_buffer(std::size_t n, std::uint64_t seed) {
    Buffer b(n);
    Rng rng(seed);
    for (auto& v : b) v = rng.uniform(0.0f, 1.0f);
    return b;
}

// Median seconds of one call of f, over gemm_repeats calls after one warm-up call.
template <class F> double median_seconds(F&& f) {
    f();
    std::vector<double> t;
    for (std::size_t r = 0; r < gemm_repeats; ++r) {
        const auto start = Clock::now();
        f();
        t.push_back(seconds_since(start));
    }
    return median(t);
}

// The six large GEMMs of a batch-1000 step: forward (bias + relu fused), backward data, backward weights
// of Dense<784,1000> and Dense<1000,500> — the products bench_dense times one by one.
template <std::size_t In, std::size_t Out> void time_layer_gemms(double& flops, double& seconds) {
    constexpr std::size_t b = epoch_batch;
    auto x = random_buffer(b * In, 1), w = random_buffer(In * Out, 2), bias = random_buffer(Out, 3);
    auto dz = random_buffer(b * Out, 4);
    Buffer y(b * Out), dx(b * In), dw(In * Out), db(Out);
    seconds += median_seconds([&] { kernels::dense_forward<In, Out, Relu>(b, x.data(), w.data(), bias.data(), y.data()); });
    seconds += median_seconds([&] { kernels::dense_backward_data<In, Out>(b, dz.data(), w.data(), dx.data()); });
    seconds += median_seconds([&] { kernels::dense_backward_weights<In, Out>(b, x.data(), dz.data(), dw.data(), db.data()); });
    flops += 3 * 2.0 * double(b) * In * Out;
}

}  // namespace

int main(int argc, char** argv) try {
    std::string data_dir = datasets::mnist::default_directory;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--data") == 0 && i + 1 < argc) data_dir = argv[++i];
        else throw std::invalid_argument(std::string("unknown argument '") + argv[i] + "'; usage: versus_ctnn [--data DIR]");
    }
    const auto data = datasets::mnist::load(data_dir, {.validation_size = 5000});
    const auto& train = data.train;

    auto model = compile<MnistMlp>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
    model.initialize(0);

    // Epoch at batch 1000: warm-up steps, then whole shuffled epochs (55 steps each) through fit.
    bench::warm_up(model, train.x, train.y, epoch_batch, epoch_warmup_steps);
    const std::vector<double> epoch_times = bench::epoch_seconds(model, train.x, train.y, epoch_batch, epoch_repeats);

    // The same epochs with the dense GEMMs only (the sparse backward of kernels/sparse.hpp switched
    // off): what the kernels alone give, beside what ctnn gives.
    kernels::sparse_products_enabled = false;
    const std::vector<double> gemm_only_epoch_times =
        bench::epoch_seconds(model, train.x, train.y, epoch_batch, epoch_repeats);
    kernels::sparse_products_enabled = true;

    // A fixed number of steps at batch 128 and 32: one fit call per repeat over exactly those batches.
    std::vector<double> step_rates;
    for (std::size_t batch : step_batches)
        step_rates.push_back(
            bench::samples_per_second(model, train.x, train.y, batch, step_warmup, step_timed, step_repeats));

    // Batch-1 predict: one test image per call through model.predict (result matrix included).
    const double predict_seconds =
        bench::predict_seconds(model, data.test.x, latency_warmup, latency_calls, latency_repeats);

    double gemm_flops = 0, gemm_seconds = 0;
    time_layer_gemms<784, 1000>(gemm_flops, gemm_seconds);
    time_layer_gemms<1000, 500>(gemm_flops, gemm_seconds);

    // Peak of the FMA units on 1 and on 2 threads (thread CPU time, so other processes do not lower it).
    const double peak1 = bench::measure_fma_peak_gflops(1), peak2 = bench::measure_fma_peak_gflops(2);

    std::printf("{\"threads\": %d, \"epoch_seconds\": %.4f, ", bench::max_threads(), median(epoch_times));
    bench::print_json_array("epoch_seconds_all", epoch_times);
    std::printf(", \"epoch_seconds_gemm_only\": %.4f", median(gemm_only_epoch_times));
    std::printf(", \"samples_per_s_128\": %.1f, \"samples_per_s_32\": %.1f, \"predict_us\": %.2f, "
                "\"large_gemm_gflops\": %.2f, \"fma_peak_1t_gflops\": %.1f, \"fma_peak_2t_gflops\": %.1f, "
                "\"isa\": \"%s\"}\n",
                step_rates[0], step_rates[1], predict_seconds * 1e6, gemm_flops / gemm_seconds * 1e-9, peak1, peak2,
                compiled_isa().c_str());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "versus_ctnn: %s\n", e.what());
    return 1;
}
