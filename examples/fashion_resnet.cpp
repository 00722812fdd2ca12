// examples/fashion_resnet.cpp — ResNet-20 v1 of Keras's "Trains a ResNet on the CIFAR10 dataset" example
// (keras-team/keras, examples/cifar10_resnet.py, resnet_v1 with n = 3, depth 6n + 2 = 20) as a ctnn program,
// on Fashion-MNIST's 28x28x1 images instead of CIFAR-10's 32x32x3.
//
// Goal:    train the network with Adam and cross-entropy for 12 epochs at batch 128 (the learning rate 10x
//          lower for the last third), validating on the last
//          10% of the training images (validation_split = 0.1), print the History and a last line
//          `score = [<test loss>, <test accuracy>]`, as examples/mnist_convnet.cpp does.
// Network: as resnet_v1: a stem Conv2D(16, 3x3) + BatchNormalization + ReLU; three stages of three residual
//          blocks at 16, 32 and 64 filters, each block Conv2D(3x3, stride s) -> BN -> ReLU -> Conv2D(3x3) -> BN,
//          added to the shortcut, then ReLU; the first block of stages 2 and 3 halves the image (stride 2)
//          and its shortcut is a 1x1 Conv2D with stride 2 and no BatchNormalization (resnet_layer(...,
//          batch_normalization=False) in Keras's example; ctnn would also take Shortcut<Conv2D<...>,
//          BatchNormalization>). Every convolution is padding "same" and keeps its bias (use_bias=True, as
//          Keras's example); those before a BatchNormalization have no activation of their own, so the
//          BatchNormalization folds into them at inference. Then the mean of each channel over the image and
//          a softmax classifier.
// Differs from Keras's example:
//          - kernels start Glorot-uniform (ctnn's and Keras's default), not he_normal, and there is no l2(1e-4)
//            kernel regularizer (ctnn has none);
//          - GlobalAveragePooling2D over the last 7x7 images instead of AveragePooling2D(pool_size=8) + Flatten
//            over CIFAR's 8x8 ones (the same thing: one window over the whole image);
//          - a learning rate of 1e-3 (where Keras's lr_schedule starts) for the first two thirds of the epochs,
//            then 1e-4 (Keras's schedule steps down by 10x at 40% of its 200 epochs; one step suits 12), and no
//            data augmentation; 1 input channel, so the stem has 288 weights fewer: 274,154 parameters here against
//            274,442 for the CIFAR network (32x32x3), counted the same way (1,376 non-trainable in both).
// Data:    any directory with the four IDX files of MNIST / Fashion-MNIST / KMNIST, raw or .gz.
//          Default: /usr/share/datasets/fashion-mnist (Debian package dataset-fashion-mnist).
//          All 60,000 training images go to fit, which holds out the last 6,000; 10,000 test images.
// Run:     build/examples/fashion_resnet [--data DIR] [--epochs 12] [--batch-size 128] [--seed 0]
//                                        [--save-onnx FILE] [--save-predictions FILE.npy]  (test set, float32 rows)
//                                        [--logdir DIR]    (TensorBoard logs with kernel histograms)
//                                        [--backup-dir DIR] (a killed run started again resumes) [--save-weights FILE]
//          One epoch is 54,000 samples of ~0.19 GFLOP each (forward and backward): minutes on two cores
//          (measured epochs and accuracies in benchmarks/README.md, "ResNet-20 and ResNet-56"). The first
//          epochs validate far below their training accuracy, in PyTorch too: BatchNormalization's moving
//          statistics lag weights that Adam still moves fast.
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

#include <ctnn/ctnn.hpp>
#include <ctnn/datasets/mnist.hpp>

#include "cli.hpp"
#include "backup.hpp"
#include "export.hpp"
#include "fashion_resnet20.hpp"

using namespace ctnn;

using examples::FashionResNet20;

int main(int argc, char** argv) try {
    const examples::Options options(argc, argv,
                                    {{"data", datasets::mnist::default_directory},
                                     {"epochs", "12"},
                                     {"batch-size", "128"},
                                     {"seed", "0"},
                                     {"logdir", ""},
                                     {"save-onnx", ""},            // FILE: the trained model as ONNX
                                     {"save-predictions", ""},     // FILE.npy: predict on the test set
                                     {"backup-dir", ""},           // DIR: back up every epoch; a rerun resumes
                                     {"save-weights", ""}});       // FILE: the trained weights as .npz

    // 1. Data: all 60,000 training images (fit takes the last 10% for validation itself), 10,000 test
    //    images; pixels scaled to [0, 1], labels one-hot.
    const auto data = datasets::mnist::load(options.text("data"), {.validation_size = 0});

    // 2. Model: the network type plus Keras's defaults for Adam (lr 0.001, epsilon 1e-7).
    auto model = compile<FashionResNet20>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
    model.initialize(options.number("seed"));
    model.summary();

    // 3. Train: batches of 128, reshuffled every epoch, validated on the last 6,000 training images
    //    (taken before shuffling, as Keras does). BatchNormalization uses each batch's statistics while
    //    training and its moving ones for validation and test. The learning rate steps from 1e-3 down to
    //    1e-4 after two thirds of the epochs. With --logdir, TensorBoard logs every epoch, with a
    //    histogram of every kernel and bias.
    const FitOptions fit_options{.epochs = options.number("epochs"),
                                 .batch_size = options.number("batch-size"),
                                 .validation_split = 0.1,
                                 .seed = options.number("seed")};
    const std::size_t slow_from = fit_options.epochs - fit_options.epochs / 3;  // the last third, rounded down
    callbacks::LearningRateScheduler schedule([slow_from](std::size_t epoch) { return epoch < slow_from ? 1e-3 : 1e-4; });
    const std::string logdir = options.text("logdir");
    examples::Backup backup(options);  // --backup-dir: a killed run started again resumes, bit for bit
    const History history =
        logdir.empty() ? model.fit(data.train.x, data.train.y, fit_options, schedule, backup)
                       : model.fit(data.train.x, data.train.y, fit_options, schedule, backup,
                                   callbacks::TensorBoard{{.log_dir = logdir, .histogram_freq = 1}});
    examples::save_weights(model, options);
    std::cout << "history = " << history << '\n';

    // 4. Test: loss and accuracy on images the model has never seen.
    const auto score = model.evaluate(data.test.x, data.test.y, {.batch_size = options.number("batch-size")});
    examples::save_exports(model, options, data.test.x, options.number("batch-size"));
    std::printf("score = [%.4f, %.4f]\n", score[0], score[1]);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "fashion_resnet: %s\n", e.what());
    return 1;
}
