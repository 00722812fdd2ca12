// Callback protocol: hooks are detected (any subset, with or without arguments), called in
// Keras's order with Keras's logs, the virtual base works, and a callback can stop training.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace callbacks_test_callback {

using namespace ctnn;

namespace {
struct Net : Sequential<Dense<2, 4, Tanh>, Dense<4, 2, Softmax>> {};

auto make_model() {
    return compile<Net>(optimizers::SGD{.learning_rate = 0.1f}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
}
struct Data {
    Matrix x = Matrix::from_shape({10, 2});
    Matrix y = Matrix::from_shape({10, 2});
    Data() {
        for (std::size_t i = 0; i < 10; ++i) {
            x(i, 0) = float(i) / 10.0f;
            x(i, 1) = 1.0f - float(i) / 10.0f;
            y(i, 0) = i < 5 ? 1.0f : 0.0f;
            y(i, 1) = i < 5 ? 0.0f : 1.0f;
        }
    }
};

// Records every event as a string.
struct Recorder {
    std::vector<std::string> events;
    std::vector<Logs> batch_logs, epoch_logs;
    void on_train_begin(const Logs&) { events.push_back("train_begin"); }
    void on_train_end(const Logs&) { events.push_back("train_end"); }
    void on_epoch_begin(std::size_t e, const Logs&) { events.push_back("epoch_begin " + std::to_string(e)); }
    void on_epoch_end(std::size_t e, const Logs& logs) {
        events.push_back("epoch_end " + std::to_string(e));
        epoch_logs.push_back(logs);
    }
    void on_batch_begin(std::size_t b, const Logs&) { events.push_back("batch_begin " + std::to_string(b)); }
    void on_batch_end(std::size_t b, const Logs& logs) {
        events.push_back("batch_end " + std::to_string(b));
        batch_logs.push_back(logs);
    }
    void on_test_begin() { events.push_back("test_begin"); }
    void on_test_end(const Logs&) { events.push_back("test_end"); }
};
}  // namespace

// Hook detection (compile-time): any subset is a callback; a type without hooks is not.
struct OnlyEpochEnd {
    void on_epoch_end(std::size_t) {}
};
struct NoArgs {
    void on_train_end() {}
};
struct Misspelled {
    void on_epoch_ends(std::size_t, const Logs&) {}  // user mistake: no hook at all
};
static_assert(CallbackPolicy<OnlyEpochEnd>);
static_assert(CallbackPolicy<NoArgs>);
static_assert(CallbackPolicy<Callback>);
static_assert(CallbackPolicy<History>);
static_assert(!CallbackPolicy<Misspelled>);
static_assert(!CallbackPolicy<int>);

TEST_CASE("Callbacks.keras_event_order") {
    Data d;
    auto model = make_model();
    Recorder rec;
    model.fit(d.x, d.y, {.epochs = 2, .batch_size = 4, .validation_split = 0.2, .shuffle = false, .verbose = 0}, rec);
    // 8 training samples, batch 4: two batches per epoch; validation (2 samples) runs test hooks.
    const std::vector<std::string> expected = {
        "train_begin",  "epoch_begin 0", "batch_begin 0", "batch_end 0", "batch_begin 1", "batch_end 1",
        "test_begin",   "test_end",      "epoch_end 0",   "epoch_begin 1", "batch_begin 0", "batch_end 0",
        "batch_begin 1", "batch_end 1",  "test_begin",    "test_end",      "epoch_end 1",   "train_end"};
    CHECK(rec.events == expected);
}

TEST_CASE("Callbacks.logs_content") {
    Data d;
    auto model = make_model();
    Recorder rec;
    model.fit(d.x, d.y, {.epochs = 1, .batch_size = 3, .shuffle = false, .verbose = 0}, rec);
    REQUIRE(rec.batch_logs.size() == 4);  // 3 + 3 + 3 + 1
    const Logs& first = rec.batch_logs[0];
    const Logs& last = rec.batch_logs[3];
    CHECK(first.at("size") == 3);
    CHECK(last.at("size") == 1);  // the last partial batch is trained
    CHECK(first.at("loss") == doctest::Approx(first.at("raw_loss")));  // running mean of one batch
    // The running mean after all batches equals the sample-weighted mean of the per-batch values.
    double weighted = 0;
    for (const Logs& l : rec.batch_logs) weighted += l.at("raw_loss") * l.at("size");
    CHECK(last.at("loss") == doctest::Approx(weighted / 10.0));
    REQUIRE(rec.epoch_logs.size() == 1);
    CHECK(rec.epoch_logs[0].at("loss") == doctest::Approx(last.at("loss")));
    CHECK(rec.epoch_logs[0].at("accuracy") == doctest::Approx(last.at("accuracy")));
    CHECK_FALSE(rec.epoch_logs[0].contains("val_loss"));
}

TEST_CASE("Callbacks.stop_training_after_current_batch") {
    struct StopAfterTwoBatches {
        ModelInterface* model = nullptr;
        std::size_t batches = 0;
        void set_model(ModelInterface& m) { model = &m; }
        void on_batch_end(std::size_t) {
            if (++batches == 2) model->stop_training = true;
        }
    };
    Data d;
    auto model = make_model();
    StopAfterTwoBatches stopper;
    const History h = model.fit(d.x, d.y, {.epochs = 5, .batch_size = 2, .verbose = 0}, stopper);
    CHECK(stopper.batches == 2);
    CHECK(h.epoch.size() == 1);  // the epoch in progress still ends (Keras does the same)
    CHECK(model.iterations() == 2);
}

TEST_CASE("Callbacks.virtual_base_class") {
    struct Counter : Callback {
        int epochs = 0, batches = 0;
        float lr_seen = 0;
        void on_epoch_end(std::size_t, const Logs&) override {
            ++epochs;
            lr_seen = model->learning_rate();
        }
        void on_train_batch_end(std::size_t, const Logs&) override { ++batches; }
        std::size_t steps() const { return params.steps; }
    };
    Data d;
    auto model = make_model();
    Counter c;
    model.fit(d.x, d.y, {.epochs = 3, .batch_size = 5, .verbose = 0}, c);
    CHECK(c.epochs == 3);
    CHECK(c.batches == 6);
    CHECK(c.lr_seen == doctest::Approx(0.1f));
    CHECK(c.steps() == 2);
}

TEST_CASE("Callbacks.many_at_once_and_learning_rate_changes") {
    struct Halve {
        ModelInterface* m = nullptr;
        void set_model(ModelInterface& model) { m = &model; }
        void on_epoch_end(std::size_t) { m->set_learning_rate(m->learning_rate() / 2); }
    };
    Data d;
    auto model = make_model();
    Recorder a, b;
    Halve halve;
    model.fit(d.x, d.y, {.epochs = 3, .verbose = 0}, a, halve, b);
    CHECK(a.events == b.events);
    CHECK(model.optimizer().learning_rate == doctest::Approx(0.1f / 8));
}

}  // namespace callbacks_test_callback
