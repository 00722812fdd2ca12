// tests/hardening/train_until_killed.cpp — a training run for the crash test to kill with SIGKILL.
// Trains KilledNet with callbacks::TensorBoard (update_freq batch) into LOGDIR and
// callbacks::ModelCheckpoint (CKPTDIR/ckpt-{epoch:02d}.npz) every epoch, and tells its parent
// where it is, one line at a time, unbuffered:
//   "saving epoch N"   just before the checkpoint of epoch N (1-based) is written
//   "epoch N saved"    once it is in place
//   "done"             after fit returned
// With a fourth argument "stop-before-saves", it stops itself (SIGSTOP) right after each "saving
// epoch N" line, so that the parent holds it at the start of that save however busy the machine is,
// and chooses from there when the kill lands.
// Usage: train_until_killed LOGDIR CKPTDIR EPOCHS [stop-before-saves]. Run with OMP_NUM_THREADS=1
// for repeatable weights.
//
// train_until_killed resume DIR [STOP] (issue 23): trains ResumeNet with callbacks::BackupAndRestore
// (DIR/backup, every 5 batches), EarlyStopping, ReduceLROnPlateau, ModelCheckpoint (DIR/ckpt),
// CSVLogger (DIR/log.csv) and TensorBoard (DIR/tb, every batch); at the end it saves DIR/final.npz
// and prints "history <key> <hex floats...>" lines and "done". STOP names where it stops itself
// (SIGSTOP, after saying "stopped at STOP") for the parent to SIGKILL it there, whatever the timing:
//   batch:E:B       after batch B of epoch E (0-based) has been trained
//   backup:N        inside the Nth backup write: the temporary file written and fsynced, not renamed
//   checkpoint:E    at epoch E's end, just before ModelCheckpoint writes its file
//   validation:E    inside epoch E's validation, after its first batch
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <string>

#include <signal.h>
#include <unistd.h>

#include "harden_common.hpp"

namespace {

// One write(2) per line: a line the parent reads was really written before the kill.
void say(const std::string& line) {
    const std::string text = line + "\n";
    (void)!::write(STDOUT_FILENO, text.data(), text.size());
}

struct AnnounceSave {
    bool stop_after_announcing = false;
    void on_epoch_end(std::size_t epoch) {
        say("saving epoch " + std::to_string(epoch + 1));
        if (stop_after_announcing) ::raise(SIGSTOP);
    }
};
struct AnnounceSaved {
    void on_epoch_end(std::size_t epoch) { say("epoch " + std::to_string(epoch + 1) + " saved"); }
};

// Stops itself at the announced point of a "resume" run.
struct StopAt {
    std::string point;
    std::size_t epoch = 0;
    void stop_if(const std::string& here) {
        if (here != point) return;
        say("stopped at " + here);
        ::raise(SIGSTOP);
    }
    void on_epoch_begin(std::size_t e) { epoch = e; }
    void on_train_batch_end(std::size_t b) { stop_if("batch:" + std::to_string(epoch) + ":" + std::to_string(b)); }
    void on_test_batch_end(std::size_t b) {
        if (b == 0) stop_if("validation:" + std::to_string(epoch));
    }
    void on_epoch_end(std::size_t e) { stop_if("checkpoint:" + std::to_string(e)); }
};

int resume_run(const std::filesystem::path& dir, const std::string& stop) {
    using namespace ctnn;
    const hardening::ClassData data = hardening::make_class_data(hardening::killed_samples, 11);
    auto model = hardening::make_resume_model();
    std::size_t backups = 0;
    io::state_write_hook() = [&](const std::filesystem::path&) {
        StopAt{stop}.stop_if("backup:" + std::to_string(++backups));
    };
    callbacks::BackupAndRestore backup{{.backup_dir = dir / "backup", .save_freq = hardening::resume_backup_batches}};
    callbacks::EarlyStopping early({.monitor = "val_loss", .patience = 10});
    callbacks::ReduceLROnPlateau plateau({.monitor = "loss", .factor = 0.5, .patience = 1, .min_delta = 0.05});
    callbacks::ModelCheckpoint checkpoint((dir / "ckpt" / hardening::checkpoint_pattern).string(), {.save_weights_only = false});
    callbacks::CSVLogger csv(dir / "log.csv");
    callbacks::TensorBoard tensorboard({.log_dir = dir / "tb", .update_freq = callbacks::UpdateFreq::batch});
    say("start");
    // StopAt comes before ModelCheckpoint: "checkpoint:E" stops just before its write.
    const History history = model.fit(data.x, data.y, hardening::resume_fit_options(), backup, early, plateau,
                                      StopAt{stop}, checkpoint, csv, tensorboard);
    model.save_weights(dir / "final.npz");
    for (const auto& [key, values] : history.history) {
        std::string line = "history " + key;
        for (double v : values) {
            char text[64];
            std::snprintf(text, sizeof text, " %a", v);
            line += text;
        }
        say(line);
    }
    say("done");
    return 0;
}

}  // namespace

int main(int argc, char** argv) try {
    using namespace ctnn;
    if (argc >= 3 && std::string(argv[1]) == "resume") return resume_run(argv[2], argc >= 4 ? argv[3] : "");
    const bool stop_before_saves = argc == 5 && std::string(argv[4]) == "stop-before-saves";
    if (argc != 4 && !stop_before_saves) {
        std::fprintf(stderr, "usage: train_until_killed LOGDIR CKPTDIR EPOCHS [stop-before-saves]\n");
        return 2;
    }
    const std::filesystem::path log_dir = argv[1], checkpoint_dir = argv[2];
    const auto epochs = static_cast<std::size_t>(std::strtoul(argv[3], nullptr, 10));

    const hardening::ClassData data = hardening::make_class_data(hardening::killed_samples, 11);
    auto model = hardening::make_killed_model();
    callbacks::TensorBoard tensorboard({.log_dir = log_dir, .update_freq = callbacks::UpdateFreq::batch});
    callbacks::ModelCheckpoint checkpoint((checkpoint_dir / hardening::checkpoint_pattern).string());
    say("start");
    model.fit(data.x, data.y, hardening::killed_fit_options(epochs), tensorboard, AnnounceSave{stop_before_saves}, checkpoint,
              AnnounceSaved{});
    say("done");
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "train_until_killed: %s\n", e.what());
    return 1;
}
