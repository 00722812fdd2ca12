// tests/fuzz/fuzz_state.cpp — libFuzzer target for the training-state reader (issue 23): what
// BackupAndRestore, Model::load and ModelCheckpoint(save_weights_only = false) read back.
//
// Layers exercised: io::parse_state_npz (zip + .npy of every dtype), then Model::load (the model's
// checks of meta/*, weights, optimizer/*, rng/*, fit/*, history/*), then, for a state saved during
// fit, a fit that resumes from it through BackupAndRestore (check_fit, the shuffle replay and the
// callbacks' load_state hooks). Any input must end in a result or a ctnn::file_error (or
// std::invalid_argument); anything else (crash, sanitizer report, other exception, hang, huge
// allocation) is a finding.
//
// Inside a real archive the CRC rejects nearly every mutation, so an input that does not start
// with "PK" is read as a list of records [name length: 1 byte][name][.npy length: 2 bytes LE][.npy]
// and zipped here with correct CRCs: mutations then reach the .npy headers and the model's checks.
// The seeds in tests/fuzz/corpus/state/ are written by this file built with -DCTNN_FUZZ_WRITE_SEEDS:
//
//   g++ -std=c++20 -O1 -DCTNN_FUZZ_WRITE_SEEDS -I include $(pkg-config --cflags xtensor xsimd)
//       tests/fuzz/fuzz_state.cpp -o /tmp/state_seeds -lz    (one command line)
//   /tmp/state_seeds tests/fuzz/corpus/state
//
// CSVLogger and TensorBoard are left out on purpose: their state names files they truncate.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>
#include <span>
#include <stdexcept>
#include <string>
#include <unistd.h>
#include <vector>

#include <ctnn/ctnn.hpp>

namespace fuzz_state {

using namespace ctnn;
namespace fs = std::filesystem;

struct Net : Sequential<Dense<3, 4, Relu>, Dropout<0.5>, Dense<4, 2, Softmax>> {};

inline auto make_model() {
    auto model = compile<Net>(optimizers::Adam{.learning_rate = 0.01f}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
    model.initialize(1);
    return model;
}

constexpr std::size_t samples = 8, batch = 4, epochs = 3;

inline const std::pair<Matrix, Matrix>& data() {
    static const std::pair<Matrix, Matrix> d = [] {
        std::pair<Matrix, Matrix> xy{Matrix::from_shape({samples, 3}), Matrix::from_shape({samples, 2})};
        xy.second.fill(0.0f);
        for (std::size_t i = 0; i < samples; ++i) {
            for (std::size_t j = 0; j < 3; ++j) xy.first(i, j) = float((i * 7 + j * 3) % 5) - 2.0f;
            xy.second(i, i % 2) = 1.0f;
        }
        return xy;
    }();
    return d;
}

// A directory of its own (tmpfs when there is one: backups fsync).
inline const fs::path& work_dir() {
    static const fs::path dir = [] {
        const fs::path base = fs::exists("/dev/shm") ? fs::path("/dev/shm") : fs::temp_directory_path();
        fs::path d = base / ("ctnn-fuzz-state." + std::to_string(::getpid()));
        fs::create_directories(d / "backup");
        return d;
    }();
    return dir;
}

// Saves the state at batch 0 or at the end of epoch `epoch` (the seed writer); never in fuzzing.
struct SaveAt {
    std::size_t epoch = std::size_t(-1);
    bool at_epoch_end = false;
    fs::path path{};
    std::size_t current = 0;
    ModelInterface* model = nullptr;
    void set_model(ModelInterface& m) { model = &m; }
    void on_epoch_begin(std::size_t e) { current = e; }
    void on_train_batch_end(std::size_t b) {
        if (!at_epoch_end && current == epoch && b == 0) model->save(path);
    }
    void on_epoch_end(std::size_t e) {
        if (at_epoch_end && e == epoch) model->save(path);
    }
};

// One fit with the callbacks whose state a backup carries; BackupAndRestore restores backup/backup.npz
// when it exists. The seeds are saved by this same list, so meta/callbacks matches.
inline void fit_with_backup(const fs::path& backup_dir, SaveAt save = {}) {
    auto model = make_model();
    std::ostringstream quiet;
    callbacks::BackupAndRestore backup{{.backup_dir = backup_dir, .save_freq = 1, .delete_checkpoint = false}};
    callbacks::EarlyStopping stop({.monitor = "loss", .patience = 1, .restore_best_weights = true}, quiet);
    callbacks::ReduceLROnPlateau plateau({.monitor = "loss", .factor = 0.5, .patience = 1}, quiet);
    const auto& [x, y] = data();
    model.fit(x, y, {.epochs = epochs, .batch_size = batch, .verbose = 0, .seed = 2}, backup, stop, plateau, save);
}

// Records -> a stored zip with correct CRCs (see the header comment).
inline std::vector<std::uint8_t> zip_records(std::span<const std::uint8_t> in) {
    io::ZipWriter zip("fuzz-state.npz");
    std::size_t i = 0;
    while (i < in.size()) {
        const std::size_t name_size = in[i++];
        if (in.size() - i < name_size + 2) break;
        const std::string name(reinterpret_cast<const char*>(in.data() + i), name_size);
        i += name_size;
        const std::size_t npy_size = std::size_t(in[i]) | (std::size_t(in[i + 1]) << 8);
        i += 2;
        if (in.size() - i < npy_size) break;
        zip.add(name, in.subspan(i, npy_size), io::ZipMethod::stored);
        i += npy_size;
    }
    return zip.finish();
}

}  // namespace fuzz_state

// Each input loads a model (and sometimes fits one): ASan's per-allocation stack traces and the
// fake stacks of clang >= 15's default detect_stack_use_after_return took 60% of the time (2,500
// executions/s against 6,500). Shorter allocation stacks, and stack use-after-return off, as it was
// by default in the clang 14 the other targets were first run with. ASAN_OPTIONS still overrides.
extern "C" const char* __asan_default_options() { return "detect_stack_use_after_return=0:malloc_context_size=5:quarantine_size_mb=8"; }

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace fuzz_state;
    const std::span<const std::uint8_t> input(data, size);
    try {
        std::vector<std::uint8_t> wrapped;
        std::span<const std::uint8_t> bytes = input;
        if (size < 2 || data[0] != 'P' || data[1] != 'K') {
            wrapped = zip_records(input);
            bytes = wrapped;
        }
        const StateFile file = io::parse_state_npz(bytes, "fuzz-state.npz");
        // The parser's invariant: each array's bytes are its shape's element count times its item size.
        for (const StateArray& a : file.arrays) {
            std::size_t count = 1;
            for (std::size_t d : a.shape) count *= d;
            const std::size_t item = a.descr == "|u1" || a.descr == "|i1" || a.descr == "|b1" ? 1
                                     : a.descr.size() >= 3                                    ? std::size_t(a.descr[2] - '0')
                                                                                               : 0;
            if (item != 0 && item <= 8 && count * item != a.data.size()) __builtin_trap();
        }
        if (file.find("meta/format") == nullptr) return 0;
        const fs::path path = work_dir() / "backup" / "backup.npz";
        {
            std::ofstream out(path, std::ios::binary | std::ios::trunc);
            out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
        }
        auto model = make_model();
        model.load(path);  // checks everything against this model
        if (file.find("fit/active") != nullptr && StateReader(file).get_bool("fit/active")) fit_with_backup(work_dir() / "backup");
    } catch (const ctnn::file_error&) {
    } catch (const std::invalid_argument&) {
    }
    return 0;
}

