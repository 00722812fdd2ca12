// BackupAndRestore (issue 23), in process: a run interrupted by an exception from a callback at many
// moments, then started again with fresh objects (as a new process would), ends with the bytes of
// an uninterrupted run: weights, History, CSV log and TensorBoard events (wall times aside). The
// network has Dropout and Adam; EarlyStopping, ReduceLROnPlateau (which fires), ModelCheckpoint,
// CSVLogger and TensorBoard (every batch) are in the list. Bad backups are refused untouched.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/tensorboard/event_reader.hpp>

#include "helpers.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace callbacks_test_backup_and_restore {

using namespace ctnn;
namespace fs = std::filesystem;

namespace {

struct BackupNet : Sequential<Dense<12, 32, Relu>, Dropout<0.25>, Dense<32, 4, Softmax>> {};
struct OtherNet : Sequential<Dense<12, 16, Relu>, Dense<16, 4, Softmax>> {};

constexpr std::size_t samples = 200, epochs = 6, batch = 16;  // 10 training batches of 160, 40 validation samples

struct Data {
    Matrix x, y;
};
Data make_data(std::size_t n) {
    Rng rng(5);
    Data d{Matrix::from_shape({n, 12}), Matrix::from_shape({n, 4})};
    d.y.fill(0.0f);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t c = i % 4;
        for (std::size_t j = 0; j < 12; ++j) d.x(i, j) = rng.uniform(-1.0f, 1.0f) + (j % 4 == c ? 0.7f : 0.0f);
        d.y(i, c) = 1.0f;
    }
    return d;
}

std::string read_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Every event of every file under dir, without wall times, in file order.
std::string events_of(const fs::path& dir) {
    std::string text;
    std::vector<fs::path> files;
    if (fs::exists(dir))
        for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
        const tensorboard::EventFile file = tensorboard::read_event_file(f);
        CHECK(file.status == io::TFRecordStatus::clean_end);
        for (const auto& e : file.events) {
            text += "step " + std::to_string(e.step);
            for (const auto& v : e.values) {
                text += " " + v.tag;
                if (v.tensor) text += " " + v.tensor->tensor_content;
            }
            text += "\n";
        }
    }
    return text;
}

bool same_bits(const std::vector<NamedArray>& a, const std::vector<NamedArray>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (a[i].name != b[i].name || a[i].values.size() != b[i].values.size() ||
            std::memcmp(a[i].values.data(), b[i].values.data(), a[i].values.size() * sizeof(float)) != 0)
            return false;
    return true;
}

struct Crash : std::runtime_error {
    using std::runtime_error::runtime_error;
};
// Throws at the end of batch `batch` of epoch `epoch`, or at the end of epoch `epoch` (batch npos).
// Also records, for the first batch its fit runs, how many epochs had begun and the batch index
// (a resumed epoch begins before the backup: no on_epoch_begin in the resumed fit), and how many
// epochs began in all.
struct CrashAt {
    std::optional<std::size_t> epoch{}, batch{};
    std::size_t current = 0;
    std::optional<std::pair<std::size_t, std::size_t>> first_batch{};
    std::size_t epochs_begun = 0;
    void on_epoch_begin(std::size_t e) {
        current = e;
        ++epochs_begun;
    }
    void on_train_batch_begin(std::size_t b) {
        if (!first_batch) first_batch = {epochs_begun, b};
    }
    void on_train_batch_end(std::size_t b) {
        if (epoch && batch && *epoch == current && *batch == b) throw Crash("crash");
    }
    void on_epoch_end(std::size_t e) {
        if (epoch && !batch && *epoch == e) throw Crash("crash");
    }
};

struct Outcome {
    History history;
    std::string weights, csv, train_events, validation_events;
    bool crashed = false;
    std::optional<std::pair<std::size_t, std::size_t>> first_batch{};  // (epochs begun, batch) at the first batch
    std::size_t epochs_begun = 0;
};

