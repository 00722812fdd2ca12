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
    auto model = compile<MnistConvnet>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
    model.initialize(0);
    // The protocol of pytorch_convnet.py (keep the two in step): 5 warm-up steps and 3 whole epochs at
    // batch 128, 10 + 100 steps at batch 128 and 32, 100 + 1000 batch-1 predicts.
    bench::measure_image_model(model,
                               {.name = "convnet",
                                .train_flop_per_sample = train_flop_per_sample,
                                .epoch_warmup_steps = 5,
                                .epoch_repeats = 3,
                                .step_warmup = 10,
                                .step_timed = 100,
                                .latency_warmup = 100,
                                .latency_calls = 1000},
                               data);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "versus_ctnn_convnet: %s\n", e.what());
    return 1;
}