#ifdef CTNN_FUZZ_WRITE_SEEDS
// Writes the seed corpus into argv[1]: states saved outside fit and during fit (mid-epoch and at an
// epoch end), each as a real .npz and as the record form above.
namespace fuzz_state {
inline std::vector<std::uint8_t> read(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}
inline void write(const fs::path& p, std::span<const std::uint8_t> bytes) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}
// The record form of a state file.
inline std::vector<std::uint8_t> records(const fs::path& p) {
    const std::vector<std::uint8_t> bytes = read(p);
    const io::ZipReader zip(bytes, p.string());
    std::vector<std::uint8_t> out;
    for (const io::ZipEntry& e : zip.entries()) {
        const std::vector<std::uint8_t> npy = io::detail::zip_extract(bytes, e);
        if (e.name.size() > 255 || npy.size() > 0xFFFF) throw std::runtime_error("record too large: " + e.name);
        out.push_back(std::uint8_t(e.name.size()));
        out.insert(out.end(), e.name.begin(), e.name.end());
        out.push_back(std::uint8_t(npy.size() & 0xFF));
        out.push_back(std::uint8_t(npy.size() >> 8));
        out.insert(out.end(), npy.begin(), npy.end());
    }
    return out;
}
}  // namespace fuzz_state

int main(int argc, char** argv) {
    using namespace fuzz_state;
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
        return 2;
    }
    const fs::path out = argv[1];
    fs::create_directories(out);
    const fs::path tmp = work_dir();
    const auto& [x, y] = fuzz_state::data();
    {  // Outside fit: weights, optimizer state, learning rate, rng.
        auto model = make_model();
        model.fit(x, y, {.epochs = 1, .batch_size = batch, .verbose = 0, .seed = 2});
        model.save(tmp / "idle.npz");
    }
    for (const bool at_end : {false, true})  // during fit, mid-epoch and at an epoch end
        fit_with_backup(tmp / "seed-backup",
                        SaveAt{.epoch = 1, .at_epoch_end = at_end, .path = tmp / (at_end ? "epoch-end.npz" : "mid-epoch.npz")});
    for (const char* name : {"idle", "mid-epoch", "epoch-end"}) {
        const fs::path p = tmp / (std::string(name) + ".npz");
        fs::copy_file(p, out / (std::string(name) + ".npz"), fs::copy_options::overwrite_existing);
        write(out / (std::string(name) + ".records"), records(p));
    }
    fs::remove_all(tmp);
    return 0;
}
#endif
