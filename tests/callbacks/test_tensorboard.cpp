// TensorBoard callback: trains a tiny model, reads the event files back with
// tensorboard/event_reader.hpp and compares runs, tags, steps and values with what fit reported
// (History, the batch logs seen by a recording callback, the model's weights and iterations).
// tests/tensorboard/check_callback_logdir.py decodes a callback's log dir with protoc-generated code.
#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

#include <ctnn/callbacks/tensorboard.hpp>
#include <ctnn/ctnn.hpp>
#include <ctnn/tensorboard/event_reader.hpp>

#include "helpers.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace callbacks_test_tensorboard {

using namespace ctnn;
namespace fs = std::filesystem;

namespace {
struct Net : Sequential<Dense<2, 4, Tanh>, Dense<4, 2, Softmax>> {};

auto make_model() {
    auto model = compile<Net>(optimizers::Adam{.learning_rate = 0.01f}, losses::CategoricalCrossentropy{},
                              metrics::Accuracy{});
    model.initialize(3);
    return model;
}

// 10 training samples (batch 4: batches of 4, 4, 2) and 4 validation samples, two classes.
struct Data {
    Matrix x = Matrix::from_shape({10, 2}), y = Matrix::from_shape({10, 2});
    Matrix vx = Matrix::from_shape({4, 2}), vy = Matrix::from_shape({4, 2});
    Data() {
        for (std::size_t i = 0; i < 10; ++i) {
            x(i, 0) = float(i) / 10.0f;
            x(i, 1) = 1.0f - float(i) / 7.0f;
            y(i, 0) = i % 3 == 0 ? 1.0f : 0.0f;
            y(i, 1) = 1.0f - y(i, 0);
        }
        for (std::size_t i = 0; i < 4; ++i) {
            vx(i, 0) = 0.3f * float(i);
            vx(i, 1) = 0.5f;
            vy(i, 0) = i % 2 == 0 ? 1.0f : 0.0f;
            vy(i, 1) = 1.0f - vy(i, 0);
        }
    }
};

// A fresh directory under the system temp dir, removed at scope exit.
using ctnn::testing::TempDir;

// What the batch hooks saw, to compare with what TensorBoard wrote.
struct BatchRecorder {
    std::vector<double> loss, accuracy, raw_loss, raw_accuracy;
    void on_train_batch_end(const Logs& logs) {
        loss.push_back(logs.at("loss"));
        accuracy.push_back(logs.at("accuracy"));
        raw_loss.push_back(logs.at("raw_loss"));
        raw_accuracy.push_back(logs.at("raw_accuracy"));
    }
};

std::vector<fs::path> event_files(const fs::path& dir) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir))
        if (entry.path().filename().string().starts_with("events.out.tfevents.")) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    return files;
}

struct Point {
    std::int64_t step;
    float value;
};

// One event file, by tag: scalars as (step, value); histograms as their [k, 3] rows; plugin per tag.
struct Run {
    std::map<std::string, std::vector<Point>> scalars;
    std::map<std::string, std::vector<std::pair<std::int64_t, std::vector<double>>>> histograms;
    std::map<std::string, std::string> plugin;
    bool first_is_file_version = false;
    std::set<std::string> tags() const {
        std::set<std::string> all;
        for (const auto& [tag, points] : scalars) all.insert(tag);
        for (const auto& [tag, points] : histograms) all.insert(tag);
        return all;
    }
    std::vector<std::int64_t> steps(const std::string& tag) const {
        std::vector<std::int64_t> out;
        if (scalars.contains(tag))
            for (const Point& p : scalars.at(tag)) out.push_back(p.step);
        return out;
    }
    std::vector<float> values(const std::string& tag) const {
        std::vector<float> out;
        if (scalars.contains(tag))
            for (const Point& p : scalars.at(tag)) out.push_back(p.value);
        return out;
    }
};

