// examples/backup.hpp — the training examples' --backup-dir DIR and --save-weights FILE (issue 23):
// a run killed (Ctrl-C, SIGKILL, a reboot) and started again with the same command line resumes
// from DIR/backup.npz and prints the same final `score` line, and saves the same weight bytes, as
// a run that was never interrupted. Each example lists both options in its Options ("": off).
#pragma once

#include <cstdio>
#include <optional>
#include <string>

#include <ctnn/callbacks/backup_and_restore.hpp>
#include <ctnn/core/model_interface.hpp>
#include <ctnn/core/training_state.hpp>

#include "cli.hpp"

namespace examples {

// callbacks::BackupAndRestore (a backup every epoch, deleted once fit completes) when --backup-dir
// names a directory, a callback that does nothing otherwise: passed to fit unconditionally.
class Backup {
public:
    static constexpr ctnn::CallbackRanks ranks = ctnn::CallbackRanks::every;  // every rank restores, rank 0 writes

    explicit Backup(const Options& options) {
        if (const std::string dir = options.text("backup-dir"); !dir.empty())
            backup_.emplace(ctnn::callbacks::BackupAndRestoreOptions{.backup_dir = dir});
    }

    void set_model(ctnn::ModelInterface& model) {
        if (backup_) backup_->set_model(model);
    }
    void set_params(const ctnn::FitParams& params) {
        rank_ = params.rank;
        if (backup_) backup_->set_params(params);
    }
    void on_train_begin() {
        if (!backup_) return;
        backup_->on_train_begin();
        if (backup_->restored() && rank_ == 0) std::printf("resuming from %s\n", backup_->backup_path().c_str());
    }
    void on_train_batch_end() {
        if (backup_) backup_->on_train_batch_end();
    }
    void on_epoch_end() {
        if (backup_) backup_->on_epoch_end();
    }
    void on_train_end() {
        if (backup_) backup_->on_train_end();
    }
    void save_state(ctnn::StateWriter& w) const {
        if (backup_) backup_->save_state(w);
    }
    void load_state(const ctnn::StateReader& r) {
        if (backup_) backup_->load_state(r);
    }

private:
    std::optional<ctnn::callbacks::BackupAndRestore> backup_;
    int rank_ = 0;
};

// --save-weights FILE: the trained weights as .npz (numpy.load reads them), written atomically.
template <class Model>
void save_weights(const Model& model, const Options& options) {
    if (const std::string path = options.text("save-weights"); !path.empty()) {
        model.save_weights(path);
        std::printf("saved weights to %s\n", path.c_str());
    }
}

}  // namespace examples