// One "run of the program": fresh model and callbacks, the same directories.
Outcome run(const fs::path& dir, callbacks::SaveFrequency freq, CrashAt crash = {}) {
    const Data data = make_data(samples);
    auto model = compile<BackupNet>(optimizers::Adam{.learning_rate = 0.01f}, losses::CategoricalCrossentropy{},
                                    metrics::Accuracy{});
    model.initialize(3);
    std::ostringstream quiet;
    callbacks::BackupAndRestore backup{{.backup_dir = dir / "backup", .save_freq = freq}};
    callbacks::EarlyStopping stop({.monitor = "val_loss", .patience = 4, .restore_best_weights = true}, quiet);
    callbacks::ReduceLROnPlateau plateau({.monitor = "loss", .factor = 0.5, .patience = 1, .min_delta = 0.05}, quiet);
    callbacks::ModelCheckpoint checkpoint((dir / "ckpt" / "best.npz").string(), {.save_best_only = true}, quiet);
    callbacks::CSVLogger csv(dir / "log.csv");
    callbacks::TensorBoard tensorboard({.log_dir = dir / "tb", .update_freq = callbacks::UpdateFreq::batch});
    Outcome out;
    try {
        out.history = model.fit(data.x, data.y,
                                {.epochs = epochs, .batch_size = batch, .validation_split = 0.2, .verbose = 0, .seed = 11},
                                backup, stop, plateau, checkpoint, csv, tensorboard, crash);
    } catch (const Crash&) {
        out.crashed = true;
        out.first_batch = crash.first_batch;
        return out;
    }
    out.first_batch = crash.first_batch;
    out.epochs_begun = crash.epochs_begun;
    model.save_weights(dir / "final.npz");
    out.weights = read_bytes(dir / "final.npz");
    out.csv = read_bytes(dir / "log.csv");
    out.train_events = events_of(dir / "tb" / "train");
    out.validation_events = events_of(dir / "tb" / "validation");
    return out;
}

void check_same(const Outcome& a, const Outcome& b) {
    CHECK(a.weights == b.weights);
    CHECK(a.history.epoch == b.history.epoch);
    CHECK(a.history.history == b.history.history);
    CHECK(a.csv == b.csv);
    CHECK(a.train_events == b.train_events);
    CHECK(a.validation_events == b.validation_events);
}

}  // namespace

TEST_CASE("BackupAndRestore: a run interrupted anywhere and started again ends with the uninterrupted run's bytes") {
    testing::TempDir tmp;
    const Outcome reference = run(tmp.path / "ref", "epoch");
    REQUIRE(!reference.crashed);
    REQUIRE(reference.weights.size() > 0);
    REQUIRE(reference.history.epoch.size() == epochs);
    CHECK(!fs::exists(tmp.path / "ref" / "backup" / "backup.npz"));  // deleted after the completed fit
    // The learning rate changed during the run: ReduceLROnPlateau's state matters.
    CHECK(reference.train_events.find("epoch_learning_rate") != std::string::npos);
    // Without a backup, a crashed and restarted run is a different run (the test can fail).
    {
        const fs::path dir = tmp.path / "no-backup";
        const Data data = make_data(samples);
        auto model = compile<BackupNet>(optimizers::Adam{.learning_rate = 0.01f}, losses::CategoricalCrossentropy{},
                                        metrics::Accuracy{});
        model.initialize(3);
        model.fit(data.x, data.y, {.epochs = 3, .batch_size = batch, .validation_split = 0.2, .verbose = 0, .seed = 11});
        model.fit(data.x, data.y, {.epochs = epochs, .batch_size = batch, .validation_split = 0.2, .initial_epoch = 3,
                                   .verbose = 0, .seed = 11});
        model.save_weights(tmp.path / "no-backup.npz");
        CHECK(read_bytes(tmp.path / "no-backup.npz") != reference.weights);
    }

    struct Case {
        const char* name;
        callbacks::SaveFrequency freq;
        std::vector<CrashAt> crashes;  // one run per crash, then a run to the end
    };
    const std::vector<Case> cases = {
        {"per epoch, crash mid-epoch", "epoch", {CrashAt{2, 4}}},
        {"per epoch, crash at an epoch end", "epoch", {CrashAt{1, std::nullopt}}},
        {"per epoch, crash in the first epoch (only the first backup)", "epoch", {CrashAt{0, 7}}},
        {"every 3 batches, crash twice", 3, {CrashAt{1, 5}, CrashAt{4, 9}}},
        {"every batch, crash at the last batch", 1, {CrashAt{3, 9}}},
        {"every 4 batches, crash right after a backup", 4, {CrashAt{2, 1}}},
    };
    for (const Case& c : cases) {
        CAPTURE(c.name);
        const fs::path dir = tmp.path / c.name;
        for (const CrashAt& crash : c.crashes) REQUIRE(run(dir, c.freq, crash).crashed);
        CHECK(fs::exists(dir / "backup" / "backup.npz"));
        const Outcome resumed = run(dir, c.freq);
        REQUIRE(!resumed.crashed);
        check_same(resumed, reference);
        CHECK(!fs::exists(dir / "backup" / "backup.npz"));
    }
}

