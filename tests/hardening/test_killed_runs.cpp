// Killed runs (issue 5.4): train_until_killed is SIGKILLed at many instants, some of them while a
// checkpoint is being written; what it left behind is checked against an uninterrupted run of the
// same program: every event file parses (at most a truncated tail, never a bad CRC) and its events
// are a prefix of the complete run's; every checkpoint loads and equals the complete run's
// checkpoint of that epoch bit for bit; every checkpoint announced as saved is there; leftover
// temporary files are recognised by io::is_temporary_file and never match the checkpoint names.
//
// Every state a kill can honestly leave is accepted, whatever the timing: no log directory yet, a
// log directory whose event file was not created yet (TensorBoard makes train/ first), a truncated
// last record, a half-written temporary. The states that lose data fail: a missing or damaged
// record of an epoch announced as saved, a missing or different checkpoint. The kills inside a save
// do not depend on timing either: in those runs the child stops itself after announcing the save,
// and the test kills it there or after letting it run for a fraction of a save.
#include <doctest/doctest.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ctnn/io/atomic_file.hpp>
#include <ctnn/tensorboard/event_reader.hpp>

#include "harden_common.hpp"
#include "harden_test_utils.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace hardening_test_killed_runs {

namespace {

namespace fs = std::filesystem;
using namespace ctnn;
using Clock = std::chrono::steady_clock;

constexpr std::size_t epochs = 4;

std::string helper_path() {
    const char* path = std::getenv("CTNN_TRAIN_UNTIL_KILLED");
    return path ? path : "";
}

// A running train_until_killed with its stdout on a pipe.
struct Child {
    pid_t pid = -1;
    int out = -1;
    std::string pending;  // bytes after the last newline
    std::vector<std::string> lines;
    bool eof = false;
};

// train_until_killed with these arguments.
Child spawn_with(const std::vector<std::string>& args) {
    int fds[2];
    REQUIRE(::pipe(fds) == 0);
    const std::string exe = helper_path();
    std::vector<const char*> argv{exe.c_str()};
    for (const auto& a : args) argv.push_back(a.c_str());
    argv.push_back(nullptr);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::dup2(fds[1], STDOUT_FILENO);
        ::close(fds[0]);
        ::close(fds[1]);
        ::execv(exe.c_str(), const_cast<char* const*>(argv.data()));
        ::_exit(127);
    }
    ::close(fds[1]);
    return Child{pid, fds[0], {}, {}, false};
}

// stop_before_saves: the child stops itself (SIGSTOP) after each "saving epoch N" line.
Child spawn(const fs::path& log_dir, const fs::path& checkpoint_dir, bool stop_before_saves = false) {
    std::vector<std::string> args{log_dir.string(), checkpoint_dir.string(), std::to_string(epochs)};
    if (stop_before_saves) args.push_back("stop-before-saves");
    return spawn_with(args);
}

// Reads lines until `until(line)` holds, the deadline passes or the child closes its stdout.
// Returns true if `until` held.
template <class Until>
bool read_lines(Child& child, Clock::time_point deadline, Until until) {
    char buffer[512];
    while (!child.eof) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
        if (left <= 0) return false;
        pollfd p{child.out, POLLIN, 0};
        const int ready = ::poll(&p, 1, static_cast<int>(left));
        if (ready < 0 && errno == EINTR) continue;
        if (ready <= 0) return false;
        const ::ssize_t n = ::read(child.out, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            child.eof = true;
            return false;
        }
        child.pending.append(buffer, static_cast<std::size_t>(n));
        bool hit = false;
        for (std::size_t nl; (nl = child.pending.find('\n')) != std::string::npos;) {
            child.lines.push_back(child.pending.substr(0, nl));
            child.pending.erase(0, nl + 1);
            if (until(child.lines.back())) hit = true;
        }
        if (hit) return true;
    }
    return false;
}

// Waits until the child has stopped itself (SIGSTOP); false if it ended instead.
bool wait_until_stopped(const Child& child) {
    int status = 0;
    pid_t done;
    while ((done = ::waitpid(child.pid, &status, WUNTRACED)) < 0 && errno == EINTR) {
    }
    return done == child.pid && WIFSTOPPED(status);
}

