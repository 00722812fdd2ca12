// ctnn/callbacks/reduce_lr_on_plateau.hpp — ReduceLROnPlateau: multiply the learning rate by
// `factor` when a monitored log value has not improved for `patience` epochs, then wait `cooldown`
// epochs before counting again. Algorithm, defaults and message as Keras 3
// (keras/src/callbacks/reduce_lr_on_plateau.py); new_lr = max(lr * factor, min_lr).
//
//   callbacks::ReduceLROnPlateau plateau{{.factor = 0.2, .patience = 5, .min_lr = 0.001}};
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <iostream>
#include <ostream>
#include <stdexcept>
#include <string>

#include "ctnn/callbacks/monitor.hpp"
#include "ctnn/core/logs.hpp"
#include "ctnn/core/model_interface.hpp"
#include "ctnn/core/training_state.hpp"

namespace ctnn::callbacks {

struct ReduceLROnPlateauOptions {
    std::string monitor = "val_loss";
    double factor = 0.1;        // in (0, 1): Keras rejects factor >= 1
    std::size_t patience = 10;  // epochs without improvement before a reduction
    int verbose = 0;            // 1: print "Epoch N: ReduceLROnPlateau reducing learning rate to X."
    std::string mode = "auto";  // "auto", "min" or "max"
    double min_delta = 1e-4;    // an improvement must beat the best by more than this
    std::size_t cooldown = 0;   // epochs after a reduction during which waiting does not count
    double min_lr = 0.0;        // the learning rate never goes below this
};

class ReduceLROnPlateau {
public:
    explicit ReduceLROnPlateau(ReduceLROnPlateauOptions options = {}, std::ostream& out = std::cout)
        : options_(checked(std::move(options))),
          monitor_("ReduceLROnPlateau", options_.monitor, options_.mode, options_.min_delta), out_(&out) {
        reset();
    }

    void set_model(ModelInterface& model) { model_ = &model; }
    void on_train_begin(const Logs&) { reset(); }

    void on_epoch_end(std::size_t epoch, const Logs& logs) {
        if (!logs.contains(monitor_.name())) {
            warn_(*out_, "Learning rate reduction is conditioned on metric `" + monitor_.name() +
                             "` which is not available. Available metrics are: " + detail::keys_comma_joined(logs) + ".");
            return;
        }
        const double current = logs.at(monitor_.name());
        if (in_cooldown()) {
            --cooldown_counter_;
            wait_ = 0;
        }
        // Keras's own test here: a < best - min_delta (min) or a > best + min_delta (max).
        const double d = monitor_.min_delta();
        const bool improved = monitor_.mode() == MonitorMode::min ? current < best_ - d : current > best_ + d;
        if (improved) {
            best_ = current;
            wait_ = 0;
        } else if (!in_cooldown()) {
            ++wait_;
            if (wait_ >= options_.patience) {
                ModelInterface& m = model();
                const double old_lr = m.learning_rate();
                if (old_lr > double(float(options_.min_lr))) {
                    const double new_lr = std::max(old_lr * options_.factor, options_.min_lr);
                    m.set_learning_rate(float(new_lr));
                    if (options_.verbose > 0)
                        *out_ << "Epoch " << epoch + 1 << ": ReduceLROnPlateau reducing learning rate to "
                              << detail::python_repr(new_lr) << ".\n";
                    cooldown_counter_ = options_.cooldown;
                    wait_ = 0;
                }
            }
        }
    }

    // What a backup keeps (callbacks/backup_and_restore.hpp); the learning rate is the model's.
    void save_state(StateWriter& w) const {
        w.put_double("best", best_);
        w.put_int("cooldown_counter", std::int64_t(cooldown_counter_));
        w.put_int("wait", std::int64_t(wait_));
        w.put_bool("warned", warn_.warned());
    }
    void load_state(const StateReader& r) {
        best_ = r.get_double("best");
        cooldown_counter_ = r.get_size("cooldown_counter");
        wait_ = r.get_size("wait");
        warn_.set_warned(r.get_bool("warned"));
    }

    bool in_cooldown() const noexcept { return cooldown_counter_ > 0; }
    std::size_t wait() const noexcept { return wait_; }
    double best() const noexcept { return best_; }
    const Monitor& monitor() const noexcept { return monitor_; }
    const ReduceLROnPlateauOptions& options() const noexcept { return options_; }

private:
    static ReduceLROnPlateauOptions checked(ReduceLROnPlateauOptions options) {
        if (!(options.factor < 1.0))
            throw std::invalid_argument("ReduceLROnPlateau: factor must be < 1.0 (ReduceLROnPlateau does not support a "
                                        "factor >= 1.0); got factor = " + detail::python_repr(options.factor));
        if (!(options.factor > 0.0))
            throw std::invalid_argument("ReduceLROnPlateau: factor must be > 0; got factor = " +
                                        detail::python_repr(options.factor));
        if (!(options.min_lr >= 0.0))
            throw std::invalid_argument("ReduceLROnPlateau: min_lr must be >= 0; got min_lr = " +
                                        detail::python_repr(options.min_lr));
        return options;
    }
    void reset() {
        best_ = monitor_.worst();
        cooldown_counter_ = 0;
        wait_ = 0;
        warn_.reset();
    }
    ModelInterface& model() const {
        if (!model_)
            throw std::logic_error("ReduceLROnPlateau: no model; pass the callback to fit (or call set_model first)");
        return *model_;
    }

    ReduceLROnPlateauOptions options_;
    Monitor monitor_;
    std::ostream* out_;
    ModelInterface* model_ = nullptr;
    double best_ = 0;
    std::size_t cooldown_counter_ = 0;
    std::size_t wait_ = 0;
    detail::WarnOnce warn_;
};

}  // namespace ctnn::callbacks
