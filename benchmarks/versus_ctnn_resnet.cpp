// benchmarks/versus_ctnn_resnet.cpp — the ctnn half of the ResNet comparison: examples/fashion_resnet.cpp's
// ResNet-20 v1 measured with exactly the protocol of benchmarks/pytorch_resnet.py (same data, batch sizes,
// warm-up and timed steps, medians of the same repeats), printed as one JSON object for
// compare_pytorch.py --model resnet. Threads: OMP_NUM_THREADS (the driver tries each setting).
//
// Data: the 60,000 training images with Keras's validation_split = 0.1: the first 54,000 train; the test
// images for batch-1 predict.
//
// Run: build/benchmarks/versus_ctnn_resnet [--data DIR] [--epoch-repeats 1]   (normally through compare.sh --model resnet)
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/datasets/mnist.hpp>

#include "../examples/fashion_resnet20.hpp"
#include "peak.hpp"
#include "protocol.hpp"

using namespace ctnn;

namespace {

// The protocol, shared with pytorch_resnet.py (keep the two in step).
constexpr std::size_t batch = 128;
constexpr double validation_split = 0.1;
constexpr std::size_t epoch_warmup_steps = 3;
constexpr std::size_t default_epoch_repeats = 1;
constexpr std::size_t step_batches[] = {128, 32};
constexpr std::size_t step_warmup = 3;
constexpr std::size_t step_timed = 20;
constexpr std::size_t step_repeats = 3;
constexpr std::size_t latency_warmup = 20;
constexpr std::size_t latency_calls = 200;
constexpr std::size_t latency_repeats = 5;

// FLOPs of one training step per sample (a multiply-add = 2; BatchNormalization, ReLU, the Adds and Adam not
// counted): forward convolutions and Dense, the same again for the weight gradients, and the input gradients of
// all but the stem. As pytorch_resnet.py's TRAIN_FLOP_PER_SAMPLE.
constexpr double stem_macs = 28.0 * 28 * 16 * 9;
constexpr double stage1_macs = 6 * 28.0 * 28 * 16 * 144;
constexpr double stage2_macs = 14.0 * 14 * 32 * 144 + 5 * 14.0 * 14 * 32 * 288 + 14.0 * 14 * 32 * 16;
constexpr double stage3_macs = 7.0 * 7 * 64 * 288 + 5 * 7.0 * 7 * 64 * 576 + 7.0 * 7 * 64 * 32;
constexpr double forward_macs = stem_macs + stage1_macs + stage2_macs + stage3_macs + 64.0 * 10;
constexpr double train_flop_per_sample = 2 * (3 * forward_macs - stem_macs);

}  // namespace

int main(int argc, char** argv) try {
    std::string data_dir = datasets::mnist::default_directory;
    std::size_t epoch_repeats = default_epoch_repeats;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--data") == 0 && i + 1 < argc) data_dir = argv[++i];
        else if (std::strcmp(argv[i], "--epoch-repeats") == 0 && i + 1 < argc)
            epoch_repeats = std::strtoul(argv[++i], nullptr, 10);
        else throw std::invalid_argument(std::string("unknown argument '") + argv[i] +
                                         "'; usage: versus_ctnn_resnet [--data DIR] [--epoch-repeats N]");
    }
    const auto data = datasets::mnist::load(data_dir, {.validation_size = 0});
    const auto train_count = static_cast<std::size_t>(std::ceil(double(data.train.size()) * (1.0 - validation_split)));
    const Matrix x = bench::first_rows(data.train.x, train_count), y = bench::first_rows(data.train.y, train_count);

    auto model = compile<examples::FashionResNet20>(optimizers::Adam{}, losses::CategoricalCrossentropy{},
                                                    metrics::Accuracy{});
    model.initialize(0);

    bench::warm_up(model, x, y, batch, epoch_warmup_steps);
    const std::vector<double> epoch_times = bench::epoch_seconds(model, x, y, batch, epoch_repeats);

    std::vector<double> step_rates;
    for (std::size_t b : step_batches)
        step_rates.push_back(bench::samples_per_second(model, x, y, b, step_warmup, step_timed, step_repeats));

    const double predict_seconds =
        bench::predict_seconds(model, data.test.x, latency_warmup, latency_calls, latency_repeats);
    const double peak1 = bench::measure_fma_peak_gflops(1), peak2 = bench::measure_fma_peak_gflops(2);

    std::printf("{\"model\": \"resnet\", \"threads\": %d, ", bench::max_threads());
    if (!epoch_times.empty()) {
        const double epoch = bench::median(epoch_times);
        std::printf("\"epoch_seconds\": %.4f, \"epoch_gflops\": %.2f, ", epoch,
                    train_flop_per_sample * double(train_count) / epoch * 1e-9);
        bench::print_json_array("epoch_seconds_all", epoch_times);
        std::printf(", ");
    }
    std::printf("\"samples_per_s_128\": %.1f, \"samples_per_s_32\": %.1f, \"predict_us\": %.2f, "
                "\"fma_peak_1t_gflops\": %.1f, \"fma_peak_2t_gflops\": %.1f, \"isa\": \"%s\"}\n",
                step_rates[0], step_rates[1], predict_seconds * 1e6, peak1, peak2, compiled_isa().c_str());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "versus_ctnn_resnet: %s\n", e.what());
    return 1;
}
