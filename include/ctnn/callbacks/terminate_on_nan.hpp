// ctnn/callbacks/terminate_on_nan.hpp — TerminateOnNaN: end fit as soon as a batch's loss log is
// NaN or infinite, as Keras 3 (keras/src/callbacks/terminate_on_nan.py). The "loss" batch log is
// the running mean over the epoch, so one diverged batch makes it non-finite too.
//
//   callbacks::TerminateOnNaN guard;                          // prints and stops after this batch
//   callbacks::TerminateOnNaN strict{{.raise_error = true}};  // throws std::runtime_error instead
#pragma once

#include <cmath>
#include <cstddef>
#include <iostream>
#include <ostream>
#include <stdexcept>
#include <string>

#include "ctnn/core/logs.hpp"
#include "ctnn/core/model_interface.hpp"

namespace ctnn::callbacks {

struct TerminateOnNaNOptions {
    bool raise_error = false;  // throw std::runtime_error instead of setting stop_training
};

class TerminateOnNaN {
public:
    explicit TerminateOnNaN(TerminateOnNaNOptions options = {}, std::ostream& out = std::cout)
        : options_(options), out_(&out) {}

    void set_model(ModelInterface& model) { model_ = &model; }

    void on_batch_end(std::size_t batch, const Logs& logs) {
        if (!logs.contains("loss") || std::isfinite(logs.at("loss"))) return;
        const std::string message = "Batch " + std::to_string(batch) + ": Invalid loss, terminating training";
        if (options_.raise_error) throw std::runtime_error(message);
        *out_ << message << '\n';
        if (!model_) throw std::logic_error("TerminateOnNaN: no model; pass the callback to fit (or call set_model first)");
        model_->stop_training = true;
    }

    const TerminateOnNaNOptions& options() const noexcept { return options_; }

private:
    TerminateOnNaNOptions options_;
    std::ostream* out_;
    ModelInterface* model_ = nullptr;
};

}  // namespace ctnn::callbacks
