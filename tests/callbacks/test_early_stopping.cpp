// EarlyStopping: Keras's patience/min_delta/baseline/start_from_epoch algorithm walked by hand on
// fixed monitor sequences, mode resolution, messages, and restore_best_weights on a real fit.
#include <doctest/doctest.h>

#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

#include <ctnn/callbacks/early_stopping.hpp>

#include "fake_model.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace callbacks_test_early_stopping {

using namespace ctnn;
using callbacks::EarlyStopping;
using callbacks::EarlyStoppingOptions;
using testing::FakeModel;

namespace {
struct Run {
    std::vector<std::size_t> waits;  // wait after each epoch that ran
    std::size_t epochs_run = 0;
};
// Drives the hooks as fit would: stop after the epoch in which stop_training was set. Before each
// epoch end the fake weights are marked with the epoch number (1-based), so restores are visible.
Run drive(EarlyStopping& es, FakeModel& model, const std::vector<double>& values, const std::string& key = "val_loss") {
    Run run;
    es.set_model(model);
    model.stop_training = false;
    es.on_train_begin(Logs{});
    for (std::size_t e = 0; e < values.size() && !model.stop_training; ++e) {
        model.mark(float(e + 1));
        es.on_epoch_end(e, Logs{{"loss", 0.5}, {key, values[e]}});
        run.waits.push_back(es.wait());
        ++run.epochs_run;
    }
    es.on_train_end(Logs{});
    return run;
}
}  // namespace

TEST_CASE("EarlyStopping.patience_walkthrough_as_keras") {
    FakeModel model;
    std::ostringstream out;
    SUBCASE("val_loss 1.0 0.9 0.95 0.96 0.97, patience 2: stops after epoch 3 (0-based)") {
        // e0: first value improves (wait 0); e1: 0.9 < 1.0 (wait 0); e2: wait 1; e3: wait 2 >= 2 -> stop.
        EarlyStopping es({.patience = 2, .verbose = 1}, out);
        const Run run = drive(es, model, {1.0, 0.9, 0.95, 0.96, 0.97});
        CHECK(run.epochs_run == 4);
        CHECK(run.waits == std::vector<std::size_t>{0, 0, 1, 2});
        CHECK(es.stopped_epoch() == 3);
        CHECK(model.stop_training);
        CHECK(es.best() == doctest::Approx(0.9));
        CHECK(es.best_epoch() == 1);
        CHECK(out.str() == "Epoch 4: early stopping\n");
    }
    SUBCASE("patience 0 stops at the first epoch without improvement") {
        EarlyStopping es({}, out);
        CHECK(drive(es, model, {1.0, 0.9, 0.95, 0.8}).epochs_run == 3);
        CHECK(es.stopped_epoch() == 2);
        CHECK(out.str().empty());  // verbose 0
    }
    // (Keras's `epoch > 0` guard never decides anything: epoch 0's value is always an improvement.)
    SUBCASE("the first monitored value is always an improvement, even with patience 0") {
        EarlyStopping es({.monitor = "val_loss", .patience = 0}, out);
        CHECK(drive(es, model, {5.0}).epochs_run == 1);
        CHECK_FALSE(model.stop_training);
        CHECK(es.stopped_epoch() == 0);
    }
    SUBCASE("steady improvement never stops") {
        EarlyStopping es({.patience = 1, .verbose = 1}, out);
        CHECK(drive(es, model, {1.0, 0.9, 0.8, 0.7, 0.6}).epochs_run == 5);
        CHECK_FALSE(model.stop_training);
        CHECK(out.str().empty());  // no "early stopping" line when it did not stop
    }
    SUBCASE("the object is reusable: on_train_begin resets the state") {
        EarlyStopping es({.patience = 1}, out);
        CHECK(drive(es, model, {1.0, 2.0, 3.0}).epochs_run == 2);
        CHECK(drive(es, model, {5.0, 4.0, 3.0}).epochs_run == 3);
        CHECK(es.stopped_epoch() == 0);
    }
}

