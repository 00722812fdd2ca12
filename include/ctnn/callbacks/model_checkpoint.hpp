// ctnn/callbacks/model_checkpoint.hpp — ModelCheckpoint: save the model's weights during fit, at
// every epoch end or every N batches, optionally only when a monitored log value improves. Options,
// defaults, file-name template and messages as Keras 3 (keras/src/callbacks/model_checkpoint.py):
//
//   callbacks::ModelCheckpoint best("ckpt/weights.{epoch:02d}-{val_loss:.4f}.npz",
//                                   {.verbose = 1, .save_best_only = true});
//
// The file name is a Python-format-like template: {epoch} (1-based, as Keras), {batch} (1-based,
// only when saving by batches) and any log key ({val_loss}, {accuracy}); specs d, .Nf and .Ne with
// an optional 0 flag and width ({epoch:02d}, {val_loss:.4f}, {loss:08.3e}); {{ and }} are braces.
// What is saved is model.save_weights(path), or with save_weights_only = false model.save(path): the
// whole training state (weights, optimizer, random streams, position in fit, History, callbacks'
// states), which Model::load restores and a fit then continues bit for bit. Either is an .npz
// written to a temporary name and renamed into place (Keras writes in place). A ctnn model's
// architecture is its C++ type, so the weights alone are the default (Keras's default is a .keras
// file with the optimizer); a full state is written once every callback's hook for that epoch or
// batch has returned.
// Parent directories of the path are created as needed.
#pragma once

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "ctnn/callbacks/monitor.hpp"
#include "ctnn/core/error.hpp"
#include "ctnn/core/callback_policy.hpp"
#include "ctnn/core/logs.hpp"
#include "ctnn/core/model_interface.hpp"
#include "ctnn/core/training_state.hpp"

namespace ctnn::callbacks {

// Keras's save_freq: "epoch", or a number of batches.
struct SaveFrequency {
    std::size_t batches = 0;  // 0: at the end of every epoch

