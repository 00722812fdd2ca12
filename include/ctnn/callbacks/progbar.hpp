// ctnn/callbacks/progbar.hpp — ProgbarLogger, the console output of fit/evaluate (tf-keras style):
//
//   Epoch 1/10
//   55/55 [==============================] - 3s 52ms/step - loss: 0.6033 - accuracy: 0.7919 - val_loss: ...
//
// verbose 1: a bar redrawn in place (at most every 50 ms) when the stream is a terminal; when it
// is not (a log file, CI), no carriage returns: one line per epoch. verbose 2: one line per epoch.
#pragma once

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <iostream>
#include <ostream>
#include <string>
#include <string_view>

#include <unistd.h>

#include "ctnn/core/callback_policy.hpp"
#include "ctnn/core/logs.hpp"
#include "ctnn/core/model_interface.hpp"

namespace ctnn::callbacks {

class ProgbarLogger {
public:
    // Under data-parallel fit, rank 0 writes; on_every_rank(cb) makes every rank write.
    static constexpr CallbackRanks ranks = CallbackRanks::first;
    using clock = std::chrono::steady_clock;

    explicit ProgbarLogger(int verbose = 1, std::ostream& out = std::cout, bool dynamic = stdout_is_terminal())
        : verbose_(verbose), out_(&out), dynamic_(dynamic && verbose == 1) {}

    void set_params(const FitParams& p) {
        epochs_ = p.epochs;
        target_ = p.steps;
    }
    void on_epoch_begin(std::size_t epoch, const Logs&) {
        if (verbose_ == 0) return;
        if (epochs_ > 1) *out_ << "Epoch " << epoch + 1 << '/' << epochs_ << '\n' << std::flush;
        start(target_);
    }
    void on_train_batch_end(std::size_t batch, const Logs& logs) { update(batch + 1, logs, false); }
    void on_epoch_end(std::size_t, const Logs& logs) { update(seen_, logs, true); }

    // evaluate() drives the same bar with its own step count.
    void start(std::size_t target) {
        target_ = target;
        seen_ = 0;
        started_ = last_draw_ = clock::now();
        last_width_ = 0;
    }
    void update(std::size_t current, const Logs& logs, bool finalize) {
        if (verbose_ == 0) return;
        seen_ = current;
        const auto now = clock::now();
        if (!finalize && (!dynamic_ || now - last_draw_ < std::chrono::milliseconds(50))) return;
        last_draw_ = now;
        const double elapsed = std::chrono::duration<double>(now - started_).count();
        std::string line = std::to_string(current) + '/' + std::to_string(target_);
        if (verbose_ == 1) line += ' ' + bar(current);
        if (finalize) {
            line += " - " + format_seconds(elapsed) + ' ' + per_step(elapsed, current);
        } else {
            const double eta = current ? elapsed / double(current) * double(target_ - current) : 0.0;
            line += " - ETA: " + format_seconds(eta);
        }
        for (const auto& [name, value] : logs) {
            if (name == "size" || name == "batch" || name.rfind("raw_", 0) == 0) continue;
            line += " - " + name + ": " + format_value(value);
        }
        if (dynamic_) {
            std::string padded = line;
            if (padded.size() < last_width_) padded.append(last_width_ - padded.size(), ' ');
            last_width_ = line.size();
            *out_ << '\r' << padded;
            if (finalize) *out_ << '\n';
        } else {
            *out_ << line << '\n';
        }
        *out_ << std::flush;
    }

    static std::string format_value(double v) {
        char buf[32];
        std::snprintf(buf, sizeof buf, (std::fabs(v) < 1e-3 && v != 0.0) ? "%.4e" : "%.4f", v);
        return buf;
    }
    static bool stdout_is_terminal() { return ::isatty(STDOUT_FILENO) == 1; }

private:
    std::string bar(std::size_t current) const {
        constexpr std::size_t width = 30;
        const std::size_t filled = target_ ? width * current / target_ : width;
        std::string b = "[";
        for (std::size_t i = 0; i < width; ++i) b += i + 1 < filled ? '=' : (i + 1 == filled ? (current >= target_ ? '=' : '>') : '.');
        return b + ']';
    }
    static std::string format_seconds(double s) {
        char buf[32];
        if (s >= 3600) std::snprintf(buf, sizeof buf, "%d:%02d:%02d", int(s / 3600), int(s / 60) % 60, int(s) % 60);
        else if (s >= 60) std::snprintf(buf, sizeof buf, "%d:%02d", int(s / 60), int(s) % 60);
        else std::snprintf(buf, sizeof buf, "%ds", int(s));
        return buf;
    }
    static std::string per_step(double elapsed, std::size_t steps) {
        const double per = steps ? elapsed / double(steps) : 0.0;
        char buf[32];
        if (per >= 1) std::snprintf(buf, sizeof buf, "%.0fs/step", per);
        else if (per >= 1e-3) std::snprintf(buf, sizeof buf, "%.0fms/step", per * 1e3);
        else std::snprintf(buf, sizeof buf, "%.0fus/step", per * 1e6);
        return buf;
    }

    int verbose_;
    std::ostream* out_;
    bool dynamic_;
    std::size_t epochs_ = 0, target_ = 0, seen_ = 0, last_width_ = 0;
    clock::time_point started_{}, last_draw_{};
};

}  // namespace ctnn::callbacks
