// examples/tensorboard_epochs.cpp — the reference notebook's MLP with the built-in TensorBoard callback.
//
// Goal:    train 784-1000-500-10 (dropout, Adam, cross-entropy) and log the epoch curves the way
//          Keras 3's `TensorBoard(log_dir="./graphs")` does: runs `train` and `validation`, tags
//          epoch_loss, epoch_accuracy, epoch_learning_rate (train) and epoch_loss, epoch_accuracy,
//          evaluation_{loss,accuracy}_vs_iterations (validation), plus one histogram per weight.
//          Ends with `score = [<test loss>, <test accuracy>]`, as the notebook.
// Data:    any directory with the four IDX files of MNIST / Fashion-MNIST, raw or .gz.
//          Default: /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist).
// Run:     build/examples/tensorboard_epochs [--data DIR] [--epochs 10] [--batch-size 1000]
//                                            [--logdir ./graphs] [--seed 0]
//          then: tensorboard --logdir ./graphs   (and open http://localhost:6006)
#include <cstdio>
#include <exception>
#include <iostream>

#include <ctnn/callbacks/tensorboard.hpp>
#include <ctnn/ctnn.hpp>
#include <ctnn/datasets/mnist.hpp>

#include "cli.hpp"

using namespace ctnn;

// The same network as examples/mnist_mlp.cpp. Dropout<0.9> drops 90% of the 500 units (Keras's meaning).
struct MnistMlp : Sequential<Dense<784, 1000, Relu>,   // (B, 784)  -> (B, 1000)
                             Dense<1000, 500, Relu>,   // (B, 1000) -> (B, 500)
                             Dropout<0.9>,             // (B, 500)  -> (B, 500)
                             Dense<500, 10, Softmax>>  // (B, 500)  -> (B, 10) class probabilities
{};

int main(int argc, char** argv) try {
    const examples::Options options(argc, argv,
                                    {{"data", datasets::mnist::default_directory},
                                     {"epochs", "10"},
                                     {"batch-size", "1000"},
                                     {"logdir", "./graphs"},
                                     {"seed", "0"}});

    // 1. Data: the 5,000 validation images give TensorBoard its `validation` run.
    const auto data = datasets::mnist::load(options.text("data"), {.validation_size = 5000});

    // 2. Model: the network type plus Keras's Adam defaults.
    auto model = compile<MnistMlp>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
    model.initialize(options.number("seed"));

    // 3. The callback: one point per epoch (update_freq = epoch, Keras's default) and a histogram of
    //    every kernel and bias each epoch, so TensorBoard's Distributions tab shows the weights move.
    callbacks::TensorBoard tensorboard({.log_dir = options.text("logdir"),
                                        .update_freq = callbacks::UpdateFreq::epoch,
                                        .histogram_freq = 1});

    // 4. Train with validation data, so the validation run gets its curves.
    const History history = model.fit(data.train.x, data.train.y,
                                      {.epochs = options.number("epochs"),
                                       .batch_size = options.number("batch-size"),
                                       .validation_data = {data.validation.x, data.validation.y},
                                       .seed = options.number("seed")},
                                      tensorboard);
    std::cout << "history = " << history << '\n';
    std::cout << "logs in " << tensorboard.train_dir().string() << " and " << tensorboard.validation_dir().string()
              << "; view them with: tensorboard --logdir " << options.text("logdir") << '\n';

    // 5. Test: the images the model has never seen.
    const auto score = model.evaluate(data.test.x, data.test.y, {.batch_size = 1000});
    std::printf("score = [%.4f, %.4f]\n", score[0], score[1]);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "tensorboard_epochs: %s\n", e.what());
    return 1;
}
