// Tests of ctnn/io/npz.hpp: save/load round trips through real files, archives written by numpy
// itself (bytes below), errors that name the file and the array, and damaged or hostile archives
// that must always end in a ctnn::file_error. numpy's own view of our files is checked by
// tests/io/numpy/check_npz_with_numpy.py (suite 'tools').
#include <ctnn/io/npz.hpp>

#include <bit>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <new>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace io_test_npz {

namespace fs = std::filesystem;
using ctnn::io::load_npz;
using ctnn::io::NamedArray;
using ctnn::io::parse_npz;
using ctnn::io::save_npz;

// AddressSanitizer reserves terabytes of shadow address space, so RLIMIT_AS cannot be used under it.
#if defined(__SANITIZE_ADDRESS__)
#define CTNN_NPZ_TEST_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CTNN_NPZ_TEST_UNDER_ASAN 1
#endif
#endif

namespace {

using Bytes = std::vector<std::uint8_t>;

// numpy 1.24.2: numpy.savez(f, a=numpy.arange(6, dtype=numpy.float32).reshape(3, 2)) (stored,
// with the ZIP64 extra field Python's zipfile puts in local headers) ...
const std::uint8_t numpy_savez[] = {
    0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x21, 0x00, 0xcc, 0xca,
    0x9c, 0xbd, 0x98, 0x00, 0x00, 0x00, 0x98, 0x00, 0x00, 0x00, 0x05, 0x00, 0x14, 0x00, 0x61, 0x2e,
    0x6e, 0x70, 0x79, 0x01, 0x00, 0x10, 0x00, 0x98, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x98,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 0x01, 0x00, 0x76,
    0x00, 0x7b, 0x27, 0x64, 0x65, 0x73, 0x63, 0x72, 0x27, 0x3a, 0x20, 0x27, 0x3c, 0x66, 0x34, 0x27,
    0x2c, 0x20, 0x27, 0x66, 0x6f, 0x72, 0x74, 0x72, 0x61, 0x6e, 0x5f, 0x6f, 0x72, 0x64, 0x65, 0x72,
    0x27, 0x3a, 0x20, 0x46, 0x61, 0x6c, 0x73, 0x65, 0x2c, 0x20, 0x27, 0x73, 0x68, 0x61, 0x70, 0x65,
    0x27, 0x3a, 0x20, 0x28, 0x33, 0x2c, 0x20, 0x32, 0x29, 0x2c, 0x20, 0x7d, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x20,
    0x20, 0x20, 0x20, 0x20, 0x20, 0x20, 0x0a, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x3f, 0x00,
    0x00, 0x00, 0x40, 0x00, 0x00, 0x40, 0x40, 0x00, 0x00, 0x80, 0x40, 0x00, 0x00, 0xa0, 0x40, 0x50,
    0x4b, 0x01, 0x02, 0x14, 0x03, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x21, 0x00, 0xcc,
    0xca, 0x9c, 0xbd, 0x98, 0x00, 0x00, 0x00, 0x98, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x61, 0x2e, 0x6e,
    0x70, 0x79, 0x50, 0x4b, 0x05, 0x06, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x33, 0x00,
// ... and the same array through numpy.savez_compressed (deflated).
    0x00, 0x00, 0xcf, 0x00, 0x00, 0x00, 0x00, 0x00,
};
const std::uint8_t numpy_savez_compressed[] = {
    0x50, 0x4b, 0x03, 0x04, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x21, 0x00, 0xcc, 0xca,
    0x9c, 0xbd, 0x55, 0x00, 0x00, 0x00, 0x98, 0x00, 0x00, 0x00, 0x05, 0x00, 0x14, 0x00, 0x61, 0x2e,
    0x6e, 0x70, 0x79, 0x01, 0x00, 0x10, 0x00, 0x98, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x55,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x9b, 0xec, 0x17, 0xea, 0x1b, 0x10, 0xc9, 0xc8, 0x50,
    0xc6, 0x50, 0xad, 0x9e, 0x92, 0x5a, 0x9c, 0x5c, 0xa4, 0x6e, 0xa5, 0xa0, 0x6e, 0x93, 0x66, 0xa2,
    0xae, 0xa3, 0xa0, 0x9e, 0x96, 0x5f, 0x54, 0x52, 0x94, 0x98, 0x17, 0x9f, 0x5f, 0x94, 0x92, 0x0a,
    0x12, 0x77, 0x4b, 0xcc, 0x29, 0x4e, 0x05, 0x8a, 0x17, 0x67, 0x24, 0x16, 0xa4, 0x02, 0xf9, 0x1a,
    0xc6, 0x3a, 0x0a, 0x46, 0x9a, 0x3a, 0x0a, 0xb5, 0x0a, 0x64, 0x03, 0x2e, 0x06, 0x30, 0x68, 0xb0,
    0x07, 0x12, 0x0e, 0x40, 0x04, 0xc4, 0x0d, 0x40, 0xbc, 0xc0, 0x01, 0x00, 0x50, 0x4b, 0x01, 0x02,
    0x14, 0x03, 0x14, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x21, 0x00, 0xcc, 0xca, 0x9c, 0xbd,
    0x55, 0x00, 0x00, 0x00, 0x98, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x80, 0x01, 0x00, 0x00, 0x00, 0x00, 0x61, 0x2e, 0x6e, 0x70, 0x79, 0x50,
    0x4b, 0x05, 0x06, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x33, 0x00, 0x00, 0x00, 0x8c,
    0x00, 0x00, 0x00, 0x00, 0x00,
};

Bytes from(const std::uint8_t* data, std::size_t size) { return {data, data + size}; }

struct ScratchDirectory {
    fs::path path;
    ScratchDirectory() {
        std::string pattern = (fs::temp_directory_path() / "ctnn_npz_XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~ScratchDirectory() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
};

Bytes read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::bit_cast<std::uint32_t>(a[i]) != std::bit_cast<std::uint32_t>(b[i])) return false;
    return true;
}

std::string parse_error(const Bytes& archive) {
    try {
        parse_npz(archive, "weights.npz");
    } catch (const ctnn::file_error& e) {
        const std::string message = e.what();
        CHECK(message.starts_with("weights.npz: "));
        return message;
    }
    FAIL("expected ctnn::file_error");
    return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

std::vector<NamedArray> sample_arrays() {
    std::vector<float> kernel(12), bias = {0.5f, -0.25f, 1e-40f};
    for (std::size_t i = 0; i < kernel.size(); ++i) kernel[i] = static_cast<float>(i) / 3.0f - 2.0f;
    return {{"dense/kernel", {4, 3}, kernel},
            {"dense/bias", {3}, bias},
            {"empty", {0}, {}},
            {"dense_1/kernel", {3, 1}, {1.0f, -0.0f, std::bit_cast<float>(0x7fc00001u)}},
            {"scalar", {}, {42.0f}}};
}

// An archive of "<name>.npy" entries with arbitrary contents, for .npy-level damage.
Bytes archive_of(const std::vector<std::pair<std::string, Bytes>>& entries) {
    ctnn::io::ZipWriter writer("custom.npz");
    for (const auto& [name, data] : entries) writer.add(name, data);
    return writer.finish();
}

// A version 1.0 .npy file with a hand-written header dict and `data_bytes` zero bytes of data.
// Assembled as a string: g++ 12 -O3 warns falsely (array-bounds) on vector inserts here.
Bytes npy_file(const std::string& dict, std::size_t data_bytes) {
    std::string header = dict;
    while ((10 + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    const std::string file = std::string("\x93NUMPY\x01\x00", 8) + static_cast<char>(header.size()) + '\0' +
                             header + std::string(data_bytes, '\0');
    return {file.begin(), file.end()};
}

Bytes npy_with_descr(const std::string& descr, std::size_t data_bytes) {
    return npy_file("{'descr': '" + descr + "', 'fortran_order': False, 'shape': (2,), }", data_bytes);
}

}  // namespace

TEST_CASE("Npz.save_load_round_trip") {
    ScratchDirectory dir;
    const fs::path path = dir.path / "weights.npz";
    const auto arrays = sample_arrays();
    save_npz(path, arrays);
    const auto loaded = load_npz(path);
    REQUIRE(loaded.size() == arrays.size());
    for (std::size_t i = 0; i < arrays.size(); ++i) {
        CAPTURE(arrays[i].name);
        CHECK(loaded[i].name == arrays[i].name);
        CHECK(loaded[i].shape == arrays[i].shape);
        CHECK(same_bits(loaded[i].values, arrays[i].values));
    }
    SUBCASE("entries are deflated '<name>.npy' files in order") {
        const Bytes bytes = read_file(path);
        const ctnn::io::ZipReader zip(bytes, path.string());
        REQUIRE(zip.entries().size() == arrays.size());
        for (std::size_t i = 0; i < arrays.size(); ++i) {
            CHECK(zip.entries()[i].name == arrays[i].name + ".npy");
            CHECK(zip.entries()[i].method == ctnn::io::ZipMethod::deflated);
        }
        CHECK(bytes[0] == 'P');  // numpy.load detects archives by "PK\x03\x04"
        CHECK(bytes[1] == 'K');
    }
    SUBCASE("saving again replaces the file and leaves no temporary file") {
        save_npz(path, {{"only", {1}, {3.0f}}});
        const auto again = load_npz(path);
        REQUIRE(again.size() == 1);
        CHECK(again[0].name == "only");
        std::size_t files = 0;
        for ([[maybe_unused]] const auto& entry : fs::directory_iterator(dir.path)) ++files;
        CHECK(files == 1);
    }
    SUBCASE("no arrays at all") {
        save_npz(path, {});
        CHECK(load_npz(path).empty());
    }
    SUBCASE("the same arrays give the same bytes (no timestamps)") {
        const fs::path other = dir.path / "again.npz";
        save_npz(other, arrays);
        CHECK(read_file(other) == read_file(path));
    }
}

TEST_CASE("Npz.reads_numpy_savez_output") {
    const std::vector<float> arange = {0, 1, 2, 3, 4, 5};
    for (const Bytes& archive : {from(numpy_savez, sizeof numpy_savez),
                                 from(numpy_savez_compressed, sizeof numpy_savez_compressed)}) {
        const auto arrays = parse_npz(archive, "numpy.npz");
        REQUIRE(arrays.size() == 1);
        CHECK(arrays[0].name == "a");
        CHECK(arrays[0].shape == std::vector<std::size_t>{3, 2});
        CHECK(arrays[0].values == arange);
    }
}

TEST_CASE("Npz.errors_name_the_file_and_the_array") {
    SUBCASE("CRC mismatch") {
        Bytes archive = from(numpy_savez, sizeof numpy_savez);
        archive[0xc5] ^= 0x40;  // inside the float data of 'a'
        CHECK(contains(parse_error(archive), "weights.npz: array 'a': CRC mismatch"));
    }
    SUBCASE("wrong dtype") {
        const Bytes archive = archive_of({{"dense_1/bias.npy", npy_with_descr("<f8", 16)}});
        CHECK(contains(parse_error(archive), "weights.npz: array 'dense_1/bias': dtype is '<f8', expected '<f4' (float32)"));
    }
    SUBCASE("declared size larger than the data") {
        const Bytes archive = archive_of({{"w.npy", npy_with_descr("<f4", 4)}});
        CHECK(contains(parse_error(archive), "array 'w': data is 4 bytes, expected 8"));
    }
    SUBCASE("not an .npy entry") {
        CHECK(contains(parse_error(archive_of({{"readme.txt", Bytes{1, 2}}})), "entry 'readme.txt' is not an .npy array"));
        CHECK(contains(parse_error(archive_of({{".npy", Bytes{1, 2}}})), "is not an .npy array"));
    }
    SUBCASE("the same array twice") {
        Bytes archive = archive_of({{"a.npy", npy_with_descr("<f4", 8)}, {"b.npy", npy_with_descr("<f4", 8)}});
        for (std::size_t i = 0; i + 5 <= archive.size(); ++i)
            if (std::string(archive.begin() + static_cast<std::ptrdiff_t>(i), archive.begin() + static_cast<std::ptrdiff_t>(i) + 5) == "b.npy") archive[i] = 'a';
        CHECK(contains(parse_error(archive), "array 'a': appears twice"));
    }
    SUBCASE("bad magic") {
        Bytes archive = from(numpy_savez, sizeof numpy_savez);
        archive[0x39] = 'X';  // the 'U' of "\x93NUMPY": caught by the CRC first
        CHECK(contains(parse_error(archive), "array 'a': CRC mismatch"));
        const Bytes not_npy = archive_of({{"a.npy", Bytes{'P', 'K', 3, 4, 0, 0, 0, 0, 0, 0, 0}}});
        CHECK(contains(parse_error(not_npy), "array 'a': not a .npy array (bad magic string)"));
    }
    SUBCASE("files") {
        ScratchDirectory dir;
        const fs::path missing = dir.path / "missing.npz";
        try {
            load_npz(missing);
            FAIL("expected ctnn::file_error");
        } catch (const ctnn::file_error& e) {
            CHECK(e.path() == missing.string());
            CHECK(contains(e.what(), "No such file"));
        }
        CHECK_THROWS_AS(load_npz(dir.path), ctnn::file_error);
        CHECK_THROWS_AS(save_npz(dir.path / "no_dir" / "w.npz", sample_arrays()), ctnn::file_error);
    }
}

TEST_CASE("Npz.save_refuses_misuse") {
    ScratchDirectory dir;
    const fs::path path = dir.path / "w.npz";
    auto refuses = [&](const std::vector<NamedArray>& arrays, const std::string& expected) {
        try {
            save_npz(path, arrays);
            FAIL("expected std::invalid_argument");
        } catch (const std::invalid_argument& e) {
            CHECK_MESSAGE(contains(e.what(), expected), e.what());
            CHECK(contains(e.what(), path.string()));
        }
        CHECK_FALSE(fs::exists(path));
    };
    refuses({{"w", {2, 3}, {1, 2, 3}}}, "array 'w' has shape (2, 3) but 3 values");
    refuses({{"w", {1}, {1}}, {"w", {1}, {2}}}, "array 'w' appears twice");
    refuses({{"", {1}, {1}}}, "empty name");
    refuses({{"../up", {1}, {1}}}, "'..'");
    refuses({{"/abs", {1}, {1}}}, "absolute");
    refuses({{"big", {std::size_t{1} << 40, std::size_t{1} << 40}, {}}}, "has shape");
}

TEST_CASE("Npz.damaged_files_are_always_file_errors") {
    ctnn::io::ZipWriter writer("w.npz");
    const auto arrays = sample_arrays();
    for (const auto& a : {arrays[0], arrays[1]}) writer.add(a.name + ".npy", ctnn::io::encode_npy(a.shape, a.values));
    const Bytes good = writer.finish();
    REQUIRE(parse_npz(good, "w.npz").size() == 2);

    SUBCASE("every truncation") {
        for (std::size_t length = 0; length < good.size(); ++length) {
            CAPTURE(length);
            const Bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(length));
            CHECK_THROWS_AS(parse_npz(cut, "cut.npz"), ctnn::file_error);
        }
    }
    SUBCASE("every single-byte flip: a file_error or the original arrays") {
        const auto original = parse_npz(good, "w.npz");
        for (std::size_t at = 0; at < good.size(); ++at) {
            CAPTURE(at);
            Bytes bad = good;
            bad[at] ^= 0x5a;
            try {
                const auto got = parse_npz(bad, "flip.npz");
                REQUIRE(got.size() == original.size());
                for (std::size_t i = 0; i < got.size(); ++i) {
                    CHECK(got[i].name == original[i].name);
                    CHECK(got[i].shape == original[i].shape);
                    CHECK(same_bits(got[i].values, original[i].values));
                }
            } catch (const ctnn::file_error&) {
            }
        }
    }
}

TEST_CASE("Npz.bomb_is_refused_before_allocating") {
    // An .npy entry whose header declares (2^28, 16) floats = 16 GiB with no data behind it, and a
    // zip entry declaring 3 GiB: both must be file_error, and (without ASan) in a child whose
    // address space can only grow by 64 MiB, so allocating first would have been bad_alloc.
    const Bytes npy = npy_file("{'descr': '<f4', 'fortran_order': False, 'shape': (268435456, 16), }", 0);
    const Bytes huge_npy = archive_of({{"huge.npy", npy}});
    Bytes huge_zip = archive_of({{"zip.npy", Bytes(64, 0)}});
    // Declare 3 GiB uncompressed in the local and central headers.
    for (std::size_t at : {std::size_t{22}, huge_zip.size() - 22 - 46 - 7 + 24}) {
        huge_zip[at] = 0;
        huge_zip[at + 1] = 0;
        huge_zip[at + 2] = 0;
        huge_zip[at + 3] = 0xC0;
    }
    CHECK(contains(parse_error(huge_npy), "array 'huge': data is 0 bytes, expected 17179869184"));
    CHECK(contains(parse_error(huge_zip), "array 'zip': declares 3221225472 bytes uncompressed"));

    for (const Bytes* archive : std::vector<const Bytes*>{&huge_npy, &huge_zip}) {
        std::fflush(nullptr);
        const pid_t child = ::fork();
        REQUIRE(child >= 0);
        if (child == 0) {
#ifndef CTNN_NPZ_TEST_UNDER_ASAN
            long pages = 0;
            if (std::FILE* statm = std::fopen("/proc/self/statm", "r")) {
                if (std::fscanf(statm, "%ld", &pages) != 1) pages = 0;
                std::fclose(statm);
            }
            const auto limit = static_cast<rlim_t>(pages) * static_cast<rlim_t>(::sysconf(_SC_PAGESIZE)) + (64u << 20);
            const rlimit cap{limit, limit};
            if (pages <= 0 || ::setrlimit(RLIMIT_AS, &cap) != 0) ::_exit(4);
#endif
            try {
                parse_npz(*archive, "bomb.npz");
            } catch (const ctnn::file_error&) {
                ::_exit(0);
            } catch (const std::bad_alloc&) {
                ::_exit(2);
            } catch (...) {
                ::_exit(3);
            }
            ::_exit(1);
        }
        int status = 0;
        REQUIRE(::waitpid(child, &status, 0) == child);
        REQUIRE(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
    }
}

}  // namespace io_test_npz