Run read_run(const fs::path& file) {
    const tensorboard::EventFile events = tensorboard::read_event_file(file);
    REQUIRE(events.status == io::TFRecordStatus::clean_end);
    REQUIRE(!events.events.empty());
    Run run;
    run.first_is_file_version = events.events[0].file_version == std::optional<std::string>("brain.Event:2");
    for (std::size_t i = 1; i < events.events.size(); ++i) {
        const tensorboard::Event& e = events.events[i];
        REQUIRE(e.values.size() == 1);
        const tensorboard::SummaryValue& v = e.values[0];
        REQUIRE(v.tensor.has_value());
        run.plugin[v.tag] = v.plugin_name;
        if (v.plugin_name == "histograms") {
            run.histograms[v.tag].emplace_back(e.step, v.tensor->doubles());
        } else {
            const auto value = v.tensor->scalar_float();
            REQUIRE(value.has_value());
            run.scalars[v.tag].push_back({e.step, *value});
        }
    }
    return run;
}

Run read_only_file(const fs::path& dir) {
    const auto files = event_files(dir);
    REQUIRE(files.size() == 1);
    return read_run(files[0]);
}

std::vector<float> as_floats(const std::vector<double>& values) {
    std::vector<float> out;
    for (double v : values) out.push_back(static_cast<float>(v));
    return out;
}

std::vector<std::int64_t> range(std::int64_t first, std::int64_t last, std::int64_t stride = 1) {
    std::vector<std::int64_t> out;
    for (std::int64_t s = first; s <= last; s += stride) out.push_back(s);
    return out;
}

// Fits 3 epochs of 3 batches with validation and the given callback options.
struct Fitted {
    TempDir dir;
    Data data;
    decltype(make_model()) model = make_model();
    BatchRecorder batches;
    History history;
    explicit Fitted(callbacks::TensorBoardOptions options) {
        options.log_dir = dir.path / "logs";
        callbacks::TensorBoard board(options);
        history = model.fit(data.x, data.y,
                            {.epochs = 3, .batch_size = 4, .validation_data = {data.vx, data.vy}, .verbose = 0},
                            board, batches);
    }
    fs::path logs() const { return dir.path / "logs"; }
};
}  // namespace

