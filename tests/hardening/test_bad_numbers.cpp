// Bad numbers (issue 5.6): NaN and Inf in the inputs and a learning rate that makes training
// diverge. Nothing crashes; TerminateOnNaN stops fit after the first batch whose loss is not finite
// with Keras's message (batch index found independently, by a run that records every batch loss);
// without it History, TensorBoard and weight files all carry the NaN as it is.
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <ctnn/callbacks/model_checkpoint.hpp>
#include <ctnn/callbacks/tensorboard.hpp>
#include <ctnn/callbacks/terminate_on_nan.hpp>
#include <ctnn/ctnn.hpp>
#include <ctnn/tensorboard/event_reader.hpp>

#include "harden_test_utils.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace hardening_test_bad_numbers {

namespace {

namespace fs = std::filesystem;
using namespace ctnn;

struct Classifier : Sequential<Dense<4, 16, Relu>, Dense<16, 3, Softmax>> {};
struct Regressor : Sequential<Dense<4, 8, Linear>, Dense<8, 1, Linear>> {};

constexpr std::size_t samples = 64, batch = 8;  // 8 batches per epoch

auto make_classifier() {
    auto model = compile<Classifier>(optimizers::Adam{.learning_rate = 0.01f}, losses::CategoricalCrossentropy{},
                                     metrics::Accuracy{});
    model.initialize(3);
    return model;
}
auto make_regressor(float learning_rate) {
    auto model = compile<Regressor>(optimizers::SGD{.learning_rate = learning_rate}, losses::MeanSquaredError{});
    model.initialize(5);
    return model;
}

struct Data {
    Matrix x, y;
};
Data blobs() {
    Rng rng(9);
    Data d{Matrix::from_shape({samples, 4}), Matrix::from_shape({samples, 3})};
    d.y.fill(0.0f);
    for (std::size_t i = 0; i < samples; ++i) {
        for (std::size_t c = 0; c < 4; ++c) d.x(i, c) = rng.uniform(-0.5f, 0.5f) + (c == i % 3 ? 2.0f : 0.0f);
        d.y(i, i % 3) = 1.0f;
    }
    return d;
}
Data regression() {
    Rng rng(10);
    Data d{Matrix::from_shape({samples, 4}), Matrix::from_shape({samples, 1})};
    for (std::size_t i = 0; i < samples; ++i) {
        float sum = 0;
        for (std::size_t c = 0; c < 4; ++c) sum += (d.x(i, c) = rng.uniform(-1.0f, 1.0f));
        d.y(i, 0) = sum;
    }
    return d;
}

// Every batch's running "loss" log, to find the first non-finite one without TerminateOnNaN.
struct RecordBatchLosses {
    std::vector<double>* losses;
    void on_train_batch_end(std::size_t, const Logs& logs) { losses->push_back(logs.at("loss")); }
};
std::size_t first_non_finite(const std::vector<double>& values) {
    for (std::size_t i = 0; i < values.size(); ++i)
        if (!std::isfinite(values[i])) return i;
    return values.size();
}

bool has_non_finite(const std::vector<io::NamedArray>& weights) {
    for (const auto& w : weights)
        for (float v : w.values)
            if (!std::isfinite(v)) return true;
    return false;
}

bool same_float(float a, float b) { return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof a) == 0; }

fs::path only_file(const fs::path& dir) {
    std::vector<fs::path> files;
    for (const auto& entry : fs::directory_iterator(dir)) files.push_back(entry.path());
    REQUIRE(files.size() == 1);
    return files[0];
}

}  // namespace

