// Full disk (issue 5.5): a forked child lowers RLIMIT_FSIZE (SIGXFSZ ignored, so writes past the
// limit fail with EFBIG as they would with ENOSPC) in the middle of fit. A checkpoint that cannot
// be written throws ctnn::file_error naming its path out of fit; the previous checkpoint stays
// intact; an event file that hits the limit throws ctnn::file_error naming it and keeps only whole
// records. The checks run in the child and come back as text ("" = all good).
#include <doctest/doctest.h>

#include <csignal>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <sys/resource.h>

#include <ctnn/io/atomic_file.hpp>
#include <ctnn/tensorboard/event_reader.hpp>

#include "harden_common.hpp"
#include "harden_test_utils.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace hardening_test_full_disk {

namespace {

namespace fs = std::filesystem;
using namespace ctnn;

// Lowers the soft file-size limit (the hard one stays, so it can be raised again).
bool set_file_size_limit(rlim_t bytes) {
    rlimit limit{};
    if (::getrlimit(RLIMIT_FSIZE, &limit) != 0) return false;
    limit.rlim_cur = std::min(bytes, limit.rlim_max);
    return ::setrlimit(RLIMIT_FSIZE, &limit) == 0;
}
bool restore_file_size_limit() {
    rlimit limit{};
    if (::getrlimit(RLIMIT_FSIZE, &limit) != 0) return false;
    limit.rlim_cur = limit.rlim_max;
    return ::setrlimit(RLIMIT_FSIZE, &limit) == 0;
}

// Collects failed expectations of a child as lines of text.
struct Verdict {
    std::ostringstream text;
    void expect(bool ok, const std::string& what) {
        if (!ok) text << "FAILED: " << what << '\n';
    }
    std::string str() const { return text.str(); }
};

std::vector<fs::path> temporaries_in(const fs::path& dir) {
    std::vector<fs::path> found;
    for (const auto& entry : fs::directory_iterator(dir))
        if (io::is_temporary_file(entry.path())) found.push_back(entry.path());
    return found;
}

// After the first checkpoint is written, the disk "fills up": the file-size limit drops to 64 KiB,
// below the 156 KB a checkpoint needs.
struct DiskFillsAfterFirstEpoch {
    std::vector<io::NamedArray>* first_epoch_weights;
    ModelInterface* model = nullptr;
    void set_model(ModelInterface& m) { model = &m; }
    void on_epoch_end(std::size_t epoch) {
        if (epoch != 0) return;
        *first_epoch_weights = model->get_weights();
        if (!set_file_size_limit(64 * 1024)) throw std::runtime_error("setrlimit failed");
    }
};

}  // namespace

TEST_CASE("FullDisk.checkpoint_write_fails_with_the_path_and_keeps_the_previous_checkpoint") {
    hardening::ScratchDir scratch("fulldisk-ckpt");
    const fs::path dir = scratch.path();
    const std::string verdict = hardening::run_in_child([&] {
        Verdict v;
        std::signal(SIGXFSZ, SIG_IGN);
        const hardening::ClassData data = hardening::make_class_data(hardening::killed_samples, 11);
        auto model = hardening::make_killed_model();
        std::vector<io::NamedArray> first;
        callbacks::ModelCheckpoint checkpoint((dir / hardening::checkpoint_pattern).string());
        std::optional<file_error> caught;
        try {
            model.fit(data.x, data.y, hardening::killed_fit_options(3), checkpoint, DiskFillsAfterFirstEpoch{&first});
            v.expect(false, "fit returned although the second checkpoint could not be written");
        } catch (const file_error& e) {
            caught = e;
        }
        const fs::path second = dir / "ckpt-02.npz", previous = dir / "ckpt-01.npz";
        if (caught) {
            v.expect(caught->path() == second.string(), "file_error names " + caught->path() + ", expected " + second.string());
            v.expect(std::string(caught->what()).rfind(second.string() + ": ", 0) == 0,
                     std::string("message does not start with the path: ") + caught->what());
            v.expect(std::string(caught->what()).find("File too large") != std::string::npos,
                     std::string("message does not give the system's reason (EFBIG): ") + caught->what());
        }
        v.expect(checkpoint.saves() == 1, "saves() = " + std::to_string(checkpoint.saves()) + ", expected 1");
        v.expect(!fs::exists(second), "a partial ckpt-02.npz exists");
        v.expect(temporaries_in(dir).empty(), "a temporary file was left behind by a failed save");
        v.expect(fs::exists(previous), "ckpt-01.npz is gone");

        // The previous checkpoint loads and holds epoch 1's weights.
        auto reloaded = hardening::make_killed_model();
        reloaded.load_weights(previous);
        v.expect(hardening::same_weights(reloaded.get_weights(), first), "ckpt-01.npz does not hold epoch 1's weights");

        // Overwriting it on the full disk fails too, naming it, and leaves it as it was.
        try {
            model.save_weights(previous);
            v.expect(false, "save_weights over ckpt-01.npz succeeded past the file-size limit");
        } catch (const file_error& e) {
            v.expect(e.path() == previous.string(), "overwrite error names " + e.path());
        }
        reloaded.load_weights(previous);
        v.expect(hardening::same_weights(reloaded.get_weights(), first), "a failed overwrite damaged ckpt-01.npz");
        v.expect(temporaries_in(dir).empty(), "a failed overwrite left a temporary file");

        // Once space is back, the same model saves again (the exception left it usable).
        v.expect(restore_file_size_limit(), "cannot restore the file-size limit");
        model.save_weights(second);
        reloaded.load_weights(second);
        v.expect(hardening::same_weights(reloaded.get_weights(), model.get_weights()), "save after the disk was freed differs");
        return v.str();
    });
    CHECK_MESSAGE(verdict.empty(), verdict);
}

