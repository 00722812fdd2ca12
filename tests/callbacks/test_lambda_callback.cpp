// LambdaCallback: each hook optional, lambdas with full or shortened parameter lists, called in
// Keras's order with the right logs during a real fit.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include <ctnn/callbacks/lambda_callback.hpp>

#include "fake_model.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace callbacks_test_lambda_callback {

using namespace ctnn;
using callbacks::LambdaCallback;

static_assert(CallbackPolicy<LambdaCallback>);

TEST_CASE("LambdaCallback.all_hooks_in_keras_order") {
    testing::TinyData d;
    auto model = testing::make_tiny_model();
    std::vector<std::string> events;
    std::vector<double> epoch_losses, batch_sizes;
    LambdaCallback cb{
        .on_epoch_begin = [&](std::size_t e, const Logs&) { events.push_back("epoch_begin " + std::to_string(e)); },
        .on_epoch_end =
            [&](std::size_t e, const Logs& logs) {
                events.push_back("epoch_end " + std::to_string(e));
                epoch_losses.push_back(logs.at("loss"));
            },
        .on_batch_begin = [&](std::size_t b, const Logs&) { events.push_back("batch_begin " + std::to_string(b)); },
        .on_batch_end =
            [&](std::size_t b, const Logs& logs) {
                events.push_back("batch_end " + std::to_string(b));
                batch_sizes.push_back(logs.at("size"));
            },
        .on_train_begin = [&](const Logs&) { events.push_back("train_begin"); },
        .on_train_end = [&](const Logs& logs) { events.push_back("train_end " + std::to_string(logs.contains("loss"))); },
    };
    const History h = model.fit(d.x, d.y, {.epochs = 2, .batch_size = 6, .shuffle = false, .verbose = 0}, cb);
    const std::vector<std::string> expected = {"train_begin",   "epoch_begin 0", "batch_begin 0", "batch_end 0",
                                               "batch_begin 1", "batch_end 1",   "epoch_end 0",   "epoch_begin 1",
                                               "batch_begin 0", "batch_end 0",   "batch_begin 1", "batch_end 1",
                                               "epoch_end 1",   "train_end 1"};
    CHECK(events == expected);
    CHECK(epoch_losses == h.at("loss"));
    CHECK(batch_sizes == std::vector<double>{6, 4, 6, 4});
}

TEST_CASE("LambdaCallback.optional_and_short_hooks") {
    testing::TinyData d;
    auto model = testing::make_tiny_model();
    SUBCASE("an empty LambdaCallback does nothing") {
        LambdaCallback nothing;
        CHECK_FALSE(static_cast<bool>(nothing.on_epoch_end));
        const History h = model.fit(d.x, d.y, {.epochs = 2, .verbose = 0}, nothing);
        CHECK(h.epoch.size() == 2);
    }
    SUBCASE("lambdas may drop the logs or all arguments") {
        std::vector<std::size_t> epochs;
        int batches = 0, ends = 0;
        LambdaCallback cb{.on_epoch_end = [&](std::size_t e) { epochs.push_back(e); },
                          .on_batch_end = [&] { ++batches; },
                          .on_train_end = [&] { ++ends; }};
        CHECK(static_cast<bool>(cb.on_epoch_end));
        CHECK_FALSE(static_cast<bool>(cb.on_batch_begin));
        model.fit(d.x, d.y, {.epochs = 3, .batch_size = 5, .verbose = 0}, cb);
        CHECK(epochs == std::vector<std::size_t>{0, 1, 2});
        CHECK(batches == 6);
        CHECK(ends == 1);
    }
    SUBCASE("a lambda may stop training through a captured model") {
        LambdaCallback stop{.on_epoch_end = [&](std::size_t e) {
            if (e == 1) model.stop_training = true;
        }};
        const History h = model.fit(d.x, d.y, {.epochs = 10, .verbose = 0}, stop);
        CHECK(h.epoch.size() == 2);
    }
}

}  // namespace callbacks_test_lambda_callback
