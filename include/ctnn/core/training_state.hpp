// ctnn/core/training_state.hpp — the training state as one value: named arrays of a few dtypes,
// stored as ONE .npz (numpy.load reads it) written atomically, and the StateWriter / StateReader
// through which the model, the fit loop and every stateful callback put in and take out their part.
//
// Why typed arrays and not float32 weights only: the random streams are 64-bit counters, the
// iteration count and epoch are integers, and History and the callbacks' best values are doubles;
// none of them survives a float32 round trip, and a bit-exact resume needs every bit.
//
// Array names (see README "Resuming a killed run" for the full list): weights under their Keras
// names as in save_weights ("dense/kernel"), then "meta/...", "optimizer/...", "rng/...", "fit/...",
// "history/..." and "callbacks/<k>/..." (k: the callback's position among fit's callbacks).
// Text is stored as uint8 arrays: bytes(a).decode() in Python.
#pragma once

#include <bit>
#include <cstdlib>
#include <typeinfo>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <cxxabi.h>

#include "ctnn/core/error.hpp"
#include "ctnn/core/named_array.hpp"
#include "ctnn/io/atomic_file.hpp"
#include "ctnn/io/npy.hpp"
#include "ctnn/io/npz.hpp"
#include "ctnn/io/zip.hpp"

namespace ctnn {

static_assert(std::endian::native == std::endian::little, "training-state files store little-endian bytes as they are in memory");

// One array of a state file: numpy dtype string, shape, raw little-endian C-order bytes.
struct StateArray {
    std::string name;
    std::string descr;  // "<f4", "<f8", "<i8", "<u8" or "|u1"
    std::vector<std::size_t> shape;
    std::vector<std::uint8_t> data;
};

// The format version in meta/format; a reader refuses any other.
inline constexpr std::string_view training_state_format = "ctnn training state 1";

// A parsed state file: its arrays and the file name every error message begins with.
struct StateFile {
    std::string source;
    std::vector<StateArray> arrays;

    const StateArray* find(std::string_view name) const noexcept {
        for (const StateArray& a : arrays)
            if (a.name == name) return &a;
        return nullptr;
    }
};

// Collects arrays under a prefix ("callbacks/3/"); scoped() gives a writer for a sub-prefix that
// adds to the same file.
class StateWriter {
public:
    explicit StateWriter(std::vector<StateArray>& out, std::string prefix = "") : out_(&out), prefix_(std::move(prefix)) {}

    StateWriter scoped(std::string_view name) const { return StateWriter(*out_, prefix_ + std::string(name) + "/"); }
    const std::string& prefix() const noexcept { return prefix_; }

    void put_int(std::string_view key, std::int64_t v) { put(key, "<i8", {}, &v, 8); }
    void put_uint64(std::string_view key, std::uint64_t v) { put(key, "<u8", {}, &v, 8); }
    void put_double(std::string_view key, double v) { put(key, "<f8", {}, &v, 8); }
    void put_bool(std::string_view key, bool v) { put_int(key, v ? 1 : 0); }
    void put_doubles(std::string_view key, std::span<const double> v) { put(key, "<f8", {v.size()}, v.data(), 8 * v.size()); }
    void put_ints(std::string_view key, std::span<const std::int64_t> v) { put(key, "<i8", {v.size()}, v.data(), 8 * v.size()); }
    void put_floats(std::string_view key, std::vector<std::size_t> shape, std::span<const float> v) {
        put(key, "<f4", std::move(shape), v.data(), 4 * v.size());
    }
    void put_text(std::string_view key, std::string_view text) { put(key, "|u1", {text.size()}, text.data(), text.size()); }
    // A name -> value list in its order (Logs, History): "<key>/names" (text, one per line) and "<key>/values".
    template <class Pairs>
    void put_named_doubles(std::string_view key, const Pairs& pairs) {
        std::string names;
        std::vector<double> values;
        for (const auto& [name, value] : pairs) {
            names += name;
            names += '\n';
            values.push_back(value);
        }
        put_text(std::string(key) + "/names", names);
        put_doubles(std::string(key) + "/values", values);
    }

private:
    void put(std::string_view key, const char* descr, std::vector<std::size_t> shape, const void* data, std::size_t bytes) {
        StateArray a{prefix_ + std::string(key), descr, std::move(shape), std::vector<std::uint8_t>(bytes)};
        if (bytes) std::memcpy(a.data.data(), data, bytes);
        out_->push_back(std::move(a));
    }
    std::vector<StateArray>* out_;
    std::string prefix_;
};

// Reads arrays under a prefix; every failure is a ctnn::file_error naming the file and the array.
class StateReader {
public:
    explicit StateReader(const StateFile& file, std::string prefix = "") : file_(&file), prefix_(std::move(prefix)) {}

