// ReduceLROnPlateau: reductions after `patience` epochs without improvement, walked by hand as
// Keras's algorithm; cooldown, min_lr, min_delta, mode, messages, option checks, and a real fit.
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include <ctnn/callbacks/reduce_lr_on_plateau.hpp>

#include "fake_model.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace callbacks_test_reduce_lr_on_plateau {

using namespace ctnn;
using callbacks::ReduceLROnPlateau;
using testing::FakeModel;

namespace {
// Returns the learning rate after each epoch.
std::vector<float> drive(ReduceLROnPlateau& cb, FakeModel& model, const std::vector<double>& values,
                         const std::string& key = "val_loss") {
    std::vector<float> lrs;
    cb.set_model(model);
    cb.on_train_begin(Logs{});
    for (std::size_t e = 0; e < values.size(); ++e) {
        cb.on_epoch_end(e, Logs{{"loss", 1.0}, {key, values[e]}});
        lrs.push_back(model.lr);
    }
    return lrs;
}
}  // namespace

TEST_CASE("ReduceLROnPlateau.reduces_after_patience") {
    FakeModel model;
    model.lr = 0.1f;
    std::ostringstream out;
    // e0 improves on inf; e1 wait 1; e2 wait 2 -> reduce, wait 0; e3 wait 1; e4 wait 2 -> reduce.
    ReduceLROnPlateau cb({.factor = 0.5, .patience = 2, .verbose = 1}, out);
    const auto lrs = drive(cb, model, {1.0, 1.0, 1.0, 1.0, 1.0});
    const float a = float(double(0.1f) * 0.5), b = float(double(a) * 0.5);
    CHECK(lrs == std::vector<float>{0.1f, 0.1f, a, a, b});
    // Keras prints the Python float new_lr = float32 lr * factor in double precision.
    CHECK(out.str() == "Epoch 3: ReduceLROnPlateau reducing learning rate to 0.05000000074505806.\n"
                       "Epoch 5: ReduceLROnPlateau reducing learning rate to " +
                           callbacks::detail::python_repr(double(a) * 0.5) + ".\n");
}

TEST_CASE("ReduceLROnPlateau.improvement_resets_waiting") {
    FakeModel model;
    model.lr = 1.0f;
    std::ostringstream out;
    ReduceLROnPlateau cb({.patience = 2}, out);
    const auto lrs = drive(cb, model, {1.0, 1.1, 0.9, 1.2, 0.8, 1.0, 1.0});
    // Waits: 0,1,0,1,0,1,2 -> only the last epoch reduces.
    CHECK(lrs == std::vector<float>{1, 1, 1, 1, 1, 1, float(1.0 * 0.1)});
}

TEST_CASE("ReduceLROnPlateau.cooldown") {
    FakeModel model;
    std::ostringstream out;
    SUBCASE("cooldown 2, patience 1: reductions at epochs 1 and 3") {
        // e1 reduce (cooldown 2); e2 counter 1, in cooldown: no waiting; e3 counter 0, wait 1 -> reduce.
        model.lr = 1.0f;
        ReduceLROnPlateau cb({.factor = 0.5, .patience = 1, .cooldown = 2}, out);
        const auto lrs = drive(cb, model, {1.0, 1.0, 1.0, 1.0, 1.0, 1.0});
        CHECK(lrs == std::vector<float>{1.0f, 0.5f, 0.5f, 0.25f, 0.25f, 0.125f});
    }
    SUBCASE("no cooldown, patience 1: every epoch after the first") {
        model.lr = 1.0f;
        ReduceLROnPlateau cb({.factor = 0.5, .patience = 1}, out);
        CHECK(drive(cb, model, {1.0, 1.0, 1.0, 1.0}) == std::vector<float>{1.0f, 0.5f, 0.25f, 0.125f});
    }
}