// Kills (if still running), reaps, and reads whatever the child wrote before it died.
int finish(Child& child, bool kill) {
    if (kill) ::kill(child.pid, SIGKILL);
    int status = 0;
    while (::waitpid(child.pid, &status, 0) < 0 && errno == EINTR) {
    }
    read_lines(child, Clock::now() + std::chrono::seconds(5), [](const std::string&) { return false; });
    ::close(child.out);
    return status;
}

// Highest N of the lines "saving epoch N" / "epoch N saved".
struct Progress {
    std::size_t saving = 0, saved = 0;
    bool done = false;
};
Progress progress_of(const std::vector<std::string>& lines) {
    Progress p;
    for (const auto& line : lines) {
        unsigned n = 0;
        if (std::sscanf(line.c_str(), "saving epoch %u", &n) == 1) p.saving = std::max<std::size_t>(p.saving, n);
        else if (std::sscanf(line.c_str(), "epoch %u saved", &n) == 1) p.saved = std::max<std::size_t>(p.saved, n);
        else if (line == "done") p.done = true;
    }
    return p;
}

// An event without its wall_time, as bytes: two runs of the same training give the same strings.
std::string describe(const tensorboard::Event& e) {
    std::string text = "step " + std::to_string(e.step) + " version " + e.file_version.value_or("-");
    for (const auto& v : e.values) {
        text += " | " + v.tag + " " + v.plugin_name;
        if (v.simple_value) text.append(reinterpret_cast<const char*>(&*v.simple_value), sizeof(float));
        if (v.tensor) text += " dtype " + std::to_string(v.tensor->dtype) + " " + v.tensor->tensor_content;
    }
    return text;
}

std::vector<fs::path> files_in(const fs::path& dir) {
    std::vector<fs::path> files;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) return files;
    for (const auto& entry : fs::directory_iterator(dir)) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    return files;
}

bool two_digits(std::string_view text) {
    return text.size() == 2 && text[0] >= '0' && text[0] <= '9' && text[1] >= '0' && text[1] <= '9';
}
// The epoch of "ckpt-NN.npz" (what ModelCheckpoint writes), else nothing. (No std::regex: GCC 12
// warns inside <regex> under -fsanitize=address -O2, and warnings are errors.)
std::optional<std::size_t> checkpoint_epoch(std::string_view name) {
    if (name.size() != 11 || !name.starts_with("ckpt-") || !name.ends_with(".npz") || !two_digits(name.substr(5, 2)))
        return std::nullopt;
    return std::size_t(name[5] - '0') * 10 + std::size_t(name[6] - '0');
}
// The epoch of a temporary ".ckpt-NN.npz.tmp.<pid>.<n>" left by a killed save, else nothing.
std::optional<std::size_t> temporary_epoch(std::string_view name) {
    if (!name.starts_with(".") || name.size() < 12 || !name.substr(12).starts_with(".tmp.")) return std::nullopt;
    return checkpoint_epoch(name.substr(1, 11));
}

std::vector<io::NamedArray> load_checkpoint(const fs::path& path) {
    auto model = hardening::make_killed_model();
    model.load_weights(path);
    return model.get_weights();
}

// What a complete run wrote: its events (described) and each epoch's weights.
struct Reference {
    std::vector<std::string> events;
    std::map<std::size_t, std::vector<io::NamedArray>> checkpoints;  // 1-based epoch -> weights
    double seconds = 0;
    double save_seconds = 0;  // one checkpoint save
};

// The events of the one event file in train_dir, described.
std::vector<std::string> read_events(const fs::path& train_dir, tensorboard::EventFile* file_out = nullptr) {
    const auto files = files_in(train_dir);
    REQUIRE(files.size() == 1);
    const tensorboard::EventFile file = tensorboard::read_event_file(files[0]);
    std::vector<std::string> described;
    for (const auto& e : file.events) described.push_back(describe(e));
    if (file_out) *file_out = file;
    return described;
}

}  // namespace

