// ctnn/callbacks/monitor.hpp — what ModelCheckpoint, EarlyStopping and ReduceLROnPlateau share:
// which direction a monitored log key should move (mode "auto"/"min"/"max"), Keras's improvement
// test with min_delta, the once-per-fit "metric not available" warning, and Python's float text
// (repr) that Keras prints in messages and CSV files. Not a callback itself.
#pragma once

#include <charconv>
#include <cmath>
#include <cstddef>
#include <limits>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>

#include "ctnn/core/logs.hpp"

namespace ctnn::callbacks {

enum class MonitorMode { min, max };

// Keras's mode="auto": loss-like keys are minimized, accuracy-like keys maximized (the "val_"
// prefix is ignored). Anything else needs an explicit mode, as Keras 3 asks for one too.
inline MonitorMode resolve_monitor_mode(std::string_view owner, std::string_view monitor, std::string_view mode) {
    if (mode == "min") return MonitorMode::min;
    if (mode == "max") return MonitorMode::max;
    if (mode != "auto")
        throw std::invalid_argument(std::string(owner) + ": mode must be \"auto\", \"min\" or \"max\"; got \"" +
                                    std::string(mode) + "\"");
    std::string_view name = monitor;
    if (name.starts_with("val_")) name.remove_prefix(4);
    const auto has = [&](std::string_view part) { return name.find(part) != std::string_view::npos; };
    if (has("loss") || has("error") || has("crossentropy") || name == "mse" || name == "mae" || name == "mape" ||
        name == "msle")
        return MonitorMode::min;
    if (has("acc") || has("auc") || has("precision") || has("recall") || name.starts_with("fmeasure") ||
        name.starts_with("f1"))
        return MonitorMode::max;
    throw std::invalid_argument(std::string(owner) + ": mode \"auto\" cannot tell whether monitor \"" +
                                std::string(monitor) +
                                "\" should be minimized or maximized; pass .mode = \"min\" or .mode = \"max\"");
}

// The direction of a monitored quantity and Keras's improvement test.
class Monitor {
public:
    Monitor(std::string_view owner, std::string monitor, std::string_view mode, double min_delta = 0.0)
        : name_(std::move(monitor)), mode_(resolve_monitor_mode(owner, name_, mode)), min_delta_(std::fabs(min_delta)) {}

    const std::string& name() const noexcept { return name_; }
    MonitorMode mode() const noexcept { return mode_; }
    double min_delta() const noexcept { return min_delta_; }

    // Keras MonitorCallback: monitor_op(current - min_delta, reference) with min_delta negated
    // for "min", i.e. current + |d| < reference, or current - |d| > reference for "max".
    bool is_improvement(double current, double reference) const noexcept {
        return mode_ == MonitorMode::min ? current + min_delta_ < reference : current - min_delta_ > reference;
    }
    // The starting "best" that any real value beats: +inf for min, -inf for max.
    double worst() const noexcept {
        return mode_ == MonitorMode::min ? std::numeric_limits<double>::infinity()
                                         : -std::numeric_limits<double>::infinity();
    }

private:
    std::string name_;
    MonitorMode mode_;
    double min_delta_;
};

namespace detail {

// Python's repr(float): shortest round-trip digits, fixed notation for exponents in [-4, 16),
// ".0" on integral values ("1.0", "0.0001", "1e-05", "1e+16", "nan", "inf").
inline std::string python_repr(double value) {
    if (std::isnan(value)) return "nan";
    if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
    char buffer[64];
    const auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::scientific);
    const std::string scientific(buffer, result.ptr);  // e.g. "-1.2345e-05"
    const std::size_t e_pos = scientific.find('e');
    int exponent = 0;
    std::from_chars(scientific.data() + e_pos + (scientific[e_pos + 1] == '+' ? 2 : 1),
                    scientific.data() + scientific.size(), exponent);
    if (exponent < -4 || exponent >= 16) return scientific;
    const bool negative = scientific[0] == '-';
    std::string digits;
    for (std::size_t i = negative ? 1 : 0; i < e_pos; ++i)
        if (scientific[i] != '.') digits += scientific[i];
    std::string text;
    if (exponent >= 0) {
        const std::size_t integer_digits = std::size_t(exponent) + 1;
        if (digits.size() <= integer_digits)
            text = digits + std::string(integer_digits - digits.size(), '0') + ".0";
        else
            text = digits.substr(0, integer_digits) + "." + digits.substr(integer_digits);
    } else {
        text = "0." + std::string(std::size_t(-exponent - 1), '0') + digits;
    }
    return negative ? "-" + text : text;
}

// Keras's joined key list in "not available" warnings: "loss,accuracy" (no spaces).
inline std::string keys_comma_joined(const Logs& logs) {
    std::string out;
    for (const auto& [key, value] : logs) out += (out.empty() ? "" : ",") + key;
    return out;
}

// Python prints a given warning once per call site; ctnn prints it once per fit.
class WarnOnce {
public:
    void reset() noexcept { warned_ = false; }
    bool warned() const noexcept { return warned_; }
    void set_warned(bool warned) noexcept { warned_ = warned; }
    void operator()(std::ostream& out, const std::string& message) {
        if (warned_) return;
        warned_ = true;
        out << "UserWarning: " << message << '\n';
    }

private:
    bool warned_ = false;
};

}  // namespace detail
}  // namespace ctnn::callbacks
