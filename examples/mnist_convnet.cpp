// examples/mnist_convnet.cpp — Keras's "Simple MNIST convnet" (keras.io/examples/vision/mnist_convnet) as a
// ctnn program: two convolutions and two poolings, then dropout and a softmax classifier.
//
// Goal:    train the convnet with Adam and cross-entropy for 15 epochs at batch 128, validating on the last
//          10% of the training images (validation_split = 0.1, as the Keras example), print the History and,
//          as Keras's example does, a last line `score = [<test loss>, <test accuracy>]`.
// Data:    any directory with the four IDX files of MNIST / Fashion-MNIST / KMNIST, raw or .gz.
//          Default: /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist).
//          All 60,000 training images go to fit, which holds out the last 6,000; 10,000 test images.
// Run:     build/examples/mnist_convnet [--data DIR] [--epochs 15] [--batch-size 128] [--seed 0]
//                                       [--logdir DIR]    (TensorBoard logs with kernel histograms)
//                                       [--save-onnx FILE] [--save-predictions FILE.npy]  (test set, float32 rows)
//                                       [--backup-dir DIR] (a killed run started again resumes) [--save-weights FILE]
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

#include <ctnn/ctnn.hpp>
#include <ctnn/datasets/mnist.hpp>

#include "cli.hpp"
#include "backup.hpp"
#include "export.hpp"

using namespace ctnn;

// The network is a type, with its shapes: a sample is an image (28, 28, 1), stored as its 784 pixels
// row-major (NHWC), which is what datasets::mnist::load returns. Kernels are (KH, KW, C, F) as Keras's.
struct MnistConvnet : Sequential<Input<28, 28, 1>,        // (B, 28, 28, 1)
                                 Conv2D<32, 3, 3, Relu>,  // (B, 26, 26, 32)
                                 MaxPooling2D<2, 2>,      // (B, 13, 13, 32)
                                 Conv2D<64, 3, 3, Relu>,  // (B, 11, 11, 64)
                                 MaxPooling2D<2, 2>,      // (B, 5, 5, 64)
                                 Flatten,                 // (B, 1600)
                                 Dropout<0.5>,            // (B, 1600), half of the features dropped while training
                                 Dense<1600, 10, Softmax>>  // (B, 10) class probabilities
{};
static_assert(MnistConvnet::param_count == 34'826);  // 320 + 18,496 + 16,010, as Keras's summary() shows

int main(int argc, char** argv) try {
    const examples::Options options(argc, argv,
                                    {{"data", datasets::mnist::default_directory},
                                     {"epochs", "15"},
                                     {"batch-size", "128"},
                                     {"seed", "0"},
                                     {"logdir", ""},
                                     {"save-onnx", ""},            // FILE: the trained model as ONNX
                                     {"save-predictions", ""},     // FILE.npy: predict on the test set
                                     {"backup-dir", ""},           // DIR: back up every epoch; a rerun resumes
                                     {"save-weights", ""}});       // FILE: the trained weights as .npz

    // 1. Data: all 60,000 training images (no validation set taken from the front: fit takes the last
    //    10% itself), 10,000 test images; pixels scaled to [0, 1], labels one-hot.
    const auto data = datasets::mnist::load(options.text("data"), {.validation_size = 0});

    // 2. Model: the network type plus Keras's defaults for Adam (lr 0.001, epsilon 1e-7).
    auto model = compile<MnistConvnet>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
    model.initialize(options.number("seed"));
    model.summary();

    // 3. Train: batches of 128, reshuffled every epoch, validated on the last 6,000 training images
    //    (taken before shuffling, as Keras does). With --logdir, TensorBoard logs every epoch, with a
    //    histogram of every kernel and bias.
    const FitOptions fit_options{.epochs = options.number("epochs"),
                                 .batch_size = options.number("batch-size"),
                                 .validation_split = 0.1,
                                 .seed = options.number("seed")};
    const std::string logdir = options.text("logdir");
    examples::Backup backup(options);  // --backup-dir: a killed run started again resumes, bit for bit
    const History history =
        logdir.empty() ? model.fit(data.train.x, data.train.y, fit_options, backup)
                       : model.fit(data.train.x, data.train.y, fit_options, backup,
                                   callbacks::TensorBoard{{.log_dir = logdir, .histogram_freq = 1}});
    examples::save_weights(model, options);
    std::cout << "history = " << history << '\n';

    // 4. Test: loss and accuracy on images the model has never seen.
    const auto score = model.evaluate(data.test.x, data.test.y, {.batch_size = options.number("batch-size")});
    examples::save_exports(model, options, data.test.x, options.number("batch-size"));
    std::printf("score = [%.4f, %.4f]\n", score[0], score[1]);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "mnist_convnet: %s\n", e.what());
    return 1;
}
