// ctnn/callbacks/tensorboard.hpp — TensorBoard, Keras 3's built-in callback: the same runs
// (log_dir/train, log_dir/validation), tags and steps as keras/src/callbacks/tensorboard.py writes
// and tensorboard_test.py asserts, through tensorboard::EventWriter. Not written: the model graph,
// weight images, profiles and embeddings.
//
// Durability: records are buffered (64 KiB) and handed to the OS at every epoch end, at the end of
// a stand-alone evaluate and at train end (then the files are closed). A killed process loses at
// most the records written since the last of these; TensorBoard stops quietly at a cut-off record.
// Under BackupAndRestore a backup records every event file of log_dir/train and log_dir/validation
// with its size; a restore cuts them back to those sizes, removes event files made after the
// backup and continues the backup's files, so every step is logged exactly once.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ctnn/core/callback_policy.hpp"
#include "ctnn/core/logs.hpp"
#include "ctnn/core/model_interface.hpp"
#include "ctnn/core/training_state.hpp"
#include "ctnn/tensorboard/event_writer.hpp"

namespace ctnn::callbacks {

// Keras's update_freq: "epoch" (UpdateFreq::epoch), "batch" (UpdateFreq::batch) or an int N
// (UpdateFreq::every(N): batch scalars at global batch steps N, 2N, ..., as documented and as tf-keras
// does; Keras 3's record_if tests the step it captured when training began, so it writes every batch).
class UpdateFreq {
public:
    static const UpdateFreq epoch;  // epoch scalars only (Keras's default)
    static const UpdateFreq batch;  // epoch scalars plus every batch

    static constexpr UpdateFreq every(std::size_t batches) {
        if (batches == 0)
            throw std::invalid_argument("UpdateFreq::every(batches): batches must be >= 1 (found 0); "
                                        "use UpdateFreq::epoch for epoch-level scalars only");
        return UpdateFreq(batches);
    }

    constexpr UpdateFreq() = default;  // epoch
    constexpr bool writes_batches() const noexcept { return batches_ != 0; }
    constexpr std::size_t batches() const noexcept { return batches_; }  // 0 for epoch
    friend constexpr bool operator==(UpdateFreq, UpdateFreq) = default;

private:
    explicit constexpr UpdateFreq(std::size_t batches) : batches_(batches) {}
    std::size_t batches_ = 0;
};
inline constexpr UpdateFreq UpdateFreq::epoch{};
inline constexpr UpdateFreq UpdateFreq::batch{1};

// Which batch values become train/batch_<name>: Keras's (loss/accuracy = mean over the epoch so far)
// or this batch's own (raw_loss/raw_accuracy of the batch logs, written under the same tags).
enum class BatchValues { running_mean, per_batch };

struct TensorBoardOptions {
    std::filesystem::path log_dir = "logs";
    UpdateFreq update_freq = UpdateFreq::epoch;
    std::size_t histogram_freq = 0;  // every k epochs (epoch % k == 0) one histogram per weight; 0: none
    BatchValues batch_values = BatchValues::running_mean;
    bool write_steps_per_second = false;  // train/epoch_steps_per_second (+ batch_steps_per_second)
};

// Writes, like Keras 3 (run/tag @ step):
//   train/epoch_<name>, train/epoch_learning_rate, validation/epoch_<name> (val_ stripped)  @ epoch
//   train/batch_<name>                      @ global batch (1, 2, ...; reset by each fit), if update_freq != epoch
//   validation/evaluation_<name>_vs_iterations  @ optimizer iterations, at every on_test_end
//   train/<layer>/<weight>/histogram           @ epoch, every histogram_freq epochs
// This directory should not be shared with other writers, as Keras says.
class TensorBoard {
public:
    // Under data-parallel fit, rank 0 writes; on_every_rank(cb) makes every rank write.
    static constexpr CallbackRanks ranks = CallbackRanks::first;
    explicit TensorBoard(TensorBoardOptions options = {}) : options_(std::move(options)) {
        if (options_.log_dir.empty())
            throw std::invalid_argument("TensorBoard: log_dir must name a directory, found an empty path");
    }

    const TensorBoardOptions& options() const noexcept { return options_; }
    std::filesystem::path train_dir() const { return options_.log_dir / "train"; }
    std::filesystem::path validation_dir() const { return options_.log_dir / "validation"; }
    std::int64_t global_train_batch() const noexcept { return global_train_batch_; }

    void set_model(ModelInterface& model) { model_ = &model; }

