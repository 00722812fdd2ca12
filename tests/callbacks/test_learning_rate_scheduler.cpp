// LearningRateScheduler: schedule(epoch, lr) or schedule(epoch) applied at every epoch begin
// (checked against the rate the optimizer actually used in each batch), messages, bad rates.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <ctnn/callbacks/learning_rate_scheduler.hpp>

#include "fake_model.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace callbacks_test_learning_rate_scheduler {

using namespace ctnn;
using callbacks::LearningRateScheduler;

namespace {
auto two_args = [](std::size_t epoch, double lr) { return epoch == 0 ? lr : lr * 0.5; };
auto one_arg = [](std::size_t epoch) { return 0.1 / double(epoch + 1); };
auto wrong = [](const std::string&) { return 0.1; };
static_assert(callbacks::EpochAndRateSchedule<decltype(two_args)>);
static_assert(callbacks::EpochSchedule<decltype(one_arg)>);
static_assert(!callbacks::EpochAndRateSchedule<decltype(one_arg)>);
static_assert(!callbacks::EpochSchedule<decltype(wrong)> && !callbacks::EpochAndRateSchedule<decltype(wrong)>);
static_assert(CallbackPolicy<LearningRateScheduler<decltype(one_arg)>>);

// The optimizer's rate seen at each batch, per epoch.
struct RateAtBatches {
    ModelInterface* model = nullptr;
    std::vector<std::vector<float>> per_epoch;
    void set_model(ModelInterface& m) { model = &m; }
    void on_epoch_begin() { per_epoch.emplace_back(); }
    void on_batch_begin() { per_epoch.back().push_back(model->learning_rate()); }
};
}  // namespace

TEST_CASE("LearningRateScheduler.epoch_and_rate") {
    testing::FakeModel model;
    model.lr = 0.1f;
    std::ostringstream out;
    LearningRateScheduler scheduler(two_args, 1, out);
    scheduler.set_model(model);
    std::vector<float> lrs;
    for (std::size_t e = 0; e < 4; ++e) {
        scheduler.on_epoch_begin(e);
        lrs.push_back(model.lr);
    }
    CHECK(lrs == std::vector<float>{0.1f, 0.05f, 0.025f, 0.0125f});
    // The rate given to the schedule is the optimizer's float32 rate, in double (as Keras's float()).
    CHECK(out.str().starts_with("Epoch 1: LearningRateScheduler setting learning rate to 0.10000000149011612.\n"
                                "Epoch 2: LearningRateScheduler setting learning rate to 0.05000000074505806.\n"));
}

TEST_CASE("LearningRateScheduler.epoch_only") {
    testing::FakeModel model;
    std::ostringstream out;
    LearningRateScheduler scheduler(one_arg, 1, out);
    scheduler.set_model(model);
    scheduler.on_epoch_begin(0);
    CHECK(model.lr == 0.1f);
    scheduler.on_epoch_begin(1);
    CHECK(model.lr == 0.05f);
    CHECK(out.str() == "Epoch 1: LearningRateScheduler setting learning rate to 0.1.\n"
                       "Epoch 2: LearningRateScheduler setting learning rate to 0.05.\n");
}

TEST_CASE("LearningRateScheduler.silent_by_default_and_rejects_bad_rates") {
    testing::FakeModel model;
    std::ostringstream out;
    LearningRateScheduler quiet(one_arg, 0, out);
    quiet.set_model(model);
    quiet.on_epoch_begin(3);
    CHECK(out.str().empty());
    CHECK(model.lr == float(0.1 / 4));
    LearningRateScheduler nan([](std::size_t) { return std::numeric_limits<double>::quiet_NaN(); });
    nan.set_model(model);
    CHECK_THROWS_WITH_AS(nan.on_epoch_begin(2), "LearningRateScheduler: schedule(2) returned nan; expected a finite learning rate >= 0",
                         std::invalid_argument);
    LearningRateScheduler negative([](std::size_t, double) { return -1.0f; });
    negative.set_model(model);
    CHECK_THROWS_AS(negative.on_epoch_begin(0), std::invalid_argument);
    CHECK(model.lr == float(0.1 / 4));  // unchanged by the refused rates
}

TEST_CASE("LearningRateScheduler.real_fit_uses_the_schedule_in_every_batch") {
    testing::TinyData d;
    auto model = testing::make_tiny_model(0.3f);
    RateAtBatches rates;
    LearningRateScheduler scheduler([](std::size_t epoch) { return epoch < 2 ? 0.2 : 0.02; });
    model.fit(d.x, d.y, {.epochs = 4, .batch_size = 5, .verbose = 0}, scheduler, rates);
    REQUIRE(rates.per_epoch.size() == 4);
    for (std::size_t e = 0; e < 4; ++e) CHECK(rates.per_epoch[e] == std::vector<float>(2, e < 2 ? 0.2f : 0.02f));
    CHECK(model.optimizer().learning_rate == 0.02f);
    SUBCASE("initial_epoch: the schedule sees the real epoch index") {
        std::vector<std::size_t> seen;
        LearningRateScheduler record([&](std::size_t epoch, double lr) {
            seen.push_back(epoch);
            return lr;
        });
        model.fit(d.x, d.y, {.epochs = 5, .initial_epoch = 3, .verbose = 0}, record);
        CHECK(seen == std::vector<std::size_t>{3, 4});
    }
}

}  // namespace callbacks_test_learning_rate_scheduler