    StateReader scoped(std::string_view name) const { return StateReader(*file_, prefix_ + std::string(name) + "/"); }
    const std::string& source() const noexcept { return file_->source; }
    bool contains(std::string_view key) const noexcept { return file_->find(prefix_ + std::string(key)) != nullptr; }

    std::int64_t get_int(std::string_view key) const { return scalar<std::int64_t>(key, "<i8", "int64"); }
    std::uint64_t get_uint64(std::string_view key) const { return scalar<std::uint64_t>(key, "<u8", "uint64"); }
    double get_double(std::string_view key) const { return scalar<double>(key, "<f8", "float64"); }
    bool get_bool(std::string_view key) const { return get_int(key) != 0; }
    // A count or index: an int64 that must be >= 0.
    std::size_t get_size(std::string_view key) const {
        const std::int64_t v = get_int(key);
        if (v < 0) fail(key, "is " + std::to_string(v) + ", expected a count >= 0");
        return static_cast<std::size_t>(v);
    }
    std::vector<double> get_doubles(std::string_view key) const { return vector<double>(key, "<f8", "float64"); }
    std::vector<std::int64_t> get_ints(std::string_view key) const { return vector<std::int64_t>(key, "<i8", "int64"); }
    std::string get_text(std::string_view key) const {
        const StateArray& a = array(key, "|u1", "uint8 text");
        if (a.shape.size() != 1) fail(key, "has shape " + io::detail::shape_repr(a.shape) + ", expected a 1-D text array");
        return std::string(a.data.begin(), a.data.end());
    }
    // float32 array of exactly this shape.
    std::vector<float> get_floats(std::string_view key, const std::vector<std::size_t>& shape) const {
        const StateArray& a = array(key, "<f4", "float32");
        if (a.shape != shape)
            fail(key, "has shape " + io::detail::shape_repr(a.shape) + ", expected " + io::detail::shape_repr(shape));
        std::vector<float> v(a.data.size() / 4);
        if (!v.empty()) std::memcpy(v.data(), a.data.data(), a.data.size());
        return v;
    }
    const StateArray& get_array(std::string_view key) const {
        const StateArray* a = file_->find(prefix_ + std::string(key));
        if (a == nullptr) fail(key, "is missing");
        return *a;
    }
    template <class Pairs>
    Pairs get_named_doubles(std::string_view key) const {
        const std::string names = get_text(std::string(key) + "/names");
        const std::vector<double> values = get_doubles(std::string(key) + "/values");
        Pairs pairs;
        std::size_t start = 0, i = 0;
        for (std::size_t nl; (nl = names.find('\n', start)) != std::string::npos; start = nl + 1, ++i) {
            if (i >= values.size()) fail(std::string(key) + "/values", "has fewer values than names");
            pairs.set(names.substr(start, nl - start), values[i]);
        }
        if (start != names.size() || i != values.size()) fail(std::string(key) + "/names", "does not match its values");
        return pairs;
    }