    // Opens log_dir/train, so an unwritable log dir fails before any training (ctnn::file_error naming
    // it); Keras opens it here too unless update_freq is epoch. The validation writer waits for the
    // first validation.
    void on_train_begin() {
        // A fit that ended in an exception never reached on_train_end: start new files, never reuse
        // a writer that may have failed (a full disk) or belongs to the earlier run.
        train_.reset();
        validation_.reset();
        training_ = true;
        global_train_batch_ = 0;
        batch_tags_.clear();
        batch_tags_ready_ = false;
        train_writer();
    }

    void on_epoch_begin() {
        epoch_first_batch_ = global_train_batch_;
        epoch_start_ = Clock::now();
    }

    void on_train_batch_begin() {
        ++global_train_batch_;
        if (options_.write_steps_per_second) batch_start_ = Clock::now();
    }

    // Cheap on purpose: counter test, then one add_scalar per precomputed tag (no allocation, no
    // string building once the first batch has fixed the tags).
    void on_train_batch_end(const Logs& logs) {
        if (!options_.update_freq.writes_batches()) return;
        if (global_train_batch_ % static_cast<std::int64_t>(options_.update_freq.batches()) != 0) return;
        if (!batch_tags_ready_) prepare_batch_tags(logs);
        tensorboard::EventWriter& writer = train_writer();
        if (options_.write_steps_per_second)
            writer.add_scalar("batch_steps_per_second", per_second(1, batch_start_), global_train_batch_);
        for (const auto& [key, tag] : batch_tags_)
            if (logs.contains(key)) writer.add_scalar(tag, static_cast<float>(logs.at(key)), global_train_batch_);
    }

    void on_epoch_end(std::size_t epoch, const Logs& logs) {
        const auto step = static_cast<std::int64_t>(epoch);
        tensorboard::EventWriter& train = train_writer();
        bool any_validation = false;
        for (const auto& [name, value] : logs) {
            if (name.starts_with("val_")) {
                any_validation = true;
            } else {
                train.add_scalar("epoch_" + name, static_cast<float>(value), step);
            }
        }
        if (model_ != nullptr) train.add_scalar("epoch_learning_rate", model_->learning_rate(), step);
        if (options_.write_steps_per_second)
            train.add_scalar("epoch_steps_per_second", per_second(global_train_batch_ - epoch_first_batch_, epoch_start_),
                             step);
        if (any_validation) {
            tensorboard::EventWriter& validation = validation_writer();
            for (const auto& [name, value] : logs)
                if (name.starts_with("val_"))
                    validation.add_scalar("epoch_" + name.substr(4), static_cast<float>(value), step);
        }
        if (options_.histogram_freq != 0 && epoch % options_.histogram_freq == 0) write_histograms(train, step);
        train.flush();
        if (validation_) validation_->flush();
    }

    // Keras pushes the validation writer here, so log_dir/validation appears with the first evaluation.
    void on_test_begin() { validation_writer(); }

    void on_test_end(const Logs& logs) {
        tensorboard::EventWriter& validation = validation_writer();
        if (model_ != nullptr) {
            const std::int64_t iterations = model_->iterations();
            for (const auto& [name, value] : logs)
                validation.add_scalar("evaluation_" + name + "_vs_iterations", static_cast<float>(value), iterations);
        }
        if (!training_) validation.flush();  // a stand-alone evaluate has no epoch end to flush it
    }

