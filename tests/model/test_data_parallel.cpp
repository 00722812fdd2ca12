// Data-parallel fit and evaluate (FitOptions::data_parallel) over an in-process communicator whose
// ranks are threads: the same bits at any rank count, rank 0's weights everywhere, global logs,
// rank-0-only callbacks, stop_training from rank 0, and the checks made before any collective call.
// The same properties under real MPI processes: tests/distributed/mpi and examples/check_mnist_mlp_mpi.sh.
#include <doctest/doctest.h>

#include <algorithm>

#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <unistd.h>

#include "distributed/thread_communicator.hpp"
#include "helpers.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace model_test_data_parallel {

using namespace ctnn;
using testing::ThreadCommunicator;
using testing::ThreadWorld;
using testing::rethrow_first;

namespace {
struct DropoutNet : Sequential<Dense<6, 24, Relu>, Dropout<0.5>, Dense<24, 3, Softmax>> {};
struct PlainNet : Sequential<Dense<6, 16, Tanh>, Dense<16, 3, Softmax>> {};
// BatchNormalization's batch statistics are taken per shard, and its moving statistics are summed
// over the shards like gradients: they too must come out the same at any rank count.
struct NormalizedNet
    : Sequential<Dense<6, 24>, BatchNormalization, Activation<Relu>, Dropout<0.5>, Dense<24, 3, Softmax>> {};
// Recurrent layers: backpropagation through time sums every step's weight gradient inside a shard.
struct RecurrentNet : Sequential<Input<3, 2>, LSTM<8, return_sequences>, GRU<6>, Dense<6, 3, Softmax>> {};

struct Data {
    Matrix x, y;
};
Data make_data(std::size_t n, std::uint64_t seed) {
    Rng rng(seed);
    Data d{Matrix::from_shape({n, 6}), Matrix::from_shape({n, 3})};
    d.y.fill(0.0f);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t cls = i % 3;
        for (std::size_t c = 0; c < 6; ++c) d.x(i, c) = rng.uniform(-1.0f, 1.0f) + (c == cls ? 1.5f : 0.0f);
        d.y(i, cls) = 1.0f;
    }
    return d;
}

// What one rank ends with: its weights' bytes and its History.
struct Outcome {
    std::vector<NamedArray> weights;
    std::map<std::string, std::vector<double>> history;
};
bool same_bits(const std::vector<NamedArray>& a, const std::vector<NamedArray>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].name != b[i].name || a[i].values.size() != b[i].values.size() ||
            std::memcmp(a[i].values.data(), b[i].values.data(), a[i].values.size() * sizeof(float)) != 0)
            return false;
    return true;
}
bool same_bits(const std::map<std::string, std::vector<double>>& a, const std::map<std::string, std::vector<double>>& b) {
    if (a.size() != b.size()) return false;
    for (const auto& [key, values] : a) {
        const auto it = b.find(key);
        if (it == b.end() || it->second.size() != values.size() ||
            std::memcmp(values.data(), it->second.data(), values.size() * sizeof(double)) != 0)
            return false;
    }
    return true;
}

// Trains Net (DropoutNet by default) on `ranks` thread-ranks; rank r starts from its own seed, so only
// the broadcast of rank 0's weights can make them agree.
template <class Net = DropoutNet>
std::vector<Outcome> train_dropout_net(int ranks, GradientReduction reduction, std::size_t shards = 8) {
    const Data data = make_data(230, 5);
    ThreadWorld world(ranks);
    std::vector<Outcome> outcomes(static_cast<std::size_t>(ranks));
    rethrow_first(world.run([&](ThreadCommunicator& comm) {
        auto model = compile<Net>(optimizers::Adam{.learning_rate = 0.01f}, losses::CategoricalCrossentropy{},
                                         metrics::Accuracy{});
        model.initialize(100 + static_cast<std::uint64_t>(comm.rank()));
        const History h = model.fit(data.x, data.y,
                                    {.epochs = 3, .batch_size = 50, .validation_split = 0.2, .verbose = 0, .seed = 9,
                                     .data_parallel = {.communicator = &comm, .shards = shards, .reduction = reduction}});
        outcomes[static_cast<std::size_t>(comm.rank())] = {model.get_weights(), h.history};
    }));
    return outcomes;
}
}  // namespace