    [[noreturn]] void fail(std::string_view key, const std::string& problem) const {
        throw file_error(file_->source, "array '" + prefix_ + std::string(key) + "' " + problem);
    }

private:
    const StateArray& array(std::string_view key, std::string_view descr, const char* type) const {
        const StateArray& a = get_array(key);
        if (a.descr != descr) fail(key, "has dtype '" + a.descr + "', expected '" + std::string(descr) + "' (" + type + ")");
        return a;
    }
    template <class T>
    T scalar(std::string_view key, std::string_view descr, const char* type) const {
        const StateArray& a = array(key, descr, type);
        if (!a.shape.empty()) fail(key, "has shape " + io::detail::shape_repr(a.shape) + ", expected a scalar ()");
        T v;
        std::memcpy(&v, a.data.data(), sizeof v);
        return v;
    }
    template <class T>
    std::vector<T> vector(std::string_view key, std::string_view descr, const char* type) const {
        const StateArray& a = array(key, descr, type);
        if (a.shape.size() != 1) fail(key, "has shape " + io::detail::shape_repr(a.shape) + ", expected 1-D");
        std::vector<T> v(a.data.size() / sizeof(T));
        if (!v.empty()) std::memcpy(v.data(), a.data.data(), a.data.size());
        return v;
    }
    const StateFile* file_;
    std::string prefix_;
};

namespace io {

// Parses a state .npz held in memory (also a plain weights .npz: its arrays come back as "<f4").
// Any malformed byte is a ctnn::file_error naming `name`; nothing is allocated beyond what the
// bytes back (zip.hpp's limits).
inline StateFile parse_state_npz(std::span<const std::uint8_t> bytes, const std::string& name) {
    const ZipReader zip(bytes, name);
    StateFile file{name, {}};
    std::set<std::string, std::less<>> seen;
    for (const ZipEntry& entry : zip.entries()) {
        if (entry.name.size() <= 4 || !entry.name.ends_with(".npy"))
            throw file_error(name, "entry " + detail::quoted_name(entry.name) + " is not an .npy array");
        std::string array_name = entry.name.substr(0, entry.name.size() - 4);
        const std::string label = "array " + detail::quoted_name(array_name) + ": ";
        if (!seen.insert(array_name).second) throw file_error(name, label + "appears twice");
        NpyRaw raw;
        try {
            raw = detail::decode_npy_raw(detail::zip_extract(bytes, entry));
        } catch (const detail::zip_error& e) {
            throw file_error(name, label + e.what());
        } catch (const detail::npy_error& e) {
            throw file_error(name, label + e.what());
        }
        file.arrays.push_back({std::move(array_name), std::move(raw.descr), std::move(raw.shape), std::move(raw.data)});
    }
    return file;
}

inline std::vector<std::uint8_t> read_whole_file(const std::filesystem::path& path);

inline StateFile load_state_npz(const std::filesystem::path& path) {
    const std::vector<std::uint8_t> bytes = read_whole_file(path);
    return parse_state_npz(bytes, path.string());
}

// A test seam for the kill tests: called with the temporary file once the whole state is written
// and fsynced, before it is renamed over the target (a process stopped here and killed leaves
// exactly what a kill inside the write leaves). Unset in normal use.
inline std::function<void(const std::filesystem::path& temporary)>& state_write_hook() {
    static std::function<void(const std::filesystem::path&)> hook;
    return hook;
}

// The arrays as one .npz (stored, not deflated: a backup is written often and read rarely),
// written to a temporary name and renamed into place.
inline void save_state_npz(const std::filesystem::path& path, const std::vector<StateArray>& arrays) {
    const std::string where = path.string();
    std::set<std::string, std::less<>> names;
    for (const StateArray& a : arrays)
        if (!names.insert(a.name).second)
            throw std::invalid_argument("save_state(" + where + "): array " + detail::quoted_name(a.name) + " appears twice");
    ZipWriter zip(where);
    std::vector<std::uint8_t> npy;
    for (const StateArray& a : arrays) {
        npy = encode_npy_header(a.shape, a.descr);
        npy.insert(npy.end(), a.data.begin(), a.data.end());
        zip.add(a.name + ".npy", npy, ZipMethod::stored);
    }
    const std::vector<std::uint8_t> archive = zip.finish();
    AtomicFile file(path);
    file.write(std::as_bytes(std::span(archive)));
    if (state_write_hook()) state_write_hook()(file.temporary_path());
    file.commit();
}

inline std::vector<std::uint8_t> read_whole_file(const std::filesystem::path& path) {
    const std::string where = path.string();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw file_error(where, std::string("cannot open: ") + std::strerror(errno));
    struct Close {
        int fd;
        ~Close() { ::close(fd); }
    } close_on_exit{fd};
    struct stat status {};
    if (::fstat(fd, &status) != 0) throw file_error(where, std::string("cannot stat: ") + std::strerror(errno));
    if (!S_ISREG(status.st_mode)) throw file_error(where, "not a regular file");
    const auto size = static_cast<std::uint64_t>(status.st_size);
    if (size > zip_max_archive_size + detail::zip_end_record_size + 0xFFFF)
        throw file_error(where, "is " + std::to_string(size) + " bytes, larger than any zip without ZIP64");
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ::ssize_t got = ::read(fd, bytes.data() + done, bytes.size() - done);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) throw file_error(where, std::string("read failed: ") + std::strerror(errno));
        if (got == 0) throw file_error(where, "file shrank while being read");
        done += static_cast<std::size_t>(got);
    }
    return bytes;
}

}  // namespace io

namespace detail {
// The C++ name of a type, as a backup records which network and callbacks it was made with.
template <class T>
std::string type_name() {
    const char* mangled = typeid(T).name();
    int status = 0;
    char* text = abi::__cxa_demangle(mangled, nullptr, nullptr, &status);
    std::string name = status == 0 && text != nullptr ? text : mangled;
    std::free(text);
    return name;
}
// Whether a callback keeps state across a backup (core/callback_policy.hpp lists the hooks).
template <class C>
constexpr bool has_save_state = requires(C& c, StateWriter& w) { c.save_state(w); };
template <class C>
constexpr bool has_load_state = requires(C& c, const StateReader& r) { c.load_state(r); };
}  // namespace detail

}  // namespace ctnn