    void save_state(StateWriter& w) {
        if (train_) train_->flush();
        if (validation_) validation_->flush();
        w.put_int("global_train_batch", global_train_batch_);
        w.put_int("epoch_first_batch", epoch_first_batch_);
        w.put_text("train_file", train_ ? train_->path().string() : std::string());
        w.put_text("validation_file", validation_ ? validation_->path().string() : std::string());
        std::string files;
        std::vector<std::int64_t> sizes;
        for (const auto& dir : {train_dir(), validation_dir()})
            for (const auto& file : event_files(dir)) {
                files += file.string() + '\n';
                sizes.push_back(static_cast<std::int64_t>(std::filesystem::file_size(file)));
            }
        w.put_text("files", files);
        w.put_ints("sizes", sizes);
    }
    void load_state(const StateReader& r) {
        global_train_batch_ = r.get_int("global_train_batch");
        epoch_first_batch_ = r.get_int("epoch_first_batch");
        const std::string train_file = r.get_text("train_file"), validation_file = r.get_text("validation_file");
        const std::string files = r.get_text("files");
        const std::vector<std::int64_t> sizes = r.get_ints("sizes");
        std::vector<std::pair<std::filesystem::path, std::int64_t>> saved;
        for (std::size_t start = 0, nl; (nl = files.find('\n', start)) != std::string::npos; start = nl + 1) {
            if (saved.size() >= sizes.size()) r.fail("sizes", "has fewer sizes than 'files' names");
            saved.emplace_back(files.substr(start, nl - start), sizes[saved.size()]);
        }
        // The files this fit opened are new: they go with the ones a killed run made after the backup.
        train_.reset();
        validation_.reset();
        for (const auto& dir : {train_dir(), validation_dir()})
            for (const auto& file : event_files(dir)) {
                const bool known = std::any_of(saved.begin(), saved.end(), [&](const auto& s) { return s.first == file; });
                if (!known) std::filesystem::remove(file);
            }
        for (const auto& [file, size] : saved) {
            if (size < 0) r.fail("sizes", "holds a negative size");
            if (file.string() == train_file) train_.emplace(tensorboard::EventWriter::resume(file, std::uint64_t(size)));
            else if (file.string() == validation_file) validation_.emplace(tensorboard::EventWriter::resume(file, std::uint64_t(size)));
            else std::filesystem::resize_file(file, std::uint64_t(size));
        }
        batch_tags_.clear();
        batch_tags_ready_ = false;
    }

    // Flushes and closes both files (errors are thrown here, not lost); a later fit opens new files.
    void on_train_end() {
        training_ = false;
        if (train_) std::exchange(train_, std::nullopt)->close();
        if (validation_) std::exchange(validation_, std::nullopt)->close();
    }

private:
    using Clock = std::chrono::steady_clock;

    tensorboard::EventWriter& train_writer() {
        if (!train_) train_.emplace(train_dir());
        return *train_;
    }
    tensorboard::EventWriter& validation_writer() {
        if (!validation_) validation_.emplace(validation_dir());
        return *validation_;
    }

    // The batch logs keep their keys from batch to batch, so their tags are built once per fit:
    // running_mean: loss, accuracy, ... -> batch_loss, ...; per_batch: raw_loss, ... -> batch_loss, ...
    void prepare_batch_tags(const Logs& logs) {
        const bool raw = options_.batch_values == BatchValues::per_batch;
        for (const auto& [name, value] : logs) {
            if (name == "batch" || name == "size") continue;
            const bool is_raw = name.starts_with("raw_");
            if (is_raw != raw) continue;
            batch_tags_.emplace_back(name, "batch_" + name.substr(is_raw ? 4 : 0));
        }
        if (raw && batch_tags_.empty())
            throw std::invalid_argument("TensorBoard(batch_values = per_batch): the batch logs hold no raw_<name> "
                                        "values; found: " + logs.keys_joined());
        batch_tags_ready_ = true;
    }

    // One histogram per weight, tag "<layer>/<weight>/histogram" ("dense/kernel/histogram").
    void write_histograms(tensorboard::EventWriter& writer, std::int64_t step) {
        if (model_ == nullptr) return;
        for (const NamedArray& weight : model_->get_weights())
            writer.add_histogram(weight.name + "/histogram", weight.values, step);
    }

    static std::vector<std::filesystem::path> event_files(const std::filesystem::path& dir) {
        std::vector<std::filesystem::path> files;
        std::error_code ec;
        for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
            if (it->path().filename().string().starts_with("events.out.tfevents.")) files.push_back(it->path());
        std::sort(files.begin(), files.end());
        return files;
    }

    static float per_second(std::int64_t steps, Clock::time_point since) {
        const double seconds = std::chrono::duration<double>(Clock::now() - since).count();
        return seconds > 0 ? static_cast<float>(static_cast<double>(steps) / seconds) : 0.0f;
    }

    TensorBoardOptions options_;
    ModelInterface* model_ = nullptr;
    std::optional<tensorboard::EventWriter> train_, validation_;  // opened lazily, as Keras's writers
    std::vector<std::pair<std::string, std::string>> batch_tags_;  // (log key, tag)
    bool batch_tags_ready_ = false;
    bool training_ = false;
    std::int64_t global_train_batch_ = 0;  // Keras's _global_train_batch: 1 at the first batch of a fit
    std::int64_t epoch_first_batch_ = 0;
    Clock::time_point epoch_start_{}, batch_start_{};
};

}  // namespace ctnn::callbacks