TEST_CASE("KilledRun.leaves_parseable_logs_and_exact_checkpoints") {
    REQUIRE_MESSAGE(!helper_path().empty(), "CTNN_TRAIN_UNTIL_KILLED must name the train_until_killed program");
    hardening::ScratchDir scratch("killed");

    // The uninterrupted run everything is compared with.
    Reference reference;
    {
        const auto start = Clock::now();
        Child child = spawn(scratch / "ref-logs", scratch / "ref-ckpt");
        // How long a checkpoint save takes, as seen through the pipe: the odd kills aim inside it.
        const auto give_up = start + std::chrono::seconds(120);
        REQUIRE(read_lines(child, give_up, [](const std::string& l) { return l == "saving epoch 2"; }));
        const auto save_start = Clock::now();
        REQUIRE(read_lines(child, give_up, [](const std::string& l) { return l == "epoch 2 saved"; }));
        reference.save_seconds = std::chrono::duration<double>(Clock::now() - save_start).count();
        const int status = finish(child, false);
        reference.seconds = std::chrono::duration<double>(Clock::now() - start).count();
        REQUIRE(WIFEXITED(status));
        REQUIRE(WEXITSTATUS(status) == 0);
        REQUIRE(progress_of(child.lines).done);
        tensorboard::EventFile file;
        reference.events = read_events(scratch / "ref-logs" / "train", &file);
        REQUIRE(file.status == io::TFRecordStatus::clean_end);
        REQUIRE(reference.events.size() == 1 + epochs * hardening::events_per_epoch);  // 1: file_version
        for (std::size_t epoch = 1; epoch <= epochs; ++epoch) {
            char name[32];
            std::snprintf(name, sizeof name, "ckpt-%02zu.npz", epoch);
            reference.checkpoints[epoch] = load_checkpoint(scratch / "ref-ckpt" / name);
            if (epoch > 1) REQUIRE(!hardening::same_weights(reference.checkpoints[epoch], reference.checkpoints[epoch - 1]));
        }
        REQUIRE(files_in(scratch / "ref-ckpt").size() == epochs);
    }
    // The complete run is repeatable (what makes the comparison below meaningful).
    {
        Child child = spawn(scratch / "again-logs", scratch / "again-ckpt");
        REQUIRE(finish(child, false) == 0);
        CHECK(read_events(scratch / "again-logs" / "train") == reference.events);
        CHECK(hardening::same_weights(load_checkpoint(scratch / "again-ckpt" / "ckpt-04.npz"), reference.checkpoints[4]));
    }

    // Kills: even runs at a fraction of the reference duration (wherever that lands: between
    // batches, inside a TensorBoard write, inside a save, after the end); odd runs inside the save of
    // a chosen epoch, the child held at the start of that save (it stops itself after announcing
    // it), then killed at once or after running for a fraction of a save (aiming inside AtomicFile's
    // write/fsync/rename).
    constexpr int runs = 24;
    int inside_save = 0, temporaries_seen = 0, complete_temporaries = 0, completed = 0, checkpoints_checked = 0,
        truncated_tails = 0, logs_before_event_file = 0;
    for (int run = 0; run < runs; ++run) {
        CAPTURE(run);
        const fs::path logs = scratch / ("logs-" + std::to_string(run)), ckpts = scratch / ("ckpt-" + std::to_string(run));
        const bool aim_inside_save = run % 2 == 1;
        Child child = spawn(logs, ckpts, aim_inside_save);
        const auto start = Clock::now();
        const auto give_up = start + std::chrono::seconds(120);
        if (!aim_inside_save) {
            const double fraction = 0.05 + 0.9 * double(run / 2) / double(runs / 2);
            const auto delay = std::chrono::duration<double>(reference.seconds * fraction);
            read_lines(child, start + std::chrono::duration_cast<Clock::duration>(delay), [](const std::string&) { return false; });
        } else {
            const std::size_t target_epoch = 1 + std::size_t(run / 2) % (epochs - 1);
            for (std::size_t epoch = 1; epoch <= target_epoch; ++epoch) {
                const std::string line = "saving epoch " + std::to_string(epoch);
                REQUIRE(read_lines(child, give_up, [&](const std::string& l) { return l == line; }));
                REQUIRE(wait_until_stopped(child));
                if (epoch < target_epoch) ::kill(child.pid, SIGCONT);
            }
            // Fraction 0: killed while still stopped, before the first byte of the save.
            const double fraction = double((run / 2) % 6) / 5.0;
            if (fraction > 0) {
                ::kill(child.pid, SIGCONT);
                std::this_thread::sleep_for(std::chrono::duration<double>(reference.save_seconds * fraction));
            }
        }
        const int status = finish(child, true);
        const Progress progress = progress_of(child.lines);
        if (WIFEXITED(status)) {
            CHECK_FALSE(aim_inside_save);  // held inside a save, it cannot have finished
            CHECK(WEXITSTATUS(status) == 0);
            ++completed;
        } else {
            CHECK(WIFSIGNALED(status));
            CHECK(WTERMSIG(status) == SIGKILL);
        }
        if (progress.saving > progress.saved && !progress.done) ++inside_save;

        // Event file: readable, at most a truncated tail, and the same events as the complete run.
        // The callback creates train/ and then the file in it: a kill between the two leaves an empty
        // directory, which is honest only while no epoch was announced as saved.
        const std::vector<fs::path> event_files = files_in(logs / "train");
        CHECK(event_files.size() <= 1);
        if (event_files.empty()) {
            if (fs::exists(logs / "train")) ++logs_before_event_file;
            // Records are handed to the OS at each epoch end: a saved epoch's records must be there.
            CHECK(progress.saved == 0);
        } else {
            tensorboard::EventFile file;
            std::vector<std::string> events;
            CHECK_NOTHROW(events = read_events(logs / "train", &file));
            CHECK((file.status == io::TFRecordStatus::clean_end || file.status == io::TFRecordStatus::truncated));
            if (file.status == io::TFRecordStatus::truncated) ++truncated_tails;
            REQUIRE(events.size() <= reference.events.size());
            CHECK(std::equal(events.begin(), events.end(), reference.events.begin()));
            // Nothing of a saved epoch is lost.
            if (progress.saved > 0)
                CHECK(events.size() >= 1 + progress.saved * hardening::events_per_epoch);
        }

        // Checkpoints: exactly the reference weights; temporaries never look like checkpoints.
        std::size_t highest = 0;
        for (const fs::path& file : files_in(ckpts)) {
            const std::string name = file.filename().string();
            CAPTURE(name);
            const std::optional<std::size_t> named_epoch = checkpoint_epoch(name);
            const bool looks_like_checkpoint = named_epoch.has_value();
            if (io::is_temporary_file(file)) {
                ++temporaries_seen;
                CHECK_FALSE(looks_like_checkpoint);
                // A half-written temporary is refused with an error naming it, never a crash; a
                // complete one (killed between fsync and rename) holds that epoch's weights.
                const std::optional<std::size_t> temporary_for = temporary_epoch(name);
                REQUIRE(temporary_for.has_value());
                try {
                    const auto weights = load_checkpoint(file);
                    CHECK(hardening::same_weights(weights, reference.checkpoints[*temporary_for]));
                    ++complete_temporaries;
                } catch (const ctnn::file_error& e) {
                    CHECK(std::string(e.what()).find(file.string()) != std::string::npos);
                }
                continue;
            }
            REQUIRE(looks_like_checkpoint);
            const std::size_t epoch = *named_epoch;
            REQUIRE(reference.checkpoints.count(epoch) == 1);
            std::vector<io::NamedArray> weights;
            REQUIRE_NOTHROW(weights = load_checkpoint(file));
            CHECK(hardening::same_weights(weights, reference.checkpoints[epoch]));
            // Written only once the epoch was announced; at most the one being saved is unannounced.
            CHECK(epoch <= progress.saving);
            highest = std::max(highest, epoch);
            ++checkpoints_checked;
        }
        // Nothing announced as saved is lost.
        CHECK(highest >= progress.saved);
        for (std::size_t epoch = 1; epoch <= progress.saved; ++epoch) {
            char name[32];
            std::snprintf(name, sizeof name, "ckpt-%02zu.npz", epoch);
            CHECK(fs::exists(ckpts / name));
        }
    }
    MESSAGE("killed runs: " << runs << ", completed before the kill: " << completed << ", kills inside a checkpoint save: "
                            << inside_save << ", temporary files left: " << temporaries_seen << " (" << complete_temporaries << " complete)"
                            << ", checkpoints compared: " << checkpoints_checked << ", truncated event tails: "
                            << truncated_tails << ", log directories killed before their event file: "
                            << logs_before_event_file << " (reference run " << reference.seconds << " s, one save "
                            << reference.save_seconds * 1e3 << " ms)");
    // The odd runs killed while held (fraction 0: runs 1 and 13) are inside a save whatever the
    // timing; the others usually are. Those aimed at epochs 2 and 3 leave earlier checkpoints.
    CHECK(inside_save >= 2);
    CHECK(checkpoints_checked >= 1);
}

