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

}  // namespace

int main(int argc, char** argv) try {
    using namespace ctnn;
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
