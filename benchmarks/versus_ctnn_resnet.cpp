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

// FLOPs of one training step per sample (a multiply-add = 2; BatchNormalization, ReLU, the Adds and Adam not
// counted): forward convolutions and Dense, the same again for the weight gradients, and the input gradients of
// all but the stem. As pytorch_resnet.py's TRAIN_FLOP_PER_SAMPLE.
constexpr double stem_macs = 28.0 * 28 * 16 * 9;
constexpr double stage1_macs = 6 * 28.0 * 28 * 16 * 144;
constexpr double stage2_macs = 14.0 * 14 * 32 * 144 + 5 * 14.0 * 14 * 32 * 288 + 14.0 * 14 * 32 * 16;
constexpr double stage3_macs = 7.0 * 7 * 64 * 288 + 5 * 7.0 * 7 * 64 * 576 + 7.0 * 7 * 64 * 32;
constexpr double forward_macs = stem_macs + stage1_macs + stage2_macs + stage3_macs + 64.0 * 10;
constexpr double train_flop_per_sample = 2 * (3 * forward_macs - stem_macs);
static_assert(train_flop_per_sample == 185'905'920.0);  // pytorch_resnet.py's TRAIN_FLOP_PER_SAMPLE

}  // namespace

int main(int argc, char** argv) try {
    std::string data_dir = datasets::mnist::default_directory;
    std::size_t epoch_repeats = 1;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--data") == 0 && i + 1 < argc) data_dir = argv[++i];
        else if (std::strcmp(argv[i], "--epoch-repeats") == 0 && i + 1 < argc)
            epoch_repeats = std::strtoul(argv[++i], nullptr, 10);
        else throw std::invalid_argument(std::string("unknown argument '") + argv[i] +
                                         "'; usage: versus_ctnn_resnet [--data DIR] [--epoch-repeats N]");
    }
    const auto data = datasets::mnist::load(data_dir, {.validation_size = 0});
    auto model = compile<examples::FashionResNet20>(optimizers::Adam{}, losses::CategoricalCrossentropy{},
                                                    metrics::Accuracy{});
    model.initialize(0);
    // The protocol of pytorch_resnet.py (keep the two in step): 3 warm-up steps and one whole epoch at
    // batch 128, 3 + 20 steps at batch 128 and 32, 20 + 200 batch-1 predicts.
    bench::measure_image_model(model,
                               {.name = "resnet",
                                .train_flop_per_sample = train_flop_per_sample,
                                .epoch_warmup_steps = 3,
                                .epoch_repeats = epoch_repeats,
                                .step_warmup = 3,
                                .step_timed = 20,
                                .latency_warmup = 20,
                                .latency_calls = 200},
                               data);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "versus_ctnn_resnet: %s\n", e.what());
    return 1;
}