TEST_CASE("data-parallel fit: 1, 2, 3 and 4 ranks give bit-identical weights and History on every rank") {
    const std::vector<Outcome> one = train_dropout_net(1, GradientReduction::deterministic);
    REQUIRE(one.size() == 1);
    // It trained: the loss fell and the batches (50, 50, 50, 34 samples) were cut into uneven shards.
    const auto& loss = one[0].history.at("loss");
    REQUIRE(loss.size() == 3);
    CHECK(loss[2] < loss[0]);
    CHECK(one[0].history.count("val_accuracy") == 1);
    for (int ranks : {2, 3, 4}) {
        CAPTURE(ranks);
        const std::vector<Outcome> many = train_dropout_net(ranks, GradientReduction::deterministic);
        for (const Outcome& o : many) {
            CHECK(same_bits(o.weights, one[0].weights));
            CHECK(same_bits(o.history, one[0].history));
        }
    }
}

TEST_CASE("data-parallel fit with BatchNormalization: 1, 2 and 4 ranks give bit-identical weights, moving statistics included") {
    const std::vector<Outcome> one = train_dropout_net<NormalizedNet>(1, GradientReduction::deterministic);
    REQUIRE(one.size() == 1);
    // The moving statistics moved away from their initial zeros and ones, and the loss fell.
    const auto moving_mean = std::find_if(one[0].weights.begin(), one[0].weights.end(),
                                          [](const NamedArray& a) { return a.name == "batch_normalization/moving_mean"; });
    REQUIRE(moving_mean != one[0].weights.end());
    CHECK(std::any_of(moving_mean->values.begin(), moving_mean->values.end(), [](float v) { return v != 0.0f; }));
    const auto& loss = one[0].history.at("loss");
    CHECK(loss.back() < loss.front());
    for (int ranks : {2, 4}) {
        CAPTURE(ranks);
        const std::vector<Outcome> many = train_dropout_net<NormalizedNet>(ranks, GradientReduction::deterministic);
        for (const Outcome& o : many) {
            CHECK(same_bits(o.weights, one[0].weights));
            CHECK(same_bits(o.history, one[0].history));
        }
    }
}

TEST_CASE("data-parallel fit with LSTM and GRU: 1, 2 and 4 ranks give bit-identical weights and History") {
    const std::vector<Outcome> one = train_dropout_net<RecurrentNet>(1, GradientReduction::deterministic);
    REQUIRE(one.size() == 1);
    const auto& loss = one[0].history.at("loss");
    CHECK(loss.back() < loss.front());
    for (int ranks : {2, 4}) {
        CAPTURE(ranks);
        const std::vector<Outcome> many = train_dropout_net<RecurrentNet>(ranks, GradientReduction::deterministic);
        for (const Outcome& o : many) {
            CHECK(same_bits(o.weights, one[0].weights));
            CHECK(same_bits(o.history, one[0].history));
        }
    }
}

TEST_CASE("data-parallel fit, plain allreduce: every rank agrees; a different shard count is a different (valid) training") {
    const std::vector<Outcome> two = train_dropout_net(2, GradientReduction::allreduce);
    CHECK(same_bits(two[0].weights, two[1].weights));
    CHECK(same_bits(two[0].history, two[1].history));
    // The shard count is part of the result (dropout streams and grouping), as the README says.
    const std::vector<Outcome> four_shards = train_dropout_net(1, GradientReduction::deterministic, 4);
    const std::vector<Outcome> eight_shards = train_dropout_net(1, GradientReduction::deterministic, 8);
    CHECK_FALSE(same_bits(four_shards[0].weights, eight_shards[0].weights));
}