TEST_CASE("TensorBoard.keras3_layout_tags_steps_and_values") {
    Fitted f({.update_freq = callbacks::UpdateFreq::batch, .histogram_freq = 1});

    SUBCASE("one train and one validation run, each one event file starting with its version") {
        std::set<std::string> entries;
        for (const auto& entry : fs::directory_iterator(f.logs())) entries.insert(entry.path().filename().string());
        CHECK(entries == std::set<std::string>{"train", "validation"});
        CHECK(event_files(f.logs() / "train").size() == 1);
        CHECK(event_files(f.logs() / "validation").size() == 1);
        CHECK(read_only_file(f.logs() / "train").first_is_file_version);
        CHECK(read_only_file(f.logs() / "validation").first_is_file_version);
    }

    const Run train = read_only_file(f.logs() / "train");
    const Run validation = read_only_file(f.logs() / "validation");

    SUBCASE("tags as Keras 3 writes them") {
        CHECK(train.tags() == std::set<std::string>{"epoch_loss", "epoch_accuracy", "epoch_learning_rate", "batch_loss",
                                                    "batch_accuracy", "dense/kernel/histogram", "dense/bias/histogram",
                                                    "dense_1/kernel/histogram", "dense_1/bias/histogram"});
        CHECK(validation.tags() == std::set<std::string>{"epoch_loss", "epoch_accuracy", "evaluation_loss_vs_iterations",
                                                         "evaluation_accuracy_vs_iterations"});
        for (const auto& [tag, plugin] : train.plugin)
            CHECK(plugin == (tag.ends_with("/histogram") ? "histograms" : "scalars"));
        for (const auto& [tag, plugin] : validation.plugin) CHECK(plugin == "scalars");
    }

    SUBCASE("epoch scalars at step = epoch equal History's values") {
        const std::vector<std::int64_t> epochs{0, 1, 2};
        CHECK(train.steps("epoch_loss") == epochs);
        CHECK(train.steps("epoch_accuracy") == epochs);
        CHECK(validation.steps("epoch_loss") == epochs);
        CHECK(validation.steps("epoch_accuracy") == epochs);
        CHECK(train.values("epoch_loss") == as_floats(f.history.at("loss")));
        CHECK(train.values("epoch_accuracy") == as_floats(f.history.at("accuracy")));
        CHECK(validation.values("epoch_loss") == as_floats(f.history.at("val_loss")));
        CHECK(validation.values("epoch_accuracy") == as_floats(f.history.at("val_accuracy")));
    }

    SUBCASE("learning rate from the optimizer") {
        CHECK(train.steps("epoch_learning_rate") == std::vector<std::int64_t>{0, 1, 2});
        CHECK(train.values("epoch_learning_rate") == std::vector<float>{0.01f, 0.01f, 0.01f});
    }

    SUBCASE("batch scalars at global batch steps 1..9 equal the running means of the batch logs") {
        CHECK(train.steps("batch_loss") == range(1, 9));
        CHECK(train.steps("batch_accuracy") == range(1, 9));
        CHECK(train.values("batch_loss") == as_floats(f.batches.loss));
        CHECK(train.values("batch_accuracy") == as_floats(f.batches.accuracy));
        // The last running mean of an epoch is the epoch's value.
        const auto batch_loss = train.values("batch_loss"), epoch_loss = train.values("epoch_loss");
        for (std::size_t e = 0; e < 3; ++e) CHECK(batch_loss[3 * e + 2] == epoch_loss[e]);
    }

    SUBCASE("evaluation_*_vs_iterations at step = optimizer iterations") {
        // 3 optimizer steps per epoch; validation runs after each epoch's training.
        CHECK(validation.steps("evaluation_loss_vs_iterations") == std::vector<std::int64_t>{3, 6, 9});
        CHECK(validation.steps("evaluation_accuracy_vs_iterations") == std::vector<std::int64_t>{3, 6, 9});
        CHECK(f.model.iterations() == 9);
        CHECK(validation.values("evaluation_loss_vs_iterations") == as_floats(f.history.at("val_loss")));
        CHECK(validation.values("evaluation_accuracy_vs_iterations") == as_floats(f.history.at("val_accuracy")));
    }

    SUBCASE("one histogram per weight per epoch, counting every weight; the last one spans the final weights") {
        for (const io::NamedArray& weight : f.model.get_weights()) {
            const std::string tag = weight.name + "/histogram";
            REQUIRE(train.histograms.contains(tag));
            const auto& points = train.histograms.at(tag);
            REQUIRE(points.size() == 3);
            for (std::size_t e = 0; e < 3; ++e) {
                CHECK(points[e].first == std::int64_t(e));
                const std::vector<double>& rows = points[e].second;  // (k, 3): left, right, count
                REQUIRE(rows.size() % 3 == 0);
                REQUIRE(!rows.empty());
                double count = 0;
                for (std::size_t r = 0; r < rows.size(); r += 3) count += rows[r + 2];
                CHECK(count == double(weight.values.size()));
            }
            const std::vector<double>& last = points[2].second;
            const auto [lo, hi] = std::minmax_element(weight.values.begin(), weight.values.end());
            if (*lo != *hi) {
                CHECK(last.front() == double(*lo));
                CHECK(last[last.size() - 2] == double(*hi));
            }
        }
    }
}