namespace {

std::string file_bytes(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
// Every point under dir (all files, in name order), described without wall times. File-version
// records are not points: a run killed before its first backup was in place leaves a file holding
// only that record (nothing else happens before that backup), and the restarted run starts anew.
std::vector<std::string> all_events(const fs::path& dir) {
    std::vector<std::string> described;
    for (const fs::path& f : files_in(dir)) {
        const tensorboard::EventFile file = tensorboard::read_event_file(f);
        CHECK(file.status == io::TFRecordStatus::clean_end);
        for (const auto& e : file.events)
            if (!e.values.empty()) described.push_back(describe(e));
    }
    return described;
}
struct Finished {
    std::string weights, csv;
    std::vector<std::string> train_events, validation_events, history;
};
// Runs `train_until_killed resume dir` to the end; false if it did not finish cleanly.
bool resume_to_end(const fs::path& dir, Finished& out) {
    Child child = spawn_with({"resume", dir.string()});
    const int status = finish(child, false);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || !progress_of(child.lines).done) return false;
    out.weights = file_bytes(dir / "final.npz");
    out.csv = file_bytes(dir / "log.csv");
    out.train_events = all_events(dir / "tb" / "train");
    out.validation_events = all_events(dir / "tb" / "validation");
    for (const auto& line : child.lines)
        if (line.starts_with("history ")) out.history.push_back(line);
    return true;
}

}  // namespace

