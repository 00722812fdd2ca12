// ctnn/callbacks/learning_rate_scheduler.hpp — LearningRateScheduler: at the start of every epoch
// set the optimizer's learning rate to schedule(epoch, current_lr) or schedule(epoch), whichever
// the callable accepts (two arguments preferred, as Keras 3 tries them in that order). epoch is
// 0-based. Message as Keras 3 (keras/src/callbacks/learning_rate_scheduler.py).
//
//   callbacks::LearningRateScheduler decay([](std::size_t epoch, double lr) { return epoch < 10 ? lr : lr * 0.9; });
#pragma once

#include <cmath>
#include <concepts>
#include <cstddef>
#include <iostream>
#include <ostream>
#include <stdexcept>
#include <string>
#include <utility>

#include "ctnn/callbacks/monitor.hpp"
#include "ctnn/core/logs.hpp"
#include "ctnn/core/model_interface.hpp"

namespace ctnn::callbacks {

template <class S>
concept EpochAndRateSchedule = requires(S& s, std::size_t epoch, double lr) {
    { s(epoch, lr) } -> std::convertible_to<double>;
};
template <class S>
concept EpochSchedule = requires(S& s, std::size_t epoch) {
    { s(epoch) } -> std::convertible_to<double>;
};

template <class Schedule>
class LearningRateScheduler {
    static_assert(EpochAndRateSchedule<Schedule> || EpochSchedule<Schedule>,
                  "LearningRateScheduler(schedule): schedule must be callable as double(std::size_t epoch, double lr) "
                  "or double(std::size_t epoch)");

public:
    explicit LearningRateScheduler(Schedule schedule, int verbose = 0, std::ostream& out = std::cout)
        : schedule_(std::move(schedule)), verbose_(verbose), out_(&out) {}

    void set_model(ModelInterface& model) { model_ = &model; }

    void on_epoch_begin(std::size_t epoch) {
        if (!model_)
            throw std::logic_error("LearningRateScheduler: no model; pass the callback to fit (or call set_model first)");
        double lr = 0;
        if constexpr (EpochAndRateSchedule<Schedule>) lr = static_cast<double>(schedule_(epoch, double(model_->learning_rate())));
        else lr = static_cast<double>(schedule_(epoch));
        if (!std::isfinite(lr) || lr < 0)
            throw std::invalid_argument("LearningRateScheduler: schedule(" + std::to_string(epoch) + ") returned " +
                                        detail::python_repr(lr) + "; expected a finite learning rate >= 0");
        model_->set_learning_rate(float(lr));
        if (verbose_ > 0)
            *out_ << "Epoch " << epoch + 1 << ": LearningRateScheduler setting learning rate to " << detail::python_repr(lr)
                  << ".\n";
    }

    Schedule& schedule() noexcept { return schedule_; }

private:
    Schedule schedule_;
    int verbose_;
    std::ostream* out_;
    ModelInterface* model_ = nullptr;
};

}  // namespace ctnn::callbacks