    SaveFrequency(const char* text) {  // NOLINT: implicit, for `.save_freq = "epoch"`
        if (std::string_view(text) != "epoch")
            throw std::invalid_argument(std::string("ModelCheckpoint, BackupAndRestore: save_freq must be \"epoch\" or a number of batches > 0; got \"") +
                                        text + "\"");
    }
    template <std::integral I>
        requires(!std::same_as<I, bool>)
    SaveFrequency(I n) : batches(static_cast<std::size_t>(n)) {  // NOLINT: implicit, for `.save_freq = 100`
        if (n <= 0)
            throw std::invalid_argument("ModelCheckpoint, BackupAndRestore: save_freq must be \"epoch\" or a number of batches > 0; got " +
                                        std::to_string(n));
    }
    bool per_epoch() const noexcept { return batches == 0; }
};

struct ModelCheckpointOptions {
    std::string monitor = "val_loss";
    int verbose = 0;                 // 1: print a line at each save (or non-save with save_best_only)
    bool save_best_only = false;     // save only when `monitor` improves on the best seen
    bool save_weights_only = true;   // false: the whole training state (see the file comment)
    std::string mode = "auto";       // "auto", "min" or "max"; used with save_best_only
    SaveFrequency save_freq = "epoch";
    std::optional<double> initial_value_threshold{};  // the "best" to beat at the first save
};

namespace detail {

// One value a file-name template may use.
struct TemplateField {
    std::string name;
    double value = 0;
    bool integer = false;  // epoch and batch: formatted as integers
};

inline std::string pad_number(std::string text, std::size_t width, bool zero_fill) {
    if (text.size() >= width) return text;
    const std::size_t fill = width - text.size();
    if (!zero_fill) return std::string(fill, ' ') + text;
    const std::size_t sign = (!text.empty() && (text[0] == '-' || text[0] == '+')) ? 1 : 0;
    return text.insert(sign, fill, '0');
}

// Formats one {name:spec} field as Python's str.format would, for the specs ModelCheckpoint supports.
inline std::string format_template_field(const TemplateField& field, std::string_view spec, std::string_view pattern) {
    const auto unsupported = [&](const std::string& why) {
        return std::invalid_argument("ModelCheckpoint: filepath \"" + std::string(pattern) + "\": field {" + field.name +
                                     ":" + std::string(spec) + "}: " + why +
                                     "; supported specs are d, .Nf and .Ne with an optional 0 flag and width (e.g. 02d, .4f)");
    };
    std::size_t pos = 0;
    bool zero_fill = false;
    if (pos < spec.size() && spec[pos] == '0') {
        zero_fill = true;
        ++pos;
    }
    std::size_t width = 0;
    while (pos < spec.size() && spec[pos] >= '0' && spec[pos] <= '9' && width < 1000) width = width * 10 + std::size_t(spec[pos++] - '0');
    std::optional<int> precision;
    if (pos < spec.size() && spec[pos] == '.') {
        ++pos;
        int p = 0;
        const std::size_t digits_start = pos;
        while (pos < spec.size() && spec[pos] >= '0' && spec[pos] <= '9' && p < 100) p = p * 10 + (spec[pos++] - '0');
        if (pos == digits_start) throw unsupported("'.' needs a precision");
        precision = p;
    }
    char type = 0;
    if (pos < spec.size()) type = spec[pos++];
    if (pos != spec.size() || (type != 0 && type != 'd' && type != 'f' && type != 'e'))
        throw unsupported("unsupported format spec");

    std::string text;
    if (type == 'd') {
        if (!field.integer) throw unsupported(field.name + " is a float, 'd' formats integers (use .Nf or .Ne)");
        if (precision) throw unsupported("precision not allowed with 'd'");
        text = std::to_string(static_cast<long long>(field.value));
    } else if (type == 'f' || type == 'e') {
        char buffer[512];
        std::snprintf(buffer, sizeof buffer, type == 'f' ? "%.*f" : "%.*e", precision.value_or(6), field.value);
        text = buffer;
    } else {
        if (precision) throw unsupported("a precision needs a type (f or e)");
        text = field.integer ? std::to_string(static_cast<long long>(field.value)) : python_repr(field.value);
    }
    return pad_number(std::move(text), width, zero_fill);
}

// Python's pattern.format(**fields) for ModelCheckpoint's file names. An unknown field throws
// std::invalid_argument naming it and the fields available.
inline std::string format_filepath(std::string_view pattern, const std::vector<TemplateField>& fields) {
    std::string out;
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const char c = pattern[i];
        if (c == '}') {
            if (i + 1 < pattern.size() && pattern[i + 1] == '}') {
                out += '}';
                ++i;
                continue;
            }
            throw std::invalid_argument("ModelCheckpoint: filepath \"" + std::string(pattern) +
                                        "\": single '}' (write }} for a literal brace)");
        }
        if (c != '{') {
            out += c;
            continue;
        }
        if (i + 1 < pattern.size() && pattern[i + 1] == '{') {
            out += '{';
            ++i;
            continue;
        }
        const std::size_t close = pattern.find('}', i + 1);
        if (close == std::string_view::npos)
            throw std::invalid_argument("ModelCheckpoint: filepath \"" + std::string(pattern) + "\": '{' without a closing '}'");
        const std::string_view inside = pattern.substr(i + 1, close - i - 1);
        const std::size_t colon = inside.find(':');
        const std::string_view name = inside.substr(0, colon);
        const std::string_view spec = colon == std::string_view::npos ? std::string_view{} : inside.substr(colon + 1);
        const TemplateField* found = nullptr;
        for (const auto& f : fields)
            if (f.name == name) {
                found = &f;
                break;
            }
        if (!found) {
            std::string available;
            for (const auto& f : fields) available += (available.empty() ? "" : ", ") + f.name;
            throw std::invalid_argument("ModelCheckpoint: filepath \"" + std::string(pattern) + "\" uses field {" +
                                        std::string(name) + "}, which is not available; available fields: " + available);
        }
        out += format_template_field(*found, spec, pattern);
        i = close;
    }
    return out;
}

}  // namespace detail

class ModelCheckpoint {
public:
    // Under data-parallel fit, rank 0 writes; on_every_rank(cb) makes every rank write.
    static constexpr CallbackRanks ranks = CallbackRanks::first;
    explicit ModelCheckpoint(std::string filepath, ModelCheckpointOptions options = {}, std::ostream& out = std::cout)
        : filepath_(std::move(filepath)), options_(std::move(options)), out_(&out) {
        if (filepath_.empty()) throw std::invalid_argument("ModelCheckpoint: filepath must not be empty");
        if (options_.save_best_only) {
            monitor_.emplace("ModelCheckpoint", options_.monitor, options_.mode);
            best_ = options_.initial_value_threshold.value_or(monitor_->worst());
        }
    }

    void set_model(ModelInterface& model) { model_ = &model; }
    void set_params(const FitParams& params) { params_ = params; }

    // As Keras, `best` is kept across fits; the batch counters start again.
    void on_train_begin(const Logs&) {
        batches_since_save_ = 0;
        last_batch_seen_ = 0;
        first_batch_ = true;
        current_epoch_ = params_.initial_epoch;
        warn_.reset();
        // Catch a misspelt field before the first epoch rather than after it.
        if (options_.save_freq.per_epoch() && !params_.metrics.empty()) {
            Logs example;
            for (const auto& name : params_.metrics) example.set(name, 0.0);
            (void)file_path(params_.initial_epoch, std::nullopt, example);
        }
    }
    void on_epoch_begin(std::size_t epoch) { current_epoch_ = epoch; }

    void on_train_batch_end(std::size_t batch, const Logs& logs) {
        if (should_save_on_batch(batch)) save_model(current_epoch_, batch, logs);
    }
    void on_epoch_end(std::size_t epoch, const Logs& logs) {
        if (options_.save_freq.per_epoch()) save_model(epoch, std::nullopt, logs);
    }