TEST_CASE("data-parallel fit at one rank and one shard is the plain fit, bit for bit; more shards agree to rounding") {
    const Data data = make_data(120, 3);
    auto train = [&](const DataParallel& dp) {
        auto model = compile<PlainNet>(optimizers::SGD{.learning_rate = 0.1f}, losses::CategoricalCrossentropy{},
                                       metrics::Accuracy{});
        model.initialize(4);
        const History h = model.fit(data.x, data.y, {.epochs = 2, .batch_size = 40, .shuffle = false, .verbose = 0,
                                                     .data_parallel = dp});
        return Outcome{model.get_weights(), h.history};
    };
    const Outcome plain = train({});
    ThreadWorld world(1);
    Outcome one_shard, four_shards;
    rethrow_first(world.run([&](ThreadCommunicator& comm) {
        one_shard = train({.communicator = &comm, .shards = 1});
        four_shards = train({.communicator = &comm, .shards = 4});
    }));
    CHECK(same_bits(one_shard.weights, plain.weights));
    CHECK(same_bits(one_shard.history, plain.history));
    // Four shards: the mean gradient is a sum of four scaled partial means, equal up to float rounding.
    CHECK_FALSE(same_bits(four_shards.weights, plain.weights));
    for (std::size_t i = 0; i < plain.weights.size(); ++i)
        for (std::size_t k = 0; k < plain.weights[i].values.size(); ++k)
            REQUIRE(four_shards.weights[i].values[k] == doctest::Approx(plain.weights[i].values[k]).epsilon(1e-4));
    CHECK(four_shards.history.at("loss")[1] == doctest::Approx(plain.history.at("loss")[1]).epsilon(1e-5));
}

namespace {
// Counts the batches it sees; on rank 0 it may also stop training after `stop_after` batches.
struct BatchCounter {
    void set_model(ModelInterface& m) { model = &m; }
    void on_train_batch_end(std::size_t) {
        ++batches;
        if (stop_after != 0 && batches == stop_after) model->stop_training = true;
    }
    ModelInterface* model = nullptr;
    std::size_t stop_after = 0;
    std::size_t batches = 0;
};
struct EpochCounter {  // a writer, as the built-in ones: rank 0 only unless on_every_rank
    static constexpr CallbackRanks ranks = CallbackRanks::first;
    void on_epoch_end(std::size_t) { ++epochs; }
    std::size_t epochs = 0;
};
}  // namespace

TEST_CASE("data-parallel fit: stop_training set by a rank-0-only callback stops every rank at the same batch") {
    const Data data = make_data(200, 8);
    ThreadWorld world(3);
    std::vector<std::size_t> seen(3), epochs(3);
    rethrow_first(world.run([&](ThreadCommunicator& comm) {
        auto model = compile<PlainNet>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
        BatchCounter every_rank;
        auto stopper = on_first_rank(BatchCounter{.stop_after = 3});
        const History h = model.fit(data.x, data.y, {.epochs = 5, .batch_size = 20, .verbose = 0,
                                                     .data_parallel = {.communicator = &comm}},
                                    every_rank, stopper);
        seen[static_cast<std::size_t>(comm.rank())] = every_rank.batches;
        epochs[static_cast<std::size_t>(comm.rank())] = h.history.at("loss").size();
        CHECK(stopper.batches == (comm.rank() == 0 ? 3u : 0u));
    }));
    CHECK(seen == std::vector<std::size_t>{3, 3, 3});
    CHECK(epochs == std::vector<std::size_t>{1, 1, 1});
}

TEST_CASE("data-parallel fit: writers run on rank 0 only; on_every_rank opts one in everywhere") {
    const Data data = make_data(60, 2);
    ThreadWorld world(2);
    std::vector<std::size_t> first_only(2), everywhere(2);
    std::vector<int> ranks_seen(2, -1);
    rethrow_first(world.run([&](ThreadCommunicator& comm) {
        auto model = compile<PlainNet>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
        EpochCounter writer;
        auto all = on_every_rank(EpochCounter{});
        struct ParamsProbe {
            void set_params(const FitParams& p) { rank = p.rank; ranks = p.ranks; }
            void on_train_begin() {}
            int rank = -1, ranks = -1;
        } probe;
        model.fit(data.x, data.y, {.epochs = 2, .batch_size = 30, .verbose = 0, .data_parallel = {.communicator = &comm}},
                  writer, all, probe);
        CHECK(probe.rank == comm.rank());
        CHECK(probe.ranks == 2);
        ranks_seen[static_cast<std::size_t>(comm.rank())] = probe.rank;
        first_only[static_cast<std::size_t>(comm.rank())] = writer.epochs;
        everywhere[static_cast<std::size_t>(comm.rank())] = all.epochs;
    }));
    CHECK(first_only == std::vector<std::size_t>{2, 0});
    CHECK(everywhere == std::vector<std::size_t>{2, 2});
    CHECK(ranks_seen == std::vector<int>{0, 1});
}