TEST_CASE("BackupAndRestore: a mid-epoch backup that no later backup replaces resumes at the batch after it") {
    // Every 7 batches (10 per epoch): the last backup before the crash is the one after the 14th
    // batch, epoch 1's batch 3; the crash at the end of epoch 1's batch 6 comes before the next one
    // (after epoch 2's batch 0). The resumed fit must continue at epoch 1's batch 4: not re-begin
    // epoch 1 (a second shuffle), not rerun its batches 0-3, not skip 4-6.
    testing::TempDir tmp;
    const Outcome reference = run(tmp.path / "ref", "epoch");
    REQUIRE(!reference.crashed);
    const fs::path dir = tmp.path / "run";
    const Outcome crashed = run(dir, 7, CrashAt{1, 6});
    REQUIRE(crashed.crashed);
    CHECK(crashed.first_batch == std::pair<std::size_t, std::size_t>{1, 0});
    {
        const StateFile state = io::load_state_npz(dir / "backup" / "backup.npz");
        const StateReader r(state);
        CHECK(r.get_int("fit/epoch") == 1);
        CHECK(r.get_int("fit/step") == 4);
        CHECK(r.get_int("fit/shuffles") == 2);
    }
    const Outcome resumed = run(dir, 7);
    REQUIRE(!resumed.crashed);
    CHECK(resumed.first_batch == std::pair<std::size_t, std::size_t>{0, 4});  // batch 4 of the begun epoch 1
    CHECK(resumed.epochs_begun == epochs - 2);  // epochs 2..5; epoch 1 had begun before the backup
    check_same(resumed, reference);
}

