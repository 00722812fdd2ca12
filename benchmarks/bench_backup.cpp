// benchmarks/bench_backup.cpp — what BackupAndRestore costs (issue 23): examples/mnist_mlp's recipe
// (784-1000-500-10, Dropout 0.9, Adam, batch 1000, 55,000 training and 5,000 validation images of
// Fashion-MNIST) fitted for --epochs epochs with no backup, a backup every epoch and a backup every
// 100 batches (and every 10, for scale). Each backup is the whole training state (weights and Adam's
// m and v: 15.5 MB) written to a temporary file, fsynced and renamed into place; the fit's time
// includes the first backup at on_train_begin and the deletion at the end, as a user pays them.
// The modes are interleaved, --repeats times, and the best time of each is kept.
//
// Run: build-bench/benchmarks/bench_backup [--data DIR] [--epochs 3] [--repeats 3] [--dir DIR]
//      (--dir: where the backups go, default a directory under $TMPDIR: the disk being measured)
#include <chrono>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/datasets/mnist.hpp>

#include "../examples/cli.hpp"

using namespace ctnn;

struct MnistMlp : Sequential<Dense<784, 1000, Relu>, Dense<1000, 500, Relu>, Dropout<0.9>, Dense<500, 10, Softmax>> {};

int main(int argc, char** argv) try {
    const examples::Options options(argc, argv,
                                    {{"data", datasets::mnist::default_directory},
                                     {"epochs", "3"},
                                     {"repeats", "3"},
                                     {"dir", (std::filesystem::temp_directory_path() / "ctnn-bench-backup").string()}});
    const auto data = datasets::mnist::load(options.text("data"), {.validation_size = 5000});
    const std::size_t epochs = options.number("epochs");
    const std::filesystem::path dir = options.text("dir");
    struct Mode {
        const char* name;
        std::optional<callbacks::SaveFrequency> freq;
        double best = std::numeric_limits<double>::infinity();
    };
    std::vector<Mode> modes = {{"no backup", std::nullopt}, {"every epoch", "epoch"}, {"every 100 batches", 100},
                               {"every 10 batches", 10}};
    for (std::size_t r = 0; r < options.number("repeats"); ++r)
        for (Mode& mode : modes) {
            auto model = compile<MnistMlp>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
            model.initialize(0);
            const FitOptions fit{.epochs = epochs,
                                 .batch_size = 1000,
                                 .validation_data = {data.validation.x, data.validation.y},
                                 .verbose = 0,
                                 .seed = 0};
            const auto start = std::chrono::steady_clock::now();
            if (mode.freq) {
                callbacks::BackupAndRestore backup{{.backup_dir = dir, .save_freq = *mode.freq}};
                model.fit(data.train.x, data.train.y, fit, backup);
            } else {
                model.fit(data.train.x, data.train.y, fit);
            }
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            mode.best = std::min(mode.best, seconds / double(epochs));
            std::printf("repeat %zu %-18s %.3f s/epoch\n", r, mode.name, seconds / double(epochs));
        }
    std::printf("\nbest of %zu, %zu epochs of %zu batches of 1000, backups in %s:\n", std::size_t(options.number("repeats")),
                epochs, std::size_t(55), dir.c_str());
    for (const Mode& mode : modes)
        std::printf("%-18s %.3f s/epoch  %+.2f%%\n", mode.name, mode.best, 100.0 * (mode.best / modes[0].best - 1.0));
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "bench_backup: %s\n", e.what());
    return 1;
}