TEST_CASE("EarlyStopping.min_delta") {
    FakeModel model;
    std::ostringstream out;
    // e1: 0.95 improves by 0.05 only: with min_delta 0.1 that is no improvement (wait 1 >= 1 -> stop).
    SUBCASE("improvement smaller than min_delta counts as none") {
        EarlyStopping es({.min_delta = 0.1, .patience = 1}, out);
        CHECK(drive(es, model, {1.0, 0.95, 0.9, 0.85}).epochs_run == 2);
        CHECK(es.stopped_epoch() == 1);
        CHECK(es.best() == doctest::Approx(1.0));
    }
    SUBCASE("a negative min_delta is taken as its absolute value (Keras)") {
        EarlyStopping es({.min_delta = -0.1, .patience = 1}, out);
        CHECK(drive(es, model, {1.0, 0.95, 0.9, 0.85}).epochs_run == 2);
    }
    SUBCASE("improvement larger than min_delta counts") {
        EarlyStopping es({.min_delta = 0.01, .patience = 1}, out);
        CHECK(drive(es, model, {1.0, 0.95, 0.9, 0.85}).epochs_run == 4);
        CHECK_FALSE(model.stop_training);
    }
    SUBCASE("max mode: current - min_delta must exceed best") {
        EarlyStopping es({.monitor = "val_accuracy", .min_delta = 0.1, .patience = 1}, out);
        CHECK(drive(es, model, {0.5, 0.55, 0.9}, "val_accuracy").epochs_run == 2);
    }
}

TEST_CASE("EarlyStopping.mode") {
    FakeModel model;
    std::ostringstream out;
    SUBCASE("auto: val_accuracy is maximized, val_loss and loss minimized") {
        CHECK(EarlyStopping({.monitor = "val_accuracy"}).monitor().mode() == callbacks::MonitorMode::max);
        CHECK(EarlyStopping({.monitor = "accuracy"}).monitor().mode() == callbacks::MonitorMode::max);
        CHECK(EarlyStopping({.monitor = "val_loss"}).monitor().mode() == callbacks::MonitorMode::min);
        CHECK(EarlyStopping({.monitor = "loss"}).monitor().mode() == callbacks::MonitorMode::min);
        // Rising accuracy is improvement: with patience 0 a min-mode monitor would stop at epoch 1.
        EarlyStopping es({.monitor = "val_accuracy"}, out);
        CHECK(drive(es, model, {0.5, 0.6, 0.7}, "val_accuracy").epochs_run == 3);
        CHECK(drive(es, model, {0.5, 0.4, 0.7}, "val_accuracy").epochs_run == 2);
    }
    SUBCASE("explicit mode overrides auto") {
        EarlyStopping es({.monitor = "val_loss", .mode = "max"}, out);
        CHECK(drive(es, model, {0.5, 0.6, 0.7}).epochs_run == 3);
    }
    SUBCASE("auto cannot guess an unknown metric; a bad mode is rejected") {
        CHECK_THROWS_WITH_AS(EarlyStopping({.monitor = "my_score"}),
                             doctest::Contains("\"my_score\" should be minimized or maximized"), std::invalid_argument);
        CHECK_NOTHROW(EarlyStopping({.monitor = "my_score", .mode = "max"}));
        CHECK_THROWS_WITH_AS(EarlyStopping({.mode = "minimum"}), doctest::Contains("\"minimum\""), std::invalid_argument);
    }
}

TEST_CASE("EarlyStopping.baseline") {
    FakeModel model;
    std::ostringstream out;
    // Without a baseline: e0 best, e1 wait 1, e2 wait 2 -> stop at 2.
    SUBCASE("no baseline") {
        EarlyStopping es({.patience = 2}, out);
        CHECK(drive(es, model, {0.9, 0.9, 0.9, 0.9}).epochs_run == 3);
    }
    // A first value that does not beat the baseline keeps wait at 1, so the stop comes one epoch earlier.
    SUBCASE("baseline not reached") {
        EarlyStopping es({.patience = 2, .baseline = 0.5}, out);
        const Run run = drive(es, model, {0.9, 0.9, 0.9, 0.9});
        CHECK(run.waits == std::vector<std::size_t>{1, 2});
        CHECK(es.stopped_epoch() == 1);
    }
    SUBCASE("baseline beaten behaves as none") {
        EarlyStopping es({.patience = 2, .baseline = 0.5}, out);
        CHECK(drive(es, model, {0.4, 0.4, 0.4, 0.4}).epochs_run == 3);
    }
    // Keras 3 returns after any improvement, so improving values that never reach the baseline
    // count up wait without stopping; the first non-improving epoch then stops at once.
    SUBCASE("improving above the baseline, then a plateau") {
        EarlyStopping es({.patience = 2, .baseline = 0.1}, out);
        const Run run = drive(es, model, {0.9, 0.8, 0.7, 0.7, 0.6});
        CHECK(run.waits == std::vector<std::size_t>{1, 2, 3, 4});
        CHECK(es.stopped_epoch() == 3);
    }
}

