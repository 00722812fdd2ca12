// examples/mnist_mlp_mpi.cpp — the reference network of mnist_mlp.cpp, trained data-parallel over MPI.
//
// Goal:    the same 784-1000-500-10 MLP, the same History and `score = [loss, accuracy]` line, but
//          every global batch is split across the ranks of MPI_COMM_WORLD. With the default
//          deterministic reduction the weights are bit-identical at any number of ranks (same seed,
//          batch size and shard count), so `--save-weights` writes the same file from 1, 2 or 4 ranks.
//          --batch-norm 1 trains MnistMlpBatchNorm instead (BatchNormalization after each hidden
//          Dense): its batch statistics are taken per shard and its moving statistics are summed
//          over the shards like gradients, so they too are the same bits at any number of ranks.
// Data:    as mnist_mlp: any directory with the four MNIST IDX files; every rank loads all of it.
// Run:     mpirun -np 2 build/examples/mnist_mlp_mpi [--data DIR] [--epochs 10] [--batch-size 1000]
//              [--validation-size 5000] [--seed 0] [--save-weights PATH] [--shards 8]
//              [--reduction deterministic|allreduce|none] [--train-size 0] [--batch-norm 0]
//              [--verbose 1] [--timing 0] [--save-onnx FILE] [--save-predictions FILE.npy]
//              [--backup-dir DIR]  (a killed job started again, at any number of ranks, resumes)
//          (as root add --allow-run-as-root to mpirun; --oversubscribe for more ranks than cores).
//          --reduction none is plain fit in one process (mnist_mlp), for comparisons; --train-size N
//          trains on the first N training images (0: all 55,000); --batch-norm 1 trains the
//          BatchNormalization variant; --timing 1 prints each epoch's training time (batches only,
//          validation excluded) as `epoch_seconds = [...]`.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <iostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <xtensor/xview.hpp>

#include <ctnn/ctnn.hpp>
#include <ctnn/datasets/mnist.hpp>
#include <ctnn/distributed/distributed.hpp>

#include "cli.hpp"
#include "backup.hpp"
#include "export.hpp"

using namespace ctnn;

// The network of mnist_mlp.cpp, unchanged: data parallelism is an option of fit, not of the type.
struct MnistMlp : Sequential<Dense<784, 1000, Relu>,   // (B, 784)  -> (B, 1000)
                             Dense<1000, 500, Relu>,   // (B, 1000) -> (B, 500)
                             Dropout<0.9>,             // (B, 500)  -> (B, 500)
                             Dense<500, 10, Softmax>>  // (B, 500)  -> (B, 10) class probabilities
{};
static_assert(MnistMlp::param_count == 1'290'510);

