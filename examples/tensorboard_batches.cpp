// examples/tensorboard_batches.cpp — the notebook's `Batched_TensorBoard`: a callback you write
// yourself to put one point per *batch* on TensorBoard's curves.
//
// Goal:    train 784-1000-500-10 (dropout, Adam, cross-entropy) and, after every batch, write the
//          batch logs' "accuracy" and "loss" (Keras's running means over the epoch so far) at a step
//          that counts batches across epochs. About 15 lines of user code, no base class: any object
//          with an on_batch_end(batch, logs) member is a callback. Ends with `score = [loss, acc]`.
//          (The built-in callbacks::TensorBoard{{.update_freq = UpdateFreq::batch}} does the same with
//          Keras 3's tags; see examples/tensorboard_epochs.cpp.)
// Data:    any directory with the four IDX files of MNIST / Fashion-MNIST, raw or .gz.
//          Default: /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist).
// Run:     build/examples/tensorboard_batches [--data DIR] [--epochs 10] [--batch-size 1000]
//                                             [--logdir ./log_dir] [--seed 0]
//          then: tensorboard --logdir ./log_dir
#include <cstdint>
#include <cstdio>
#include <exception>
#include <iostream>

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

// The user's callback. It owns its event file (one TensorBoard run, the directory itself) and its
// own step, because the batch index fit passes restarts at 0 every epoch.
struct BatchedTensorBoard {
    tensorboard::EventWriter writer;
    std::int64_t step = 0;

    explicit BatchedTensorBoard(const std::string& log_dir) : writer(log_dir) {}

    void on_batch_end(std::size_t /*batch*/, const Logs& logs) {
        writer.add_scalar("accuracy", static_cast<float>(logs.at("accuracy")), step);
        writer.add_scalar("loss", static_cast<float>(logs.at("loss")), step);
        writer.flush();  // as the notebook: the point shows up in TensorBoard right away
        ++step;
    }
};

int main(int argc, char** argv) try {
    const examples::Options options(argc, argv,
                                    {{"data", datasets::mnist::default_directory},
                                     {"epochs", "10"},
                                     {"batch-size", "1000"},
                                     {"logdir", "./log_dir"},
                                     {"seed", "0"}});

    // 1. Data: 55,000 training, 5,000 validation, 10,000 test images.
    const auto data = datasets::mnist::load(options.text("data"), {.validation_size = 5000});

    // 2. Model: the network type plus Keras's Adam defaults.
    auto model = compile<MnistMlp>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
    model.initialize(options.number("seed"));

    // 3. The callback opens its event file now, so a bad --logdir fails before any training.
    BatchedTensorBoard batched(options.text("logdir"));

    // 4. Train: 55 batches of 1000 per epoch, so 55 points per epoch on each curve.
    const History history = model.fit(data.train.x, data.train.y,
                                      {.epochs = options.number("epochs"),
                                       .batch_size = options.number("batch-size"),
                                       .validation_data = {data.validation.x, data.validation.y},
                                       .seed = options.number("seed")},
                                      batched);
    std::cout << "history = " << history << '\n';
    std::cout << batched.step << " batches logged to " << batched.writer.path().string()
              << "; view them with: tensorboard --logdir " << options.text("logdir") << '\n';

    // 5. Test: the images the model has never seen.
    const auto score = model.evaluate(data.test.x, data.test.y, {.batch_size = 1000});
    std::printf("score = [%.4f, %.4f]\n", score[0], score[1]);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "tensorboard_batches: %s\n", e.what());
    return 1;
}