TEST_CASE("TensorBoard.batch_values_running_mean_or_per_batch") {
    SUBCASE("per_batch writes this batch's raw values under the same tags") {
        Fitted f({.update_freq = callbacks::UpdateFreq::batch, .batch_values = callbacks::BatchValues::per_batch});
        const Run train = read_only_file(f.logs() / "train");
        CHECK(train.steps("batch_loss") == range(1, 9));
        CHECK(train.values("batch_loss") == as_floats(f.batches.raw_loss));
        CHECK(train.values("batch_accuracy") == as_floats(f.batches.raw_accuracy));
        CHECK(!train.scalars.contains("batch_raw_loss"));
        // Sanity: the two kinds differ after the first batch of an epoch and agree on it.
        CHECK(f.batches.raw_loss[0] == f.batches.loss[0]);
        CHECK(f.batches.raw_loss[1] != f.batches.loss[1]);
    }
    SUBCASE("running_mean (the default) is Keras's mean over the epoch so far") {
        Fitted f({.update_freq = callbacks::UpdateFreq::batch});
        const Run train = read_only_file(f.logs() / "train");
        const auto values = train.values("batch_loss");
        REQUIRE(values.size() == 9);
        for (std::size_t e = 0; e < 3; ++e) {  // batches of 4, 4, 2 samples
            const auto& raw = f.batches.raw_loss;
            const double mean2 = (4 * raw[3 * e] + 4 * raw[3 * e + 1]) / 8;
            const double mean3 = (4 * raw[3 * e] + 4 * raw[3 * e + 1] + 2 * raw[3 * e + 2]) / 10;
            CHECK(values[3 * e] == doctest::Approx(raw[3 * e]).epsilon(1e-6));
            CHECK(values[3 * e + 1] == doctest::Approx(mean2).epsilon(1e-6));
            CHECK(values[3 * e + 2] == doctest::Approx(mean3).epsilon(1e-6));
        }
    }
}

TEST_CASE("TensorBoard.update_freq") {
    SUBCASE("every(N) writes batch scalars at global steps N, 2N, ...") {
        Fitted f({.update_freq = callbacks::UpdateFreq::every(4)});
        const Run train = read_only_file(f.logs() / "train");
        CHECK(train.steps("batch_loss") == std::vector<std::int64_t>{4, 8});
        CHECK(train.values("batch_loss") == std::vector<float>{float(f.batches.loss[3]), float(f.batches.loss[7])});
        CHECK(train.steps("epoch_loss") == std::vector<std::int64_t>{0, 1, 2});
    }
    SUBCASE("epoch (the default) writes no batch tags and, with histogram_freq 0, no histograms") {
        Fitted f({});
        const Run train = read_only_file(f.logs() / "train");
        CHECK(train.tags() == std::set<std::string>{"epoch_loss", "epoch_accuracy", "epoch_learning_rate"});
    }
    SUBCASE("histogram_freq 2 writes histograms at epochs 0 and 2") {
        Fitted f({.histogram_freq = 2});
        const Run train = read_only_file(f.logs() / "train");
        REQUIRE(train.histograms.contains("dense/kernel/histogram"));
        const auto& points = train.histograms.at("dense/kernel/histogram");
        REQUIRE(points.size() == 2);
        CHECK(points[0].first == 0);
        CHECK(points[1].first == 2);
    }
    SUBCASE("write_steps_per_second adds epoch_ and batch_steps_per_second") {
        Fitted f({.update_freq = callbacks::UpdateFreq::batch, .write_steps_per_second = true});
        const Run train = read_only_file(f.logs() / "train");
        CHECK(train.steps("epoch_steps_per_second") == std::vector<std::int64_t>{0, 1, 2});
        CHECK(train.steps("batch_steps_per_second") == range(1, 9));
        for (float v : train.values("epoch_steps_per_second")) CHECK(v > 0.0f);
    }
    SUBCASE("spellings") {
        CHECK(callbacks::UpdateFreq::batch == callbacks::UpdateFreq::every(1));
        CHECK(callbacks::UpdateFreq{} == callbacks::UpdateFreq::epoch);
        CHECK(!callbacks::UpdateFreq::epoch.writes_batches());
        CHECK(callbacks::UpdateFreq::every(7).batches() == 7);
        CHECK_THROWS_AS(callbacks::UpdateFreq::every(0), std::invalid_argument);
        CHECK_THROWS_AS(callbacks::TensorBoard({.log_dir = ""}), std::invalid_argument);
    }
}