// --batch-norm 1: the same MLP with Keras's BatchNormalization between each hidden Dense and its
// ReLU (so the Dense has no activation of its own, and inference folds the pair into one layer).
//   Dense 784·1000 + 1000 = 785,000    BatchNormalization 4·1000 = 4,000 (2,000 non-trainable)
//   Dense 1000·500 + 500  = 500,500    BatchNormalization 4·500  = 2,000 (1,000 non-trainable)
//   Dense 500·10 + 10     =   5,010    total 1,296,510, of which 3,000 (the moving statistics) non-trainable
struct MnistMlpBatchNorm : Sequential<Dense<784, 1000>,         // (B, 784)  -> (B, 1000)
                                      BatchNormalization,       // (B, 1000) -> (B, 1000)
                                      Activation<Relu>,         // (B, 1000) -> (B, 1000)
                                      Dense<1000, 500>,         // (B, 1000) -> (B, 500)
                                      BatchNormalization,       // (B, 500)  -> (B, 500)
                                      Activation<Relu>,         // (B, 500)  -> (B, 500)
                                      Dropout<0.9>,             // (B, 500)  -> (B, 500)
                                      Dense<500, 10, Softmax>>  // (B, 500)  -> (B, 10) class probabilities
{};
static_assert(MnistMlpBatchNorm::param_count == 1'296'510);
static_assert(MnistMlpBatchNorm::non_trainable_param_count == 3'000);

// Wall time of each epoch's batches, from the first batch's start to the last batch's end, so the
// validation pass does not blur a comparison of training steps. Runs on every rank (no `ranks`).
struct EpochTimer {
    using clock = std::chrono::steady_clock;
    clock::time_point start, last;
    std::vector<double> seconds;
    void on_epoch_begin() { start = last = clock::now(); }
    void on_train_batch_end() { last = clock::now(); }
    void on_epoch_end() { seconds.push_back(std::chrono::duration<double>(last - start).count()); }
};

// --reduction: how the ranks' gradients are summed (core/communicator.hpp), or "none" for plain fit.
static std::optional<GradientReduction> parse_reduction(const std::string& name) {
    if (name == "deterministic") return GradientReduction::deterministic;
    if (name == "allreduce") return GradientReduction::allreduce;
    if (name == "none") return std::nullopt;
    throw std::invalid_argument("--reduction: expected deterministic, allreduce or none, got '" + name + "'");
}

// Steps 2 to 5, the same for either network: the network is a type, so they are a template over it.
template <class Network>
void train_and_report(distributed::MpiCommunicator& world, const examples::Options& options,
                      const datasets::mnist::Dataset& data, std::optional<GradientReduction> reduction) {
    const bool first_rank = world.rank() == 0;

    // 2. Model: each rank initializes its own, then fit broadcasts rank 0's weights to all.
    auto model = compile<Network>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
    model.initialize(options.number("seed"));
    if (first_rank) model.summary();

    // 3. Train: batch_size is the global batch; each rank computes its shards of it, and the
    //    progress bar (a writer) runs on rank 0 only.
    const DataParallel data_parallel{.communicator = reduction ? &world : nullptr,
                                     .shards = options.number("shards"),
                                     .reduction = reduction.value_or(GradientReduction::deterministic)};
    EpochTimer timer;
    examples::Backup backup(options);  // rank 0 writes DIR/backup.npz, every rank restores it
    const History history = model.fit(data.train.x, data.train.y,
                                      {.epochs = options.number("epochs"),
                                       .batch_size = options.number("batch-size"),
                                       .validation_data = {data.validation.x, data.validation.y},
                                       .verbose = static_cast<int>(options.number("verbose")),
                                       .seed = options.number("seed"),
                                       .data_parallel = data_parallel},
                                      timer, backup);

    // 4. Test: each rank scores its part of the test images; every rank gets the global score.
    const auto score = model.evaluate(data.test.x, data.test.y, {.batch_size = 1000, .data_parallel = data_parallel});

    // 5. Weights (moving statistics included): identical on every rank, so one writer is enough
    //    (the file is written atomically).
    if (first_rank && !options.text("save-weights").empty()) model.save_weights(options.text("save-weights"));
    if (!first_rank) return;
    examples::save_exports(model, options, data.test.x, 1000);
    std::cout << "history = " << history << '\n';
    if (options.number("timing") != 0) {
        std::cout << "epoch_seconds = [";
        for (std::size_t i = 0; i < timer.seconds.size(); ++i) std::printf("%s%.4f", i ? ", " : "", timer.seconds[i]);
        std::cout << "]\n";
    }
    std::printf("score = [%.4f, %.4f]\n", score[0], score[1]);
}

int main(int argc, char** argv) {
    // Starts MPI (unless the program already did) and ends it when `world` goes out of scope.
    distributed::MpiCommunicator world;

    // An exception on any rank (a missing file, a bad flag) prints `ctnn: rank R of N: ...` and
    // ends every rank: the others would otherwise wait forever in their next collective call.
    return distributed::run_or_abort(world, [&] {
        const examples::Options options(argc, argv,
                                        {{"data", datasets::mnist::default_directory},
                                         {"epochs", "10"},
                                         {"batch-size", "1000"},
                                         {"validation-size", "5000"},
                                         {"seed", "0"},
                                         {"save-weights", ""},
                                         {"backup-dir", ""},
                                         {"shards", "8"},
                                         {"reduction", "deterministic"},
                                         {"train-size", "0"},
                                         {"batch-norm", "0"},
                                         {"verbose", "1"},
                                         {"timing", "0"},
                                         {"save-onnx", ""},            // FILE: the trained model as ONNX (rank 0)
                                         {"save-predictions", ""}});  // FILE.npy: predict on the test set (rank 0)
        const std::optional<GradientReduction> reduction = parse_reduction(options.text("reduction"));
        if (!reduction && world.size() > 1)
            throw std::invalid_argument("--reduction none trains in one process; expected 1 rank, got " +
                                        std::to_string(world.size()) + " (use deterministic or allreduce)");
        const std::uint64_t batch_norm = options.number("batch-norm");
        if (batch_norm > 1)
            throw std::invalid_argument("--batch-norm: expected 0 or 1, got " + std::to_string(batch_norm));

        // 1. Data: every rank loads the whole data set and trains on its part of each batch.
        auto data = datasets::mnist::load(options.text("data"), {.validation_size = options.number("validation-size")});
        if (const std::size_t n = options.number("train-size"); n > 0) {
            if (n > data.train.size())
                throw std::invalid_argument("--train-size: expected at most " + std::to_string(data.train.size()) +
                                            " (the training images), got " + std::to_string(n));
            data.train.x = xt::view(data.train.x, xt::range(0, n), xt::all());
            data.train.y = xt::view(data.train.y, xt::range(0, n), xt::all());
        }

        // 2-5. Train, test and save the network chosen by --batch-norm.
        if (batch_norm != 0) train_and_report<MnistMlpBatchNorm>(world, options, data, reduction);
        else train_and_report<MnistMlp>(world, options, data, reduction);
    });
}
