// ctnn/callbacks/history.hpp — History: what fit returns, as Keras's: the epochs run, every
// epoch-end log value by name, and the fit's parameters.
#pragma once

#include <cstddef>
#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "ctnn/core/logs.hpp"
#include "ctnn/core/model_interface.hpp"

namespace ctnn {

struct History {
    std::vector<std::size_t> epoch;                       // 0-based epoch indices, in order
    std::map<std::string, std::vector<double>> history;  // "loss" -> one value per epoch, ...
    FitParams params;

    void set_params(const FitParams& p) { params = p; }
    void on_train_begin(const Logs&) {
        epoch.clear();
        history.clear();
    }
    void on_epoch_end(std::size_t e, const Logs& logs) {
        epoch.push_back(e);
        for (const auto& [name, value] : logs) history[name].push_back(value);
    }
    const std::vector<double>& at(const std::string& name) const { return history.at(name); }

    // Prints like Python prints history.history: {'accuracy': [0.81, 0.85], 'loss': [...]}.
    friend std::ostream& operator<<(std::ostream& os, const History& h) {
        os << '{';
        bool first_key = true;
        for (const auto& [name, values] : h.history) {
            os << (first_key ? "" : ", ") << '\'' << name << "': [";
            for (std::size_t i = 0; i < values.size(); ++i) os << (i ? ", " : "") << values[i];
            os << ']';
            first_key = false;
        }
        return os << '}';
    }
};

}  // namespace ctnn
