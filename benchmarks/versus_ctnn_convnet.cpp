// benchmarks/versus_ctnn_convnet.cpp — the ctnn half of the convnet comparison: Keras's "Simple MNIST
// convnet" (examples/mnist_convnet.cpp) measured with exactly the protocol of benchmarks/pytorch_convnet.py
// (same data, batch sizes, warm-up and timed steps, medians of the same repeats), printed as one JSON
// object for compare_pytorch.py --model convnet. Threads: OMP_NUM_THREADS (the driver tries each setting).
//
// Data: the 60,000 training images with Keras's validation_split = 0.1: the first 54,000 train (the last
// 6,000 are the validation set, not used here); the test images for batch-1 predict.
//
// Run: build/benchmarks/versus_ctnn_convnet [--data DIR]      (normally through benchmarks/compare.sh --model convnet)
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/datasets/mnist.hpp>

#include "peak.hpp"
#include "protocol.hpp"

using namespace ctnn;

namespace {

struct MnistConvnet : Sequential<Input<28, 28, 1>,
                                 Conv2D<32, 3, 3, Relu>,  // (B, 26, 26, 32)
                                 MaxPooling2D<2, 2>,      // (B, 13, 13, 32)
                                 Conv2D<64, 3, 3, Relu>,  // (B, 11, 11, 64)
                                 MaxPooling2D<2, 2>,      // (B, 5, 5, 64)
                                 Flatten,                 // (B, 1600)
                                 Dropout<0.5>,
                                 Dense<1600, 10, Softmax>> {};
static_assert(MnistConvnet::param_count == 34'826);

// The protocol, shared with pytorch_convnet.py (keep the two in step).
constexpr std::size_t batch = 128;
constexpr double validation_split = 0.1;
constexpr std::size_t epoch_warmup_steps = 5;
constexpr std::size_t epoch_repeats = 3;
constexpr std::size_t step_batches[] = {128, 32};
constexpr std::size_t step_warmup = 10;
constexpr std::size_t step_timed = 100;
constexpr std::size_t step_repeats = 3;
constexpr std::size_t latency_warmup = 100;
constexpr std::size_t latency_calls = 1000;
constexpr std::size_t latency_repeats = 5;

// FLOPs of one training step per sample (a multiply-add = 2; pooling, ReLU, Adam not counted): the
// forward products, the same again for the weight gradients, and the input gradients of conv2 and
// dense (conv1's is not needed). 14,256,384, as pytorch_convnet.py's TRAIN_FLOP_PER_SAMPLE.
constexpr double conv1_macs = 26.0 * 26 * 32 * (3 * 3 * 1), conv2_macs = 11.0 * 11 * 64 * (3 * 3 * 32),
                 dense_macs = 1600.0 * 10;
constexpr double train_flop_per_sample =
    2 * (2 * (conv1_macs + conv2_macs + dense_macs) + conv2_macs + dense_macs);
static_assert(train_flop_per_sample == 14'256'384.0);

}  // namespace

int main(int argc, char** argv) try {
    std::string data_dir = datasets::mnist::default_directory;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--data") == 0 && i + 1 < argc) data_dir = argv[++i];
        else throw std::invalid_argument(std::string("unknown argument '") + argv[i] +
                                         "'; usage: versus_ctnn_convnet [--data DIR]");
    }
    const auto data = datasets::mnist::load(data_dir, {.validation_size = 0});
    // fit's split of validation_split = 0.1: the first ceil(0.9 n) samples train.
    const auto train_count = static_cast<std::size_t>(std::ceil(double(data.train.size()) * (1.0 - validation_split)));
    const Matrix x = bench::first_rows(data.train.x, train_count), y = bench::first_rows(data.train.y, train_count);

    auto model = compile<MnistConvnet>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
    model.initialize(0);

    // Epoch at batch 128: warm-up steps, then whole shuffled 54,000-sample epochs (422 steps) through fit.
    bench::warm_up(model, x, y, batch, epoch_warmup_steps);
    const std::vector<double> epoch_times = bench::epoch_seconds(model, x, y, batch, epoch_repeats);

    // A fixed number of steps at batch 128 and 32: one fit call per repeat over exactly those batches.
    std::vector<double> step_rates;
    for (std::size_t b : step_batches)
        step_rates.push_back(bench::samples_per_second(model, x, y, b, step_warmup, step_timed, step_repeats));

    // Batch-1 predict: one test image per call through model.predict (result matrix included).
    const double predict_seconds =
        bench::predict_seconds(model, data.test.x, latency_warmup, latency_calls, latency_repeats);

    // Peak of the FMA units on 1 and on 2 threads (thread CPU time, so other processes do not lower it).
    const double peak1 = bench::measure_fma_peak_gflops(1), peak2 = bench::measure_fma_peak_gflops(2);

    const double epoch = bench::median(epoch_times);
    std::printf("{\"model\": \"convnet\", \"threads\": %d, \"epoch_seconds\": %.4f, ", bench::max_threads(), epoch);
    bench::print_json_array("epoch_seconds_all", epoch_times);
    std::printf(", \"epoch_gflops\": %.2f, \"samples_per_s_128\": %.1f, \"samples_per_s_32\": %.1f, "
                "\"predict_us\": %.2f, \"fma_peak_1t_gflops\": %.1f, \"fma_peak_2t_gflops\": %.1f, \"isa\": \"%s\"}\n",
                train_flop_per_sample * double(train_count) / epoch * 1e-9, step_rates[0], step_rates[1],
                predict_seconds * 1e6, peak1, peak2, compiled_isa().c_str());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "versus_ctnn_convnet: %s\n", e.what());
    return 1;
}
