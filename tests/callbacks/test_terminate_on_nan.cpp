// TerminateOnNaN: a diverging real fit is stopped after the first batch whose loss is not finite,
// with Keras's message; raise_error throws instead; finite losses are left alone.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <ctnn/callbacks/terminate_on_nan.hpp>

#include "fake_model.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace callbacks_test_terminate_on_nan {

using namespace ctnn;
using callbacks::TerminateOnNaN;

namespace {
struct Regression : Sequential<Dense<1, 8, Linear>, Dense<8, 1, Linear>> {};

struct LossRecorder {
    std::vector<double> losses;  // the "loss" batch log, in order
    void on_batch_end(std::size_t, const Logs& logs) { losses.push_back(logs.at("loss")); }
};

struct Line {
    Matrix x = Matrix::from_shape({64, 1});
    Matrix y = Matrix::from_shape({64, 1});
    Line() {
        for (std::size_t i = 0; i < 64; ++i) {
            x(i, 0) = float(i) / 8.0f;
            y(i, 0) = 3.0f * x(i, 0) - 1.0f;
        }
    }
};
}  // namespace

TEST_CASE("TerminateOnNaN.stops_a_diverging_fit") {
    Line data;
    auto model = compile<Regression>(optimizers::SGD{.learning_rate = 1e6f}, losses::MeanSquaredError{});
    LossRecorder recorder;
    std::ostringstream out;
    TerminateOnNaN guard({}, out);
    const History h = model.fit(data.x, data.y, {.epochs = 10, .batch_size = 4, .shuffle = false, .verbose = 0},
                                recorder, guard);
    // The recorder saw every batch that ran: all finite but the last, which stopped training.
    REQUIRE(!recorder.losses.empty());
    const std::size_t last = recorder.losses.size() - 1;
    CHECK_FALSE(std::isfinite(recorder.losses[last]));
    for (std::size_t i = 0; i < last; ++i) CHECK(std::isfinite(recorder.losses[i]));
    CHECK(last < 16);  // within the first epoch of 16 batches
    CHECK(h.epoch.size() == 1);
    CHECK(out.str() == "Batch " + std::to_string(last) + ": Invalid loss, terminating training\n");
    CHECK(model.iterations() == std::int64_t(last + 1));
}

TEST_CASE("TerminateOnNaN.hooks") {
    testing::FakeModel model;
    std::ostringstream out;
    SUBCASE("finite losses and logs without loss are ignored") {
        TerminateOnNaN guard({}, out);
        guard.set_model(model);
        guard.on_batch_end(0, Logs{{"loss", 1e30}});
        guard.on_batch_end(1, Logs{{"accuracy", std::numeric_limits<double>::quiet_NaN()}});
        CHECK_FALSE(model.stop_training);
        CHECK(out.str().empty());
    }
    SUBCASE("inf and nan both stop") {
        for (double bad : {std::numeric_limits<double>::infinity(), -std::numeric_limits<double>::infinity(),
                           std::numeric_limits<double>::quiet_NaN()}) {
            model.stop_training = false;
            std::ostringstream o;
            TerminateOnNaN guard({}, o);
            guard.set_model(model);
            guard.on_batch_end(7, Logs{{"batch", 7}, {"loss", bad}});
            CHECK(model.stop_training);
            CHECK(o.str() == "Batch 7: Invalid loss, terminating training\n");
        }
    }
    SUBCASE("raise_error throws std::runtime_error with the message") {
        TerminateOnNaN guard({.raise_error = true}, out);
        guard.set_model(model);
        CHECK_THROWS_WITH_AS(guard.on_batch_end(3, Logs{{"loss", std::numeric_limits<double>::quiet_NaN()}}),
                             "Batch 3: Invalid loss, terminating training", std::runtime_error);
        CHECK_FALSE(model.stop_training);
    }
}

TEST_CASE("TerminateOnNaN.raise_error_in_fit") {
    Line data;
    auto model = compile<Regression>(optimizers::SGD{.learning_rate = 1e6f}, losses::MeanSquaredError{});
    TerminateOnNaN guard({.raise_error = true});
    CHECK_THROWS_WITH_AS(model.fit(data.x, data.y, {.epochs = 10, .batch_size = 4, .shuffle = false, .verbose = 0}, guard),
                         doctest::Contains(": Invalid loss, terminating training"), std::runtime_error);
}

}  // namespace callbacks_test_terminate_on_nan