TEST_CASE("FullDisk.event_write_fails_with_the_path_and_keeps_whole_records") {
    hardening::ScratchDir scratch("fulldisk-events");
    const fs::path log_dir = scratch.path() / "logs";
    constexpr rlim_t limit = 1024;  // room for the file_version record and a few scalars, not an epoch
    const std::string verdict = hardening::run_in_child([&] {
        Verdict v;
        std::signal(SIGXFSZ, SIG_IGN);
        const hardening::ClassData data = hardening::make_class_data(hardening::killed_samples, 11);
        auto model = hardening::make_killed_model();
        if (!set_file_size_limit(limit)) return std::string("setrlimit failed");
        std::optional<file_error> caught;
        std::size_t epochs_ended = 0;
        struct CountEpochs {
            std::size_t* n;
            void on_epoch_end() { ++*n; }
        };
        {
            callbacks::TensorBoard tensorboard({.log_dir = log_dir, .update_freq = callbacks::UpdateFreq::batch});
            try {
                model.fit(data.x, data.y, hardening::killed_fit_options(3), tensorboard, CountEpochs{&epochs_ended});
                v.expect(false, "fit returned although the event file hit the file-size limit");
            } catch (const file_error& e) {
                caught = e;
            }
        }  // the callback's destructor closes the failed writer quietly
        // The records are handed to the OS at the first epoch end: that is where the error comes from.
        v.expect(epochs_ended == 0, "epoch ends seen after the failing TensorBoard hook: " + std::to_string(epochs_ended));
        v.expect(model.iterations() == std::int64_t(hardening::killed_samples / hardening::killed_batch),
                 "training stopped after " + std::to_string(model.iterations()) + " steps, expected one epoch");
        std::vector<fs::path> files;
        for (const auto& entry : fs::directory_iterator(log_dir / "train")) files.push_back(entry.path());
        v.expect(files.size() == 1, "expected one event file, found " + std::to_string(files.size()));
        if (files.size() != 1) return v.str();
        if (caught) {
            v.expect(caught->path() == files[0].string(), "file_error names " + caught->path() + ", expected " + files[0].string());
            v.expect(std::string(caught->what()).find("File too large") != std::string::npos,
                     std::string("message does not give the system's reason: ") + caught->what());
        }
        v.expect(fs::file_size(files[0]) <= limit, "event file is larger than the limit");
        const tensorboard::EventFile file = tensorboard::read_event_file(files[0]);
        // The partial record was cut off: what is left is whole records only.
        v.expect(file.status == io::TFRecordStatus::clean_end, "event file after the failure: " + file.status_text);
        v.expect(!file.events.empty() && file.events[0].file_version == "brain.Event:2", "file_version record lost");

        // With space back, a new TensorBoard callback logs the next fit normally.
        v.expect(restore_file_size_limit(), "cannot restore the file-size limit");
        callbacks::TensorBoard again({.log_dir = scratch.path() / "logs2", .update_freq = callbacks::UpdateFreq::batch});
        model.fit(data.x, data.y, hardening::killed_fit_options(1), again);
        std::vector<fs::path> files2;
        for (const auto& entry : fs::directory_iterator(scratch.path() / "logs2" / "train")) files2.push_back(entry.path());
        if (files2.size() == 1) {
            const tensorboard::EventFile file2 = tensorboard::read_event_file(files2[0]);
            v.expect(file2.status == io::TFRecordStatus::clean_end && file2.events.size() == 1 + hardening::events_per_epoch,
                     "second run's events: " + std::to_string(file2.events.size()) + ", " + file2.status_text);
        } else {
            v.expect(false, "second run wrote " + std::to_string(files2.size()) + " event files");
        }
        return v.str();
    });
    CHECK_MESSAGE(verdict.empty(), verdict);
}

}  // namespace hardening_test_full_disk