TEST_CASE("BadNumbers.non_finite_inputs") {
    for (const float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity()}) {
        CAPTURE(bad);
        Data data = blobs();
        data.x(20, 1) = bad;  // sample 20: batch 2 without shuffling
        const FitOptions options{.epochs = 2, .batch_size = batch, .shuffle = false, .verbose = 0};

        SUBCASE("without TerminateOnNaN: no crash, and History says nan") {
            auto model = make_classifier();
            std::vector<double> batch_losses;
            History history;
            REQUIRE_NOTHROW(history = model.fit(data.x, data.y, options, RecordBatchLosses{&batch_losses}));
            CHECK(history.epoch.size() == 2);
            CHECK(first_non_finite(batch_losses) == 2);
            for (double loss : history.at("loss")) CHECK(std::isnan(loss));
            // The bad sample poisoned the weights; predict and evaluate report it rather than hide it.
            CHECK(has_non_finite(model.get_weights()));
            const Matrix p = model.predict(data.x);
            CHECK(std::isnan(p(0, 0)));
            CHECK(std::isnan(model.evaluate(data.x, data.y)[0]));
        }
        SUBCASE("with TerminateOnNaN: stops after that batch with Keras's message") {
            auto model = make_classifier();
            std::ostringstream out;
            callbacks::TerminateOnNaN guard({}, out);
            History history;
            REQUIRE_NOTHROW(history = model.fit(data.x, data.y, options, guard));
            CHECK(out.str() == "Batch 2: Invalid loss, terminating training\n");
            CHECK(model.iterations() == 3);  // batches 0, 1, 2 trained
            CHECK(history.epoch.size() == 1);
            CHECK(std::isnan(history.at("loss").back()));
        }
        SUBCASE("TerminateOnNaN with raise_error: the message comes out of fit as an exception") {
            auto model = make_classifier();
            callbacks::TerminateOnNaN guard({.raise_error = true});
            CHECK_THROWS_WITH_AS(model.fit(data.x, data.y, options, guard), "Batch 2: Invalid loss, terminating training",
                                 std::runtime_error);
        }
    }
}

TEST_CASE("BadNumbers.infinite_loss") {
    // A target of 1e30 squares past FLT_MAX: that batch's loss is +inf, not nan. Keras stops on
    // either (np.isnan(loss) or np.isinf(loss)).
    Data data = regression();
    data.y(20, 0) = 1e30f;  // batch 2 without shuffling
    const FitOptions options{.epochs = 2, .batch_size = batch, .shuffle = false, .verbose = 0};
    std::vector<double> batch_losses;
    {
        auto model = make_regressor(0.01f);
        REQUIRE_NOTHROW(model.fit(data.x, data.y, options, RecordBatchLosses{&batch_losses}));
    }
    REQUIRE(first_non_finite(batch_losses) == 2);
    CHECK(batch_losses[2] == std::numeric_limits<double>::infinity());

    auto model = make_regressor(0.01f);
    std::ostringstream out;
    callbacks::TerminateOnNaN guard({}, out);
    const History history = model.fit(data.x, data.y, options, guard);
    CHECK(out.str() == "Batch 2: Invalid loss, terminating training\n");
    CHECK(model.iterations() == 3);
    CHECK(history.epoch.size() == 1);
    CHECK_FALSE(std::isfinite(history.at("loss").back()));
}