// Issue 23: a run with BackupAndRestore, SIGKILLed at many moments and started again with the same
// command, ends with the uninterrupted run's bytes: final weights, History, CSV log and every
// TensorBoard point once. The child stops itself at each announced point (a batch end, inside a
// backup's write before its rename, just before a checkpoint's write, inside validation) and is
// killed there, so no kill depends on timing.
TEST_CASE("KilledRun.resumes_bit_for_bit_with_BackupAndRestore") {
    REQUIRE_MESSAGE(!helper_path().empty(), "CTNN_TRAIN_UNTIL_KILLED must name the train_until_killed program");
    hardening::ScratchDir scratch("resumed");
    Finished reference;
    REQUIRE(resume_to_end(scratch / "reference", reference));
    REQUIRE(!reference.weights.empty());
    REQUIRE(reference.history.size() >= 4);  // loss, accuracy, val_loss, val_accuracy
    REQUIRE(reference.train_events.size() > 2 * 72);  // two batch points per batch, and the epochs'
    REQUIRE(!reference.validation_events.empty());
    CHECK(!fs::exists(scratch / "reference" / "backup" / "backup.npz"));

    // Each entry: the kill points of successive runs, then one run to the end.
    const std::vector<std::vector<std::string>> scenarios = {
        {"batch:0:2"}, {"batch:1:11"}, {"batch:2:23"},          // between batches, the last one included
        {"backup:1"}, {"backup:6"}, {"backup:14"},               // inside a backup's write (1: the first, at train begin)
        {"checkpoint:0"}, {"checkpoint:2"},                      // before a checkpoint's write (after the epoch's logs)
        {"validation:1"},                                        // inside validation
        {"batch:0:7", "validation:1", "backup:3"},               // killed three times
    };
    int temporaries = 0;
    for (std::size_t i = 0; i < scenarios.size(); ++i) {
        const fs::path dir = scratch / ("run-" + std::to_string(i));
        for (const std::string& point : scenarios[i]) {
            CAPTURE(point);
            Child child = spawn_with({"resume", dir.string(), point});
            REQUIRE(wait_until_stopped(child));
            const int status = finish(child, true);
            REQUIRE(WIFSIGNALED(status));
            CHECK(WTERMSIG(status) == SIGKILL);
            for (const fs::path& f : files_in(dir / "backup")) temporaries += io::is_temporary_file(f) ? 1 : 0;
        }
        CAPTURE(i);
        Finished resumed;
        REQUIRE(resume_to_end(dir, resumed));
        CHECK(resumed.weights == reference.weights);
        CHECK(resumed.history == reference.history);
        CHECK(resumed.csv == reference.csv);
        CHECK(resumed.train_events == reference.train_events);
        CHECK(resumed.validation_events == reference.validation_events);
        CHECK(!fs::exists(dir / "backup" / "backup.npz"));
        CHECK(files_in(dir / "backup").empty());  // no temporaries left behind either
    }
    // The kills inside a backup's write left their temporary files for the next run to remove.
    CHECK(temporaries >= 3);
}

}  // namespace hardening_test_killed_runs
