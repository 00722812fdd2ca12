// ctnn/callbacks/backup_and_restore.hpp — BackupAndRestore, Keras's callback for runs that get
// killed: it backs up the whole training state and, when the same program is started again, fit
// continues from the newest backup. Unlike Keras's, the resumed run ends with exactly the weights,
// History, CSV log and TensorBoard points of a run that was never interrupted, because the backup
// holds everything that decides the rest of the run (core/training_state.hpp): weights, optimizer
// state, learning rate, random streams, the position within the epoch, History and every stateful
// callback's state.
//
//   callbacks::BackupAndRestore backup{{.backup_dir = "run1/backup", .save_freq = "epoch"}};
//   model.fit(x, y, {.epochs = 100, .seed = 1}, backup, csv, tensorboard);
//
// on_train_begin restores backup_dir/backup.npz when it exists (a backup from another network or
// other data is refused, naming the file and what differs, and nothing is overwritten); otherwise
// it writes a first backup at once, so a run killed before its first regular backup still knows
// which log lines are its own. Backups are written at every epoch end or every save_freq batches
// (counted across epochs), once every callback's hook for that batch or epoch has returned. After
// a fit that completes (EarlyStopping included), the backup is deleted unless delete_checkpoint is
// false. Under data-parallel fit every rank restores and rank 0 writes; the backup does not depend
// on the number of ranks, so a run may resume at another rank count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

#include "ctnn/callbacks/model_checkpoint.hpp"
#include "ctnn/core/callback_policy.hpp"
#include "ctnn/core/error.hpp"
#include "ctnn/core/model_interface.hpp"
#include "ctnn/core/training_state.hpp"
#include "ctnn/io/atomic_file.hpp"

namespace ctnn::callbacks {

struct BackupAndRestoreOptions {
    std::filesystem::path backup_dir{};
    SaveFrequency save_freq = "epoch";  // "epoch" or a number of batches
    bool delete_checkpoint = true;      // remove the backup after a completed fit
};

class BackupAndRestore {
public:
    static constexpr CallbackRanks ranks = CallbackRanks::every;  // every rank restores; rank 0 writes
    static constexpr const char* file_name = "backup.npz";

    explicit BackupAndRestore(BackupAndRestoreOptions options) : options_(std::move(options)) {
        if (options_.backup_dir.empty()) throw std::invalid_argument("BackupAndRestore: backup_dir must name a directory");
    }

    std::filesystem::path backup_path() const { return options_.backup_dir / file_name; }
    bool restored() const noexcept { return restored_; }  // whether this fit resumed from a backup
    std::size_t backups() const noexcept { return backups_; }

    void set_model(ModelInterface& model) { model_ = &model; }
    void set_params(const FitParams& params) { rank_ = params.rank; }

    void on_train_begin() {
        batches_since_backup_ = 0;
        backups_ = 0;
        restored_ = false;
        const std::filesystem::path path = backup_path();
        std::error_code ec;
        if (std::filesystem::exists(path, ec)) {
            model().load(path);  // this fit continues from it once every on_train_begin has run
            restored_ = true;
        } else if (rank_ == 0) {
            std::filesystem::create_directories(options_.backup_dir, ec);
            if (ec) throw file_error(options_.backup_dir.string(), "BackupAndRestore: cannot create the directory: " + ec.message());
            backup();
        }
        if (rank_ == 0) remove_temporaries();
    }
    void on_train_batch_end() {
        if (options_.save_freq.per_epoch()) return;
        if (++batches_since_backup_ < options_.save_freq.batches) return;
        batches_since_backup_ = 0;
        backup();
    }
    void on_epoch_end() {
        if (options_.save_freq.per_epoch()) backup();
    }
    void on_train_end() {
        if (rank_ != 0 || !options_.delete_checkpoint) return;
        std::error_code ec;
        std::filesystem::remove(backup_path(), ec);
        if (ec) throw file_error(backup_path().string(), "BackupAndRestore: cannot delete the backup: " + ec.message());
        std::filesystem::remove(options_.backup_dir, ec);  // only if empty; a non-empty directory stays
    }

    void save_state(StateWriter& w) const { w.put_int("batches_since_backup", std::int64_t(batches_since_backup_)); }
    void load_state(const StateReader& r) { batches_since_backup_ = r.get_size("batches_since_backup"); }

private:
    ModelInterface& model() const {
        if (!model_) throw std::logic_error("BackupAndRestore: no model; pass the callback to fit");
        return *model_;
    }
    void backup() {
        if (rank_ != 0) return;
        model().save(backup_path());  // written after this event's hooks, by the model
        ++backups_;
    }
    // A kill inside a backup's write leaves ".backup.npz.tmp.<pid>.<n>": never read, removed here.
    void remove_temporaries() const {
        std::error_code ec;
        const std::string prefix = std::string(".") + file_name + ".tmp.";
        for (std::filesystem::directory_iterator it(options_.backup_dir, ec), end; !ec && it != end; it.increment(ec))
            if (io::is_temporary_file(it->path()) && it->path().filename().string().starts_with(prefix)) {
                std::error_code ignored;
                std::filesystem::remove(it->path(), ignored);
            }
    }

    BackupAndRestoreOptions options_;
    ModelInterface* model_ = nullptr;
    int rank_ = 0;
    std::size_t batches_since_backup_ = 0;
    std::size_t backups_ = 0;
    bool restored_ = false;
};

}  // namespace ctnn::callbacks
