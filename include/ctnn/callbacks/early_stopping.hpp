// ctnn/callbacks/early_stopping.hpp — EarlyStopping: stop fit when a monitored log value has not
// improved for `patience` epochs, optionally putting back the best epoch's weights. The algorithm,
// defaults and messages are Keras 3's (keras/src/callbacks/early_stopping.py):
//
//   callbacks::EarlyStopping stop{{.monitor = "val_loss", .patience = 3, .restore_best_weights = true}};
//   model.fit(x, y, {.epochs = 100, .validation_split = 0.1}, stop);
#pragma once

#include <cstddef>
#include <cstdint>
#include <iostream>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "ctnn/callbacks/monitor.hpp"
#include "ctnn/core/logs.hpp"
#include "ctnn/core/named_array.hpp"
#include "ctnn/core/model_interface.hpp"
#include "ctnn/core/training_state.hpp"

namespace ctnn::callbacks {

struct EarlyStoppingOptions {
    std::string monitor = "val_loss";
    double min_delta = 0.0;            // a change smaller than this (in absolute value) is no improvement
    std::size_t patience = 0;          // epochs without improvement before stopping
    int verbose = 0;                   // 1: print "Epoch N: early stopping" and the restore message
    std::string mode = "auto";         // "auto", "min" or "max"
    std::optional<double> baseline{};  // waiting only restarts on values that also beat this
    bool restore_best_weights = false; // at train end, even when training did not stop early
    std::size_t start_from_epoch = 0;  // epochs (0-based index) below this are not monitored
};

class EarlyStopping {
public:
    explicit EarlyStopping(EarlyStoppingOptions options = {}, std::ostream& out = std::cout)
        : options_(std::move(options)), monitor_("EarlyStopping", options_.monitor, options_.mode, options_.min_delta),
          out_(&out) {}

    void set_model(ModelInterface& model) { model_ = &model; }

    void on_train_begin(const Logs&) {
        wait_ = 0;
        stopped_epoch_ = 0;
        best_.reset();
        best_weights_.reset();
        best_epoch_ = 0;
        warn_.reset();
    }

    void on_epoch_end(std::size_t epoch, const Logs& logs) {
        if (!logs.contains(monitor_.name())) {
            warn_(*out_, "Early stopping conditioned on metric `" + monitor_.name() +
                             "` which is not available. Available metrics are: " + detail::keys_comma_joined(logs));
            return;
        }
        if (epoch < options_.start_from_epoch) return;
        const double current = logs.at(monitor_.name());
        // Keras: if no best weights were kept yet, the current ones are the best so far.
        if (options_.restore_best_weights && !best_weights_) {
            best_weights_ = model().get_weights();
            best_epoch_ = epoch;
        }
        ++wait_;
        if (!best_ || monitor_.is_improvement(current, *best_)) {
            best_ = current;
            best_epoch_ = epoch;
            if (options_.restore_best_weights) best_weights_ = model().get_weights();
            // Only restart waiting when the value beats both the previous best and the baseline.
            if (!options_.baseline || monitor_.is_improvement(current, *options_.baseline)) wait_ = 0;
            return;
        }
        if (wait_ >= options_.patience && epoch > 0) {
            stopped_epoch_ = epoch;
            model().stop_training = true;
        }
    }

    void on_train_end(const Logs&) {
        if (stopped_epoch_ > 0 && options_.verbose > 0) *out_ << "Epoch " << stopped_epoch_ + 1 << ": early stopping\n";
        if (options_.restore_best_weights && best_weights_) {
            if (options_.verbose > 0)
                *out_ << "Restoring model weights from the end of the best epoch: " << best_epoch_ + 1 << ".\n";
            model().set_weights(*best_weights_);
        }
    }

    // What a backup keeps (callbacks/backup_and_restore.hpp), the best weights included.
    void save_state(StateWriter& w) const {
        w.put_int("wait", std::int64_t(wait_));
        w.put_int("stopped_epoch", std::int64_t(stopped_epoch_));
        w.put_bool("has_best", best_.has_value());
        w.put_double("best", best_.value_or(0.0));
        w.put_int("best_epoch", std::int64_t(best_epoch_));
        w.put_bool("warned", warn_.warned());
        w.put_bool("has_best_weights", best_weights_.has_value());
        if (best_weights_)
            for (const NamedArray& a : *best_weights_) w.put_floats("best_weights/" + a.name, a.shape, a.values);
    }
    void load_state(const StateReader& r) {
        wait_ = r.get_size("wait");
        stopped_epoch_ = r.get_size("stopped_epoch");
        best_.reset();
        if (r.get_bool("has_best")) best_ = r.get_double("best");
        best_epoch_ = r.get_size("best_epoch");
        warn_.set_warned(r.get_bool("warned"));
        best_weights_.reset();
        if (r.get_bool("has_best_weights")) {
            std::vector<NamedArray> weights = model().get_weights();
            for (NamedArray& a : weights) a.values = r.get_floats("best_weights/" + a.name, a.shape);
            best_weights_ = std::move(weights);
        }
    }

    // State, as Keras's attributes: stopped_epoch is 0 when training did not stop early.
    std::size_t stopped_epoch() const noexcept { return stopped_epoch_; }
    std::size_t wait() const noexcept { return wait_; }
    std::optional<double> best() const noexcept { return best_; }
    std::size_t best_epoch() const noexcept { return best_epoch_; }
    const Monitor& monitor() const noexcept { return monitor_; }
    const EarlyStoppingOptions& options() const noexcept { return options_; }

private:
    ModelInterface& model() const {
        if (!model_) throw std::logic_error("EarlyStopping: no model; pass the callback to fit (or call set_model first)");
        return *model_;
    }

    EarlyStoppingOptions options_;
    Monitor monitor_;
    std::ostream* out_;
    ModelInterface* model_ = nullptr;
    std::size_t wait_ = 0;
    std::size_t stopped_epoch_ = 0;
    std::optional<double> best_{};
    std::optional<std::vector<NamedArray>> best_weights_{};
    std::size_t best_epoch_ = 0;
    detail::WarnOnce warn_;
};

}  // namespace ctnn::callbacks