TEST_CASE("ReduceLROnPlateau.min_lr") {
    FakeModel model;
    model.lr = 0.1f;
    std::ostringstream out;
    ReduceLROnPlateau cb({.factor = 0.1, .patience = 1, .verbose = 1, .min_lr = 0.05}, out);
    const auto lrs = drive(cb, model, {1.0, 1.0, 1.0, 1.0});
    CHECK(lrs == std::vector<float>{0.1f, 0.05f, 0.05f, 0.05f});
    // Only one reduction is announced: at min_lr nothing more happens.
    CHECK(out.str() == "Epoch 2: ReduceLROnPlateau reducing learning rate to 0.05.\n");
}

TEST_CASE("ReduceLROnPlateau.min_delta_and_mode") {
    FakeModel model;
    std::ostringstream out;
    SUBCASE("a gain below min_delta is no improvement") {
        model.lr = 1.0f;
        ReduceLROnPlateau cb({.patience = 1, .min_delta = 1e-4}, out);
        CHECK(drive(cb, model, {1.0, 0.99995})[1] == float(0.1));
        model.lr = 1.0f;
        CHECK(drive(cb, model, {1.0, 0.9998})[1] == 1.0f);
    }
    SUBCASE("auto maximizes val_accuracy") {
        model.lr = 1.0f;
        ReduceLROnPlateau cb({.monitor = "val_accuracy", .patience = 1}, out);
        CHECK(cb.monitor().mode() == callbacks::MonitorMode::max);
        CHECK(drive(cb, model, {0.5, 0.6, 0.7}, "val_accuracy") == std::vector<float>{1, 1, 1});
        CHECK(drive(cb, model, {0.5, 0.4}, "val_accuracy")[1] == float(0.1));
    }
    SUBCASE("a missing monitor warns once and changes nothing") {
        model.lr = 1.0f;
        ReduceLROnPlateau cb({.patience = 0}, out);
        CHECK(drive(cb, model, {1.0, 1.0}, "other") == std::vector<float>{1, 1});
        CHECK(out.str() == "UserWarning: Learning rate reduction is conditioned on metric `val_loss` which is not "
                           "available. Available metrics are: loss,other.\n");
    }
}

TEST_CASE("ReduceLROnPlateau.options_checked") {
    CHECK_THROWS_WITH_AS(ReduceLROnPlateau({.factor = 1.0}), doctest::Contains("factor >= 1.0"), std::invalid_argument);
    CHECK_THROWS_WITH_AS(ReduceLROnPlateau({.factor = 2.0}), doctest::Contains("got factor = 2.0"), std::invalid_argument);
    CHECK_THROWS_AS(ReduceLROnPlateau({.factor = 0.0}), std::invalid_argument);
    CHECK_THROWS_AS(ReduceLROnPlateau({.min_lr = -1.0}), std::invalid_argument);
    CHECK_THROWS_AS(ReduceLROnPlateau({.mode = "down"}), std::invalid_argument);
    CHECK_NOTHROW(ReduceLROnPlateau({.factor = 0.999}));
}

TEST_CASE("ReduceLROnPlateau.real_fit") {
    // Flipped validation labels: val_loss rises every epoch, so with patience 1 the rate halves at
    // every epoch after the first; the recorder sees the rate after each epoch's reduction.
    testing::TinyData d;
    auto model = testing::make_tiny_model(0.5f);
    testing::WeightRecorder recorder;
    std::ostringstream out;
    ReduceLROnPlateau cb({.factor = 0.5, .patience = 1}, out);
    const History h = model.fit(d.x, d.y, {.epochs = 4, .batch_size = 5, .validation_data = {d.x, d.flipped}, .verbose = 0},
                                cb, recorder);
    const auto& val = h.at("val_loss");
    for (std::size_t i = 1; i < val.size(); ++i) REQUIRE(val[i] > val[i - 1]);  // the premise
    CHECK(recorder.learning_rates == std::vector<float>{0.5f, 0.25f, 0.125f, 0.0625f});
    CHECK(model.learning_rate() == 0.0625f);
}

}  // namespace callbacks_test_reduce_lr_on_plateau
