// examples/mnist_mlp.cpp — the reference Keras notebook as a ctnn program: an MLP on (Fashion-)MNIST.
//
// Goal:    train 784-1000-500-10 with dropout, Adam and cross-entropy for 10 epochs, print the
//          History and, as the notebook does, a last line `score = [<test loss>, <test accuracy>]`.
// Data:    any directory with the four IDX files of MNIST / Fashion-MNIST / KMNIST, raw or .gz.
//          Default: /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist).
// Run:     build/examples/mnist_mlp [--data DIR] [--epochs 10] [--batch-size 1000]
//                                   [--validation-size 5000] [--seed 0]
//                                   [--save-onnx FILE] [--save-predictions FILE.npy]  (test set, float32 rows)
//                                   [--backup-dir DIR] (a killed run started again resumes) [--save-weights FILE]
#include <cstdio>
#include <exception>
#include <iostream>

#include <ctnn/ctnn.hpp>
#include <ctnn/datasets/mnist.hpp>

#include "cli.hpp"
#include "backup.hpp"
#include "export.hpp"

using namespace ctnn;

// The network is a type. A named struct (not an alias) keeps compiler messages short.
// Dropout<0.9> has Keras's meaning: 90% of the 500 units are dropped while training.
struct MnistMlp : Sequential<Dense<784, 1000, Relu>,   // (B, 784)  -> (B, 1000)
                             Dense<1000, 500, Relu>,   // (B, 1000) -> (B, 500)
                             Dropout<0.9>,             // (B, 500)  -> (B, 500)
                             Dense<500, 10, Softmax>>  // (B, 500)  -> (B, 10) class probabilities
{};
static_assert(MnistMlp::param_count == 1'290'510);  // checked by the compiler, as Keras's summary() shows

int main(int argc, char** argv) try {
    const examples::Options options(argc, argv,
                                    {{"data", datasets::mnist::default_directory},
                                     {"epochs", "10"},
                                     {"batch-size", "1000"},
                                     {"validation-size", "5000"},
                                     {"seed", "0"},
                                     {"save-onnx", ""},            // FILE: the trained model as ONNX
                                     {"save-predictions", ""},     // FILE.npy: predict on the test set
                                     {"backup-dir", ""},           // DIR: back up every epoch; a rerun resumes
                                     {"save-weights", ""}});       // FILE: the trained weights as .npz

    // 1. Data: 55,000 training, 5,000 validation (the first training images, as read_data_sets
    //    did), 10,000 test images; pixels scaled to [0, 1], labels one-hot.
    const auto data = datasets::mnist::load(options.text("data"), {.validation_size = options.number("validation-size")});

    // 2. Model: the network type plus Keras's defaults for Adam (lr 0.001, epsilon 1e-7).
    auto model = compile<MnistMlp>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
    model.initialize(options.number("seed"));
    model.summary();

    // 3. Train: batches of 1000, reshuffled every epoch, validated on the held-out 5,000 images.
    //    With --backup-dir, a run killed and started again resumes where it stopped, bit for bit.
    examples::Backup backup(options);
    const History history = model.fit(data.train.x, data.train.y,
                                      {.epochs = options.number("epochs"),
                                       .batch_size = options.number("batch-size"),
                                       .validation_data = {data.validation.x, data.validation.y},
                                       .seed = options.number("seed")},
                                      backup);
    examples::save_weights(model, options);
    std::cout << "history = " << history << '\n';

    // 4. Test: loss and accuracy on images the model has never seen.
    const auto score = model.evaluate(data.test.x, data.test.y, {.batch_size = 1000});
    examples::save_exports(model, options, data.test.x, 1000);
    std::printf("score = [%.4f, %.4f]\n", score[0], score[1]);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "mnist_mlp: %s\n", e.what());
    return 1;
}