TEST_CASE("BadNumbers.diverging_learning_rate") {
    const Data data = regression();
    const FitOptions options{.epochs = 3, .batch_size = batch, .verbose = 0, .seed = 4};

    // The twin run: where does the running loss stop being finite?
    std::vector<double> batch_losses;
    {
        auto model = make_regressor(1e4f);
        model.fit(data.x, data.y, options, RecordBatchLosses{&batch_losses});
    }
    const std::size_t diverged = first_non_finite(batch_losses);
    REQUIRE(diverged < samples / batch);  // it does diverge within the first epoch
    CHECK(std::isfinite(batch_losses[0]));

    SUBCASE("TerminateOnNaN stops at that batch") {
        auto model = make_regressor(1e4f);
        std::ostringstream out;
        callbacks::TerminateOnNaN guard({}, out);
        const History history = model.fit(data.x, data.y, options, guard);
        CHECK(out.str() == "Batch " + std::to_string(diverged) + ": Invalid loss, terminating training\n");
        CHECK(model.iterations() == std::int64_t(diverged + 1));
        CHECK(history.epoch.size() == 1);
    }
    SUBCASE("without it: History, TensorBoard scalars and weight files keep the nan") {
        hardening::ScratchDir scratch("diverge");
        auto model = make_regressor(1e4f);
        callbacks::TensorBoard tensorboard(
            {.log_dir = scratch / "logs", .update_freq = callbacks::UpdateFreq::batch, .histogram_freq = 1});
        History history;
        REQUIRE_NOTHROW(history = model.fit(data.x, data.y, options, tensorboard));
        REQUIRE(history.epoch.size() == 3);
        for (double loss : history.at("loss")) CHECK(std::isnan(loss));

        const tensorboard::EventFile file = tensorboard::read_event_file(only_file(scratch / "logs" / "train"));
        CHECK(file.status == io::TFRecordStatus::clean_end);
        std::size_t epoch_scalars = 0, batch_scalars = 0, histograms = 0;
        for (const auto& event : file.events)
            for (const auto& value : event.values) {
                CAPTURE(value.tag);
                CAPTURE(event.step);
                if (value.tag == "epoch_loss") {
                    REQUIRE(value.tensor);
                    REQUIRE(value.tensor->scalar_float());
                    CHECK(std::isnan(*value.tensor->scalar_float()));
                    ++epoch_scalars;
                } else if (value.tag == "batch_loss") {
                    REQUIRE(value.tensor);
                    REQUIRE(value.tensor->scalar_float());
                    // Step s is global batch s (1-based); the twin run recorded the same values.
                    const auto index = static_cast<std::size_t>(event.step - 1);
                    REQUIRE(index < batch_losses.size());
                    CHECK(same_float(*value.tensor->scalar_float(), static_cast<float>(batch_losses[index])));
                    ++batch_scalars;
                } else if (value.plugin_name == "histograms") {
                    ++histograms;
                }
            }
        CHECK(epoch_scalars == 3);
        CHECK(batch_scalars == 3 * samples / batch);
        CHECK(histograms == 3 * 4);  // two kernels and two biases per epoch, non-finite values left out

        // A weights file of a diverged model holds exactly its (non-finite) weights.
        REQUIRE(has_non_finite(model.get_weights()));
        model.save_weights(scratch / "diverged.npz");
        auto reloaded = make_regressor(0.01f);
        reloaded.load_weights(scratch / "diverged.npz");
        CHECK(hardening::same_weights(reloaded.get_weights(), model.get_weights()));
    }
}

TEST_CASE("BadNumbers.save_best_only_keeps_the_last_finite_model") {
    // One good epoch, then the learning rate jumps and the loss becomes nan: a nan is never an
    // improvement, so the best checkpoint stays the good epoch's.
    hardening::ScratchDir scratch("best");
    const Data data = regression();
    auto model = make_regressor(0.01f);
    std::vector<io::NamedArray> after_first_epoch;
    struct Explode {
        ModelInterface* model = nullptr;
        std::vector<io::NamedArray>* first;
        void set_model(ModelInterface& m) { model = &m; }
        void on_epoch_end(std::size_t epoch) {
            if (epoch == 0) *first = model->get_weights();
            model->set_learning_rate(1e6f);
        }
    };
    std::ostringstream out;
    callbacks::ModelCheckpoint best((scratch / "best.npz").string(),
                                    {.monitor = "loss", .verbose = 1, .save_best_only = true}, out);
    const History history =
        model.fit(data.x, data.y, {.epochs = 3, .batch_size = batch, .verbose = 0, .seed = 2}, best, Explode{nullptr, &after_first_epoch});
    REQUIRE(std::isfinite(history.at("loss")[0]));
    CHECK(std::isnan(history.at("loss")[2]));
    CHECK(best.saves() == 1);
    auto reloaded = make_regressor(0.01f);
    reloaded.load_weights(scratch / "best.npz");
    CHECK(hardening::same_weights(reloaded.get_weights(), after_first_epoch));
    CHECK(out.str().find("Epoch 3: loss did not improve from") != std::string::npos);
}

}  // namespace hardening_test_bad_numbers