TEST_CASE("data-parallel evaluate: every rank reports exactly the score of one process evaluating everything") {
    const Data data = make_data(101, 6);
    auto model = compile<PlainNet>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
    model.initialize(12);
    const std::vector<double> alone = model.evaluate(data.x, data.y, {.batch_size = 16});
    for (int ranks : {1, 2, 3, 4}) {
        CAPTURE(ranks);
        ThreadWorld world(ranks);
        std::vector<std::vector<double>> scores(static_cast<std::size_t>(ranks));
        rethrow_first(world.run([&](ThreadCommunicator& comm) {
            auto replica = compile<PlainNet>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
            replica.initialize(12);
            scores[static_cast<std::size_t>(comm.rank())] =
                replica.evaluate(data.x, data.y, {.batch_size = 16, .data_parallel = {.communicator = &comm}});
        }));
        for (const auto& s : scores) {
            REQUIRE(s.size() == 2);
            CHECK(std::memcmp(s.data(), alone.data(), 2 * sizeof(double)) == 0);
        }
    }
}

TEST_CASE("data-parallel fit resumes from rank 0's checkpoint (load_weights + initial_epoch) with the same bits at 1 and 3 ranks") {
    const Data data = make_data(150, 4);
    const auto dir = std::filesystem::temp_directory_path() / ("ctnn_dp_resume_" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto resumed_weights = [&](int ranks) {
        ThreadWorld world(ranks);
        std::vector<std::vector<NamedArray>> weights(static_cast<std::size_t>(ranks));
        const auto checkpoint = dir / ("ranks" + std::to_string(ranks) + ".npz");
        rethrow_first(world.run([&](ThreadCommunicator& comm) {
            const DataParallel dp{.communicator = &comm, .shards = 4};
            auto model = compile<PlainNet>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
            model.fit(data.x, data.y, {.epochs = 2, .batch_size = 25, .verbose = 0, .seed = 1, .data_parallel = dp},
                      callbacks::ModelCheckpoint{checkpoint.string()});
            // A fresh process per rank; only rank 0 reads the file (the others start from anything).
            auto again = compile<PlainNet>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
            if (comm.rank() == 0) again.load_weights(checkpoint);
            again.fit(data.x, data.y, {.epochs = 3, .batch_size = 25, .initial_epoch = 2, .verbose = 0, .seed = 2,
                                       .data_parallel = dp});
            weights[static_cast<std::size_t>(comm.rank())] = again.get_weights();
        }));
        CHECK(std::filesystem::exists(checkpoint));  // written by rank 0
        return weights;
    };
    const auto one = resumed_weights(1);
    const auto three = resumed_weights(3);
    for (const auto& w : three) CHECK(same_bits(w, one[0]));
    std::filesystem::remove_all(dir);
}

TEST_CASE("data-parallel fit refuses a bad shard count, and ranks given different data, before training") {
    const Data data = make_data(90, 1);
    SUBCASE("shards not a power of two, or fewer than the ranks") {
        for (std::size_t shards : {std::size_t{6}, std::size_t{2}}) {
            ThreadWorld world(4);
            const auto errors = world.run([&](ThreadCommunicator& comm) {
                auto model = compile<PlainNet>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
                model.fit(data.x, data.y, {.batch_size = 30, .verbose = 0,
                                           .data_parallel = {.communicator = &comm, .shards = shards}});
            });
            for (const auto& e : errors) {
                REQUIRE(e);
                try {
                    std::rethrow_exception(e);
                } catch (const std::invalid_argument& error) {
                    const std::string what = error.what();
                    CHECK(what.find("data_parallel.shards is " + std::to_string(shards)) != std::string::npos);
                    CHECK(what.find("power of two") != std::string::npos);
                    CHECK(what.find("number of ranks (4)") != std::string::npos);
                }
            }
        }
    }
    SUBCASE("one rank has fewer samples: every rank stops with the same message") {
        const Data fewer = make_data(60, 1);
        ThreadWorld world(2);
        const auto errors = world.run([&](ThreadCommunicator& comm) {
            auto model = compile<PlainNet>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
            const Data& mine = comm.rank() == 1 ? fewer : data;
            model.fit(mine.x, mine.y, {.batch_size = 30, .verbose = 0, .data_parallel = {.communicator = &comm}});
        });
        for (const auto& e : errors) {
            REQUIRE(e);
            CHECK_THROWS_WITH_AS(std::rethrow_exception(e), doctest::Contains("fit: the ranks were given different data sizes or options: training samples is"),
                                 std::invalid_argument);
        }
    }
}

}  // namespace model_test_data_parallel