TEST_CASE("BackupAndRestore: a damaged backup, one of another network or of other data is refused, untouched") {
    testing::TempDir tmp;
    const fs::path dir = tmp.path / "run";
    REQUIRE(run(dir, 2, CrashAt{1, 3}).crashed);
    const fs::path path = dir / "backup" / "backup.npz";
    const std::string good = read_bytes(path);
    REQUIRE(!good.empty());
    const Data data = make_data(samples);
    const auto refused = [&](auto& model, const Data& d, const std::string& expected) {
        callbacks::BackupAndRestore backup{{.backup_dir = dir / "backup"}};
        const std::string before = read_bytes(path);
        try {
            model.fit(d.x, d.y, {.epochs = epochs, .batch_size = batch, .validation_split = 0.2, .verbose = 0, .seed = 11},
                      backup);
            FAIL("fit accepted the backup");
        } catch (const file_error& e) {
            CAPTURE(e.what());
            CHECK(std::string(e.what()).find(path.string()) != std::string::npos);
            CHECK(std::string(e.what()).find(expected) != std::string::npos);
        }
        CHECK(read_bytes(path) == before);
    };
    SUBCASE("another network") {
        auto other = compile<OtherNet>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
        refused(other, data, "another network");
    }
    SUBCASE("other data") {
        auto model = compile<BackupNet>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
        const std::vector<NamedArray> before = model.get_weights();
        refused(model, make_data(samples + 20), "training samples");
        CHECK(model.get_weights()[0].values == before[0].values);  // nothing loaded
    }
    SUBCASE("another optimizer") {
        auto model = compile<BackupNet>(optimizers::RMSprop{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
        refused(model, data, "another optimizer");
    }
    SUBCASE("an epoch past this fit's epochs (a crafted file: the shuffle replay would run for ever)") {
        auto model = compile<BackupNet>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
        StateFile state = io::load_state_npz(path);
        std::vector<StateArray> arrays = state.arrays;
        for (StateArray& a : arrays)
            if (a.name == "fit/epoch" || a.name == "fit/shuffles") {
                const std::int64_t huge = std::int64_t{1} << 40;
                std::memcpy(a.data.data(), &huge, sizeof huge);
            } else if (a.name == "fit/step") {
                const std::int64_t zero = 0;
                std::memcpy(a.data.data(), &zero, sizeof zero);
            }
        io::save_state_npz(path, arrays);
        refused(model, data, "past this fit's 6 epochs");
        std::ofstream(path, std::ios::binary | std::ios::trunc) << good;
    }
    SUBCASE("damaged: a flipped byte, a cut file") {
        auto model = compile<BackupNet>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
        std::string bad = good;
        bad[bad.size() / 2] = char(bad[bad.size() / 2] ^ 0x40);
        std::ofstream(path, std::ios::binary | std::ios::trunc) << bad;
        refused(model, data, "CRC");
        std::ofstream(path, std::ios::binary | std::ios::trunc) << good.substr(0, good.size() / 3);
        refused(model, data, "");
        std::ofstream(path, std::ios::binary | std::ios::trunc) << good;
    }
    // The good backup still resumes to the uninterrupted result.
    CHECK(!run(dir, 2).crashed);
}

TEST_CASE("Model::save / load: the full state round-trips, and the next fit continues bit for bit") {
    testing::TempDir tmp;
    const Data data = make_data(samples);
    const auto make = [] {
        auto m = compile<BackupNet>(optimizers::Adam{.learning_rate = 0.01f}, losses::CategoricalCrossentropy{},
                                    metrics::Accuracy{});
        m.initialize(3);
        return m;
    };
    const FitOptions options{.epochs = 4, .batch_size = batch, .verbose = 0, .seed = 11};
    auto reference = make();
    reference.fit(data.x, data.y, options);

    // ModelCheckpoint(save_weights_only = false) writes the state at epoch 2; a fresh model loads it
    // and fit (same options) continues to the reference's weights.
    {
        auto model = make();
        callbacks::ModelCheckpoint checkpoint((tmp.path / "state-{epoch}.npz").string(), {.save_weights_only = false});
        model.fit(data.x, data.y, options, checkpoint);
        auto resumed = make();
        resumed.load(tmp.path / "state-2.npz");
        CHECK(resumed.iterations() == 2 * 13);
        callbacks::ModelCheckpoint again((tmp.path / "again-{epoch}.npz").string(), {.save_weights_only = false});
        const History h = resumed.fit(data.x, data.y, options, again);
        CHECK(h.epoch == std::vector<std::size_t>{0, 1, 2, 3});
        CHECK(same_bits(resumed.get_weights(), reference.get_weights()));
        // load_weights takes just the weights out of a state file.
        auto weights_only = make();
        weights_only.load_weights(tmp.path / "state-4.npz");
        CHECK(same_bits(weights_only.get_weights(), reference.get_weights()));
    }
    // Outside fit: save and load restore weights, optimizer state and learning rate.
    {
        auto a = make();
        a.fit(data.x, data.y, {.epochs = 1, .batch_size = batch, .verbose = 0, .seed = 2});
        a.set_learning_rate(0.123f);
        a.save(tmp.path / "outside.npz");
        auto b = make();
        b.load(tmp.path / "outside.npz");
        CHECK(b.learning_rate() == 0.123f);
        CHECK(b.iterations() == a.iterations());
        a.fit(data.x, data.y, {.epochs = 1, .batch_size = batch, .verbose = 0, .seed = 9});
        b.fit(data.x, data.y, {.epochs = 1, .batch_size = batch, .verbose = 0, .seed = 9});
        CHECK(same_bits(a.get_weights(), b.get_weights()));
    }
}

}  // namespace callbacks_test_backup_and_restore