TEST_CASE("EarlyStopping.start_from_epoch") {
    FakeModel model;
    std::ostringstream out;
    SUBCASE("epochs before start_from_epoch are ignored") {
        // e0, e1 skipped; e2 first monitored value (best 3.0); e3 wait 1 >= 1 -> stop at 3.
        EarlyStopping es({.patience = 1, .start_from_epoch = 2}, out);
        CHECK(drive(es, model, {1.0, 2.0, 3.0, 4.0, 5.0}).epochs_run == 4);
        CHECK(es.stopped_epoch() == 3);
        CHECK(es.best() == doctest::Approx(3.0));
    }
    SUBCASE("without it the same sequence stops at epoch 1") {
        EarlyStopping es({.patience = 1}, out);
        CHECK(drive(es, model, {1.0, 2.0, 3.0, 4.0, 5.0}).epochs_run == 2);
    }
}

TEST_CASE("EarlyStopping.restore_best_weights") {
    FakeModel model;
    std::ostringstream out;
    SUBCASE("after stopping: the best epoch's weights, with Keras's messages") {
        EarlyStopping es({.patience = 2, .verbose = 1, .restore_best_weights = true}, out);
        drive(es, model, {1.0, 0.5, 0.7, 0.8, 0.9});  // best epoch 1, stop at 3
        CHECK(es.stopped_epoch() == 3);
        CHECK(model.marker() == 2.0f);  // weights marked at epoch index 1
        CHECK(out.str() == "Epoch 4: early stopping\nRestoring model weights from the end of the best epoch: 2.\n");
    }
    SUBCASE("also when training ran to the end (Keras 3)") {
        EarlyStopping es({.patience = 10, .restore_best_weights = true}, out);
        drive(es, model, {1.0, 0.5, 0.7});
        CHECK_FALSE(model.stop_training);
        CHECK(model.marker() == 2.0f);
    }
    SUBCASE("not requested: the last weights stay") {
        EarlyStopping es({.patience = 2}, out);
        drive(es, model, {1.0, 0.5, 0.7, 0.8, 0.9});
        CHECK(model.marker() == 4.0f);
    }
    SUBCASE("with start_from_epoch: the first monitored epoch's weights are the fallback") {
        EarlyStopping es({.patience = 1, .restore_best_weights = true, .start_from_epoch = 1}, out);
        drive(es, model, {0.1, 1.0, 2.0});  // e0 ignored; best = e1
        CHECK(model.marker() == 2.0f);
    }
}

TEST_CASE("EarlyStopping.missing_monitor_warns_once") {
    FakeModel model;
    std::ostringstream out;
    EarlyStopping es({.patience = 0}, out);
    es.set_model(model);
    es.on_train_begin(Logs{});
    es.on_epoch_end(0, Logs{{"loss", 1.0}, {"accuracy", 0.5}});
    es.on_epoch_end(1, Logs{{"loss", 2.0}, {"accuracy", 0.5}});
    CHECK_FALSE(model.stop_training);
    CHECK(out.str() ==
          "UserWarning: Early stopping conditioned on metric `val_loss` which is not available. Available metrics are: "
          "loss,accuracy\n");
}

TEST_CASE("EarlyStopping.real_fit_stops_and_restores_best_weights") {
    // Validation labels are the training labels flipped: as training fits, val_loss rises every
    // epoch, so the best epoch is 0 and patience 2 stops after epoch 2.
    testing::TinyData d;
    auto model = testing::make_tiny_model(0.5f);
    testing::WeightRecorder recorder;
    std::ostringstream out;
    EarlyStopping es({.monitor = "val_loss", .patience = 2, .verbose = 1, .restore_best_weights = true}, out);
    const History h = model.fit(d.x, d.y, {.epochs = 20, .batch_size = 5, .validation_data = {d.x, d.flipped}, .verbose = 0},
                                recorder, es);
    const auto& val = h.at("val_loss");
    REQUIRE(val.size() >= 2);
    for (std::size_t i = 1; i < val.size(); ++i) REQUIRE(val[i] > val[i - 1]);  // the premise
    CHECK(h.epoch.size() == 3);
    CHECK(es.stopped_epoch() == 2);
    CHECK(es.best_epoch() == 0);
    CHECK(out.str() == "Epoch 3: early stopping\nRestoring model weights from the end of the best epoch: 1.\n");
    CHECK(testing::same_values(model.get_weights(), recorder.weights[0]));
    CHECK_FALSE(testing::same_values(model.get_weights(), recorder.weights.back()));
}

}  // namespace callbacks_test_early_stopping