namespace model_test_data_parallel {

// Issue 23: rank 0 writes the backup, every rank restores it, and the backup does not depend on the
// rank count: 2 ranks interrupted mid-epoch, resumed at 2 and at 1 rank, end with the bits of an
// uninterrupted 2-rank run.
TEST_CASE("data-parallel fit with BackupAndRestore: 2 ranks interrupted, resumed at 2 and at 1 rank, give the uninterrupted bits") {
    const Data data = make_data(230, 5);
    testing::TempDir tmp("dp_backup");
    struct Crash : std::runtime_error {
        using std::runtime_error::runtime_error;
    };
    struct CrashAt {  // on every rank at the same batch, as a job killed there
        std::size_t epoch, batch, current = 0;
        void on_epoch_begin(std::size_t e) { current = e; }
        void on_train_batch_end(std::size_t b) {
            if (current == epoch && b == batch) throw Crash("crash");
        }
    };
    // One job of `ranks` ranks with the backup in `dir`; crash: where it dies, if it does.
    const auto job = [&](int ranks, const std::filesystem::path& dir, std::optional<CrashAt> crash) {
        ThreadWorld world(ranks);
        std::vector<Outcome> outcomes(static_cast<std::size_t>(ranks));
        const auto errors = world.run([&](ThreadCommunicator& comm) {
            auto model = compile<DropoutNet>(optimizers::Adam{.learning_rate = 0.01f}, losses::CategoricalCrossentropy{},
                                             metrics::Accuracy{});
            model.initialize(100 + static_cast<std::uint64_t>(comm.rank()));
            callbacks::BackupAndRestore backup{{.backup_dir = dir, .save_freq = 2}};
            const FitOptions options{.epochs = 3, .batch_size = 50, .validation_split = 0.2, .verbose = 0, .seed = 9,
                                     .data_parallel = {.communicator = &comm, .shards = 8}};
            const History h = crash ? model.fit(data.x, data.y, options, backup, CrashAt{*crash})
                                    : model.fit(data.x, data.y, options, backup, CrashAt{99, 99});
            outcomes[static_cast<std::size_t>(comm.rank())] = {model.get_weights(), h.history};
        });
        return std::pair{outcomes, errors};
    };
    const auto [reference, reference_errors] = job(2, tmp.path / "reference", std::nullopt);
    rethrow_first(reference_errors);
    for (int resume_ranks : {2, 1}) {
        CAPTURE(resume_ranks);
        const auto dir = tmp.path / ("resume-at-" + std::to_string(resume_ranks));
        const auto [crashed, crash_errors] = job(2, dir, CrashAt{1, 2});
        for (const auto& e : crash_errors) CHECK(e != nullptr);  // every rank died at that batch
        REQUIRE(std::filesystem::exists(dir / "backup.npz"));
        const auto [resumed, errors] = job(resume_ranks, dir, std::nullopt);
        rethrow_first(errors);
        for (const Outcome& o : resumed) {
            CHECK(same_bits(o.weights, reference[0].weights));
            CHECK(same_bits(o.history, reference[0].history));
        }
        CHECK(!std::filesystem::exists(dir / "backup.npz"));
    }
}

}  // namespace model_test_data_parallel