    // The file name for a save at (0-based) epoch and batch with these logs.
    std::string file_path(std::size_t epoch, std::optional<std::size_t> batch, const Logs& logs) const {
        std::vector<detail::TemplateField> fields;
        fields.push_back({"epoch", double(epoch + 1), true});
        if (batch) fields.push_back({"batch", double(*batch + 1), true});
        for (const auto& [name, value] : logs)
            if (name != "epoch" && !(batch && name == "batch")) fields.push_back({name, value, false});
        return detail::format_filepath(filepath_, fields);
    }

    // What a backup keeps (callbacks/backup_and_restore.hpp).
    void save_state(StateWriter& w) const {
        w.put_double("best", best_);
        w.put_int("current_epoch", std::int64_t(current_epoch_));
        w.put_int("batches_since_save", std::int64_t(batches_since_save_));
        w.put_int("last_batch_seen", std::int64_t(last_batch_seen_));
        w.put_bool("first_batch", first_batch_);
        w.put_int("saves", std::int64_t(saves_));
        w.put_text("last_saved", last_saved_);
        w.put_bool("warned", warn_.warned());
    }
    void load_state(const StateReader& r) {
        best_ = r.get_double("best");
        current_epoch_ = r.get_size("current_epoch");
        batches_since_save_ = r.get_size("batches_since_save");
        last_batch_seen_ = r.get_size("last_batch_seen");
        first_batch_ = r.get_bool("first_batch");
        saves_ = r.get_size("saves");
        last_saved_ = r.get_text("last_saved");
        warn_.set_warned(r.get_bool("warned"));
    }

    double best() const noexcept { return best_; }
    std::size_t saves() const noexcept { return saves_; }
    const std::string& last_saved() const noexcept { return last_saved_; }
    const ModelCheckpointOptions& options() const noexcept { return options_; }

private:
    // Keras's _should_save_on_batch: counts batches across epochs; a batch index not above the
    // last one seen means a new epoch began.
    bool should_save_on_batch(std::size_t batch) {
        if (options_.save_freq.per_epoch()) return false;
        const std::size_t added = (first_batch_ || batch <= last_batch_seen_) ? batch + 1 : batch - last_batch_seen_;
        first_batch_ = false;
        batches_since_save_ += added;
        last_batch_seen_ = batch;
        if (batches_since_save_ >= options_.save_freq.batches) {
            batches_since_save_ = 0;
            return true;
        }
        return false;
    }

    void save_model(std::size_t epoch, std::optional<std::size_t> batch, const Logs& logs) {
        const std::string path = file_path(epoch, batch, logs);
        if (options_.save_best_only) {
            if (!logs.contains(options_.monitor)) {
                warn_(*out_, "Can save best model only with " + options_.monitor + " available, skipping.");
                return;
            }
            const double current = logs.at(options_.monitor);
            if (!monitor_->is_improvement(current, best_)) {
                if (options_.verbose > 0)
                    *out_ << "Epoch " << epoch + 1 << ": " << options_.monitor << " did not improve from " << fixed5(best_) << '\n';
                return;
            }
            if (options_.verbose > 0)
                *out_ << "Epoch " << epoch + 1 << ": " << options_.monitor << " improved from " << fixed5(best_) << " to "
                      << fixed5(current) << ", saving model to " << path << '\n';
            best_ = current;
        } else if (options_.verbose > 0) {
            *out_ << "Epoch " << epoch + 1 << ": saving model to " << path << '\n';
        }
        write(path);
    }

    void write(const std::string& path) {
        if (!model_) throw std::logic_error("ModelCheckpoint: no model; pass the callback to fit (or call set_model first)");
        const std::filesystem::path target(path);
        if (target.has_parent_path()) {
            std::error_code ec;
            std::filesystem::create_directories(target.parent_path(), ec);
            if (ec)
                throw file_error(target.parent_path().string(), "ModelCheckpoint: cannot create the directory: " + ec.message());
        }
        if (options_.save_weights_only) model_->save_weights(target);
        else model_->save(target);
        ++saves_;
        last_saved_ = path;
    }

    static std::string fixed5(double value) {  // Python's f"{value:.5f}" ("inf" for the initial best)
        char buffer[512];
        std::snprintf(buffer, sizeof buffer, "%.5f", value);
        return buffer;
    }

    std::string filepath_;
    ModelCheckpointOptions options_;
    std::ostream* out_;
    std::optional<Monitor> monitor_{};
    ModelInterface* model_ = nullptr;
    FitParams params_{};
    double best_ = 0;
    std::size_t current_epoch_ = 0;
    std::size_t batches_since_save_ = 0;
    std::size_t last_batch_seen_ = 0;
    bool first_batch_ = true;
    std::size_t saves_ = 0;
    std::string last_saved_;
    detail::WarnOnce warn_;
};

}  // namespace ctnn::callbacks