TEST_CASE("TensorBoard.writers_are_lazy_and_per_fit") {
    TempDir dir;
    Data d;
    auto model = make_model();
    const fs::path logs = dir.path / "logs";
    callbacks::TensorBoard board({.log_dir = logs, .update_freq = callbacks::UpdateFreq::batch});

    SUBCASE("no validation data: no validation run") {
        model.fit(d.x, d.y, {.epochs = 1, .batch_size = 4, .verbose = 0}, board);
        CHECK(fs::is_directory(logs / "train"));
        CHECK(!fs::exists(logs / "validation"));
    }
    SUBCASE("a second fit restarts the batch counter at 1 in a new file") {
        model.fit(d.x, d.y, {.epochs = 1, .batch_size = 4, .verbose = 0}, board);
        model.fit(d.x, d.y, {.epochs = 1, .batch_size = 4, .verbose = 0}, board);
        const auto files = event_files(logs / "train");
        REQUIRE(files.size() == 2);
        for (const fs::path& file : files) CHECK(read_run(file).steps("batch_loss") == range(1, 3));
    }
    SUBCASE("evaluate alone writes evaluation_*_vs_iterations to validation, flushed at once") {
        model.fit(d.x, d.y, {.epochs = 2, .batch_size = 4, .verbose = 0});
        const auto score = model.evaluate(d.vx, d.vy, {.batch_size = 4}, board);
        CHECK(!fs::exists(logs / "train"));
        const Run validation = read_only_file(logs / "validation");  // read while board still holds it open
        CHECK(validation.steps("evaluation_loss_vs_iterations") == std::vector<std::int64_t>{6});
        CHECK(validation.values("evaluation_loss_vs_iterations") == std::vector<float>{float(score[0])});
        CHECK(validation.values("evaluation_accuracy_vs_iterations") == std::vector<float>{float(score[1])});
    }
}

TEST_CASE("TensorBoard.epoch_records_reach_the_file_at_epoch_end") {
    // Runs after TensorBoard in the same fit and reads what is on disk at each epoch end.
    struct Probe {
        fs::path train_dir;
        std::vector<std::vector<std::int64_t>> seen;
        void on_epoch_end() { seen.push_back(read_only_file(train_dir).steps("epoch_loss")); }
    };
    TempDir dir;
    Data d;
    auto model = make_model();
    callbacks::TensorBoard board({.log_dir = dir.path, .update_freq = callbacks::UpdateFreq::batch});
    Probe probe{dir.path / "train", {}};
    model.fit(d.x, d.y, {.epochs = 2, .batch_size = 4, .verbose = 0}, board, probe);
    CHECK(probe.seen == std::vector<std::vector<std::int64_t>>{{0}, {0, 1}});
}

TEST_CASE("TensorBoard.unwritable_log_dir_fails_when_training_starts") {
    TempDir dir;
    Data d;
    auto model = make_model();
    const fs::path blocker = dir.path / "not_a_directory";
    { std::ofstream(blocker) << "a file where the log directory should go"; }
    callbacks::TensorBoard board({.log_dir = blocker / "logs"});  // constructing touches nothing
    CHECK(!fs::exists(blocker / "logs"));
    try {
        model.fit(d.x, d.y, {.epochs = 1, .batch_size = 4, .verbose = 0}, board);
        FAIL("fit should have thrown ctnn::file_error");
    } catch (const file_error& e) {
        const std::string message = e.what();
        CHECK(message.starts_with((blocker / "logs").string()));
        CHECK(e.path().find("not_a_directory") != std::string::npos);
    }
    CHECK(model.iterations() == 0);  // nothing was trained
}

}  // namespace callbacks_test_tensorboard
