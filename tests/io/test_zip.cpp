// Tests of ctnn/io/zip.hpp. Damaged and hostile archives are built byte by byte by a small
// independent writer below (so they can lie about sizes and CRCs); every one must give a
// ctnn::file_error naming the archive and the entry. Zip bombs are proved to be refused before
// allocating by running the reader in a forked child whose address space is capped.
#include <ctnn/io/zip.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <initializer_list>
#include <new>
#include <string>
#include <vector>

#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <doctest/doctest.h>

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace io_test_zip {

using ctnn::io::ZipEntry;
using ctnn::io::ZipMethod;
using ctnn::io::ZipReader;
using ctnn::io::ZipWriter;

// AddressSanitizer reserves terabytes of shadow address space, so RLIMIT_AS cannot be used under it.
#if defined(__SANITIZE_ADDRESS__)
#define CTNN_TEST_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CTNN_TEST_UNDER_ASAN 1
#endif
#endif

namespace {

using Bytes = std::vector<std::uint8_t>;

Bytes bytes_of(const std::string& text) { return {text.begin(), text.end()}; }

// One entry for the hand-rolled writer: every header field can be set to a lie.
struct RawEntry {
    std::string name;
    std::uint16_t method = 0;
    Bytes data;                       // as stored (already compressed for method 8)
    std::uint32_t crc = 0;
    std::uint32_t compressed = 0;
    std::uint32_t uncompressed = 0;
    std::uint16_t flags = 0;
};

RawEntry stored_entry(const std::string& name, const Bytes& contents) {
    const auto crc = static_cast<std::uint32_t>(::crc32(0, contents.data(), static_cast<uInt>(contents.size())));
    const auto size = static_cast<std::uint32_t>(contents.size());
    return {name, 0, contents, crc, size, size, 0};
}

void put16(Bytes& out, std::uint32_t v) {
    out.push_back(static_cast<std::uint8_t>(v));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
}
void put32(Bytes& out, std::uint32_t v) {
    put16(out, v & 0xffff);
    put16(out, v >> 16);
}

Bytes build_zip(const std::vector<RawEntry>& entries) {
    Bytes out, directory;
    for (const auto& e : entries) {
        const auto offset = static_cast<std::uint32_t>(out.size());
        put32(out, 0x04034b50);
        put16(out, 20);
        put16(out, e.flags);
        put16(out, e.method);
        put16(out, 0);
        put16(out, 0x21);
        put32(out, e.crc);
        put32(out, e.compressed);
        put32(out, e.uncompressed);
        put16(out, static_cast<std::uint32_t>(e.name.size()));
        put16(out, 0);
        out.insert(out.end(), e.name.begin(), e.name.end());
        out.insert(out.end(), e.data.begin(), e.data.end());
        put32(directory, 0x02014b50);
        put16(directory, 20);
        put16(directory, 20);
        put16(directory, e.flags);
        put16(directory, e.method);
        put16(directory, 0);
        put16(directory, 0x21);
        put32(directory, e.crc);
        put32(directory, e.compressed);
        put32(directory, e.uncompressed);
        put16(directory, static_cast<std::uint32_t>(e.name.size()));
        for (int i = 0; i < 4; ++i) put16(directory, 0);  // extra, comment, disk, internal attributes
        put32(directory, 0);
        put32(directory, offset);
        directory.insert(directory.end(), e.name.begin(), e.name.end());
    }
    const auto directory_offset = static_cast<std::uint32_t>(out.size());
    out.insert(out.end(), directory.begin(), directory.end());
    put32(out, 0x06054b50);
    put16(out, 0);
    put16(out, 0);
    put16(out, static_cast<std::uint32_t>(entries.size()));
    put16(out, static_cast<std::uint32_t>(entries.size()));
    put32(out, static_cast<std::uint32_t>(directory.size()));
    put32(out, directory_offset);
    put16(out, 0);
    return out;
}

void put64(Bytes& out, std::uint64_t v) {
    put32(out, static_cast<std::uint32_t>(v));
    put32(out, static_cast<std::uint32_t>(v >> 32));
}

// One stored entry whose sizes (and, in the central record, offset) may be 0xFFFFFFFF with the real
// values in ZIP64 extra fields, as writers do for large files (Python's zipfile for numpy among them).
Bytes build_zip64_style(const std::string& name, const Bytes& contents, bool local_ff, const Bytes& local_extra,
                        bool central_ff, const Bytes& central_extra) {
    const auto crc = static_cast<std::uint32_t>(::crc32(0, contents.data(), static_cast<uInt>(contents.size())));
    const auto size = static_cast<std::uint32_t>(contents.size());
    Bytes out;
    put32(out, 0x04034b50);
    put16(out, 45);
    put16(out, 0);
    put16(out, 0);
    put16(out, 0);
    put16(out, 0x21);
    put32(out, crc);
    put32(out, local_ff ? 0xFFFFFFFFu : size);
    put32(out, local_ff ? 0xFFFFFFFFu : size);
    put16(out, static_cast<std::uint32_t>(name.size()));
    put16(out, static_cast<std::uint32_t>(local_extra.size()));
    out.insert(out.end(), name.begin(), name.end());
    out.insert(out.end(), local_extra.begin(), local_extra.end());
    out.insert(out.end(), contents.begin(), contents.end());
    const auto directory_offset = static_cast<std::uint32_t>(out.size());
    put32(out, 0x02014b50);
    put16(out, 45);
    put16(out, 45);
    put16(out, 0);
    put16(out, 0);
    put16(out, 0);
    put16(out, 0x21);
    put32(out, crc);
    put32(out, central_ff ? 0xFFFFFFFFu : size);
    put32(out, central_ff ? 0xFFFFFFFFu : size);
    put16(out, static_cast<std::uint32_t>(name.size()));
    put16(out, static_cast<std::uint32_t>(central_extra.size()));
    for (int i = 0; i < 3; ++i) put16(out, 0);  // comment, disk, internal attributes
    put32(out, 0);
    put32(out, central_ff ? 0xFFFFFFFFu : 0u);
    out.insert(out.end(), name.begin(), name.end());
    out.insert(out.end(), central_extra.begin(), central_extra.end());
    const auto directory_size = static_cast<std::uint32_t>(out.size() - directory_offset);
    put32(out, 0x06054b50);
    put16(out, 0);
    put16(out, 0);
    put16(out, 1);
    put16(out, 1);
    put32(out, directory_size);
    put32(out, directory_offset);
    put16(out, 0);
    return out;
}

Bytes zip64_extra(std::initializer_list<std::uint64_t> values) {
    Bytes extra;
    put16(extra, 0x0001);
    put16(extra, static_cast<std::uint32_t>(8 * values.size()));
    for (std::uint64_t v : values) put64(extra, v);
    return extra;
}

// Raw deflate of `zeros` zero bytes, streamed through a 1 MiB buffer so the input never exists whole.
Bytes deflate_zeros(std::size_t zeros) {
    z_stream stream{};
    REQUIRE(deflateInit2(&stream, 9, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) == Z_OK);
    const Bytes block(1 << 20, 0);
    Bytes out, buffer(1 << 16);
    std::size_t left = zeros;
    int result = Z_OK;
    do {
        const std::size_t take = std::min(left, block.size());
        stream.next_in = const_cast<Bytef*>(block.data());
        stream.avail_in = static_cast<uInt>(take);
        left -= take;
        do {
            stream.next_out = buffer.data();
            stream.avail_out = static_cast<uInt>(buffer.size());
            result = deflate(&stream, left == 0 ? Z_FINISH : Z_NO_FLUSH);
            out.insert(out.end(), buffer.data(), buffer.data() + (buffer.size() - stream.avail_out));
        } while (stream.avail_out == 0);
    } while (left > 0 || result != Z_STREAM_END);
    deflateEnd(&stream);
    return out;
}

RawEntry deflated_entry(const std::string& name, const Bytes& compressed, std::uint32_t declared_size,
                        std::uint32_t crc = 0) {
    return {name, 8, compressed, crc, static_cast<std::uint32_t>(compressed.size()), declared_size, 0};
}

// Reads every entry; returns the file_error message ("" if none) and checks it names the archive.
std::string read_error(const Bytes& archive) {
    try {
        const ZipReader reader(archive, "test.zip");
        for (const auto& entry : reader.entries()) reader.read(entry);
    } catch (const ctnn::file_error& e) {
        const std::string message = e.what();
        CHECK(message.starts_with("test.zip: "));
        return message;
    }
    return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

enum ChildOutcome { file_error_thrown = 0, nothing_thrown = 1, bad_alloc_thrown = 2, other_thrown = 3, setup_failed = 4 };

// Runs `read_all` in a forked child whose address space may grow by only 64 MiB, and reports how
// it ended. Without ASan a reader that allocated what a bomb declares would die of bad_alloc here.
template <class Function>
ChildOutcome run_with_capped_memory(Function read_all) {
    std::fflush(nullptr);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
#ifndef CTNN_TEST_UNDER_ASAN
        long pages = 0;
        if (std::FILE* statm = std::fopen("/proc/self/statm", "r")) {
            if (std::fscanf(statm, "%ld", &pages) != 1) pages = 0;
            std::fclose(statm);
        }
        if (pages <= 0) ::_exit(setup_failed);
        const auto limit = static_cast<rlim_t>(pages) * static_cast<rlim_t>(::sysconf(_SC_PAGESIZE)) + (64u << 20);
        const rlimit cap{limit, limit};
        if (::setrlimit(RLIMIT_AS, &cap) != 0) ::_exit(setup_failed);
#endif
        try {
            read_all();
        } catch (const ctnn::file_error&) {
            ::_exit(file_error_thrown);
        } catch (const std::bad_alloc&) {
            ::_exit(bad_alloc_thrown);
        } catch (...) {
            ::_exit(other_thrown);
        }
        ::_exit(nothing_thrown);
    }
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    REQUIRE(WIFEXITED(status));
    return static_cast<ChildOutcome>(WEXITSTATUS(status));
}

}  // namespace

TEST_CASE("Zip.crc32_is_the_zip_polynomial") {
    // The standard check value of CRC-32/ISO-HDLC (the ZIP CRC) for "123456789".
    CHECK(ctnn::io::detail::zip_crc32(bytes_of("123456789")) == 0xCBF43926u);
    CHECK(ctnn::io::detail::zip_crc32({}) == 0u);
}

TEST_CASE("Zip.round_trip") {
    Bytes large(300000);
    for (std::size_t i = 0; i < large.size(); ++i) large[i] = static_cast<std::uint8_t>((i * i) % 7);
    const std::vector<std::pair<std::string, Bytes>> contents = {
        {"a.txt", bytes_of("hello")}, {"dir/sub/b.bin", large}, {"empty", {}}, {"caf\xc3\xa9", bytes_of("utf-8 name")}};

    for (ZipMethod method : {ZipMethod::stored, ZipMethod::deflated}) {
        CAPTURE(static_cast<int>(method));
        ZipWriter writer("rt.zip");
        for (const auto& [name, data] : contents) writer.add(name, data, method);
        const Bytes archive = writer.finish();
        const ZipReader reader(archive, "rt.zip");
        REQUIRE(reader.entries().size() == contents.size());
        for (std::size_t i = 0; i < contents.size(); ++i) {
            const ZipEntry& entry = reader.entries()[i];
            CHECK(entry.name == contents[i].first);
            CHECK(entry.method == method);
            CHECK(entry.uncompressed_size == contents[i].second.size());
            CHECK(reader.read(entry) == contents[i].second);
        }
        if (method == ZipMethod::deflated) CHECK(reader.entries()[1].compressed_size < large.size() / 10);
        if (method == ZipMethod::stored) CHECK(archive.size() > large.size());
    }
    SUBCASE("an empty archive is just the end record") {
        const Bytes archive = ZipWriter("empty.zip").finish();
        CHECK(archive.size() == 22);
        CHECK(ZipReader(archive, "empty.zip").entries().empty());
    }
    SUBCASE("the reader accepts the hand-rolled writer's archives (independent encoder)") {
        const Bytes archive = build_zip({stored_entry("x", bytes_of("xyz")), stored_entry("y/z", bytes_of(""))});
        const ZipReader reader(archive, "hand.zip");
        REQUIRE(reader.entries().size() == 2);
        CHECK(reader.read(reader.entries()[0]) == bytes_of("xyz"));
        CHECK(reader.read(reader.entries()[1]).empty());
    }
}

TEST_CASE("Zip.writer_refuses_bad_names_and_zip64_sizes") {
    ZipWriter writer("w.zip");
    writer.add("ok", bytes_of("1"));
    CHECK_THROWS_AS(writer.add("", bytes_of("1")), std::invalid_argument);
    CHECK_THROWS_AS(writer.add("/etc/passwd", bytes_of("1")), std::invalid_argument);
    CHECK_THROWS_AS(writer.add("a/../../b", bytes_of("1")), std::invalid_argument);
    CHECK_THROWS_AS(writer.add("..", bytes_of("1")), std::invalid_argument);
    CHECK_THROWS_AS(writer.add(std::string("a\0b", 3), bytes_of("1")), std::invalid_argument);
    CHECK_THROWS_AS(writer.add("ok", bytes_of("2")), std::invalid_argument);
    CHECK_NOTHROW(writer.add("a..b/..c", bytes_of("1")));

    // 4 GiB + 1 of address space that is never touched: the size check comes before reading.
    const std::size_t huge = (std::size_t{1} << 32) + 1;
    void* region = ::mmap(nullptr, huge, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (region != MAP_FAILED) {
        try {
            writer.add("huge", {static_cast<const std::uint8_t*>(region), huge}, ZipMethod::stored);
            FAIL("expected ctnn::file_error");
        } catch (const ctnn::file_error& e) {
            CHECK(std::string(e.what()).starts_with("w.zip: "));
            CHECK(contains(e.what(), "ZIP64"));
            CHECK(contains(e.what(), "'huge'"));
        }
        ::munmap(region, huge);
    } else {
        MESSAGE("mmap of 4 GiB failed; skipping the > 4 GiB refusal check");
    }
}

TEST_CASE("Zip.damaged_archives_are_file_errors") {
    const Bytes hello = bytes_of("hello, zip");
    ZipWriter writer("test.zip");
    writer.add("a.txt", hello, ZipMethod::stored);
    writer.add("b.txt", Bytes(1000, 'b'), ZipMethod::deflated);
    const Bytes good = writer.finish();
    REQUIRE(read_error(good).empty());

    SUBCASE("every truncation") {
        for (std::size_t length = 0; length < good.size(); ++length) {
            CAPTURE(length);
            const Bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(length));
            CHECK_FALSE(read_error(cut).empty());
        }
    }
    SUBCASE("not a zip") {
        CHECK(contains(read_error(bytes_of("this is not a zip archive at all, just some text")),
                       "no end-of-central-directory record"));
    }
    SUBCASE("flipped byte in stored data: CRC mismatch naming the entry") {
        Bytes bad = good;
        bad[30 + 5 + 2] ^= 0x01;  // local header, name "a.txt", third data byte
        const std::string message = read_error(bad);
        CHECK(contains(message, "entry 'a.txt': CRC mismatch"));
    }
    SUBCASE("every single-byte flip: file_error or identical contents, never anything else") {
        for (std::size_t at = 0; at < good.size(); ++at) {
            CAPTURE(at);
            Bytes bad = good;
            bad[at] ^= 0xff;
            try {
                const ZipReader reader(bad, "flip.zip");
                for (const auto& entry : reader.entries()) {
                    const Bytes data = reader.read(entry);
                    CHECK((data == hello || data == Bytes(1000, 'b')));
                }
            } catch (const ctnn::file_error&) {
            }
        }
    }
    SUBCASE("hand-made lies") {
        RawEntry entry = stored_entry("x.bin", hello);
        entry.crc ^= 1;
        CHECK(contains(read_error(build_zip({entry})), "entry 'x.bin': CRC mismatch (stored 0x"));

        entry = stored_entry("x.bin", hello);
        entry.uncompressed += 1;
        CHECK(contains(read_error(build_zip({entry})), "stored entry has compressed size"));

        entry = stored_entry("x.bin", hello);
        entry.compressed += 1000;  // runs past the data into the central directory
        CHECK(contains(read_error(build_zip({entry})), "runs into the central directory"));

        entry = stored_entry("x.bin", hello);
        entry.method = 12;  // bzip2
        CHECK(contains(read_error(build_zip({entry})), "compression method 12"));

        entry = stored_entry("x.bin", hello);
        entry.flags = 1;
        CHECK(contains(read_error(build_zip({entry})), "encrypted"));

        Bytes archive = build_zip({stored_entry("x.bin", hello)});
        archive[30] = 'y';  // local header now names "y.bin"
        CHECK(contains(read_error(archive), "local header names 'y.bin'"));

        archive = build_zip({stored_entry("x.bin", hello)});
        archive[archive.size() - 6] = 0xF0;  // central directory offset far beyond the file
        CHECK(contains(read_error(archive), "lies outside the archive"));
    }
    SUBCASE("overlapping entries (one compressed stream reused) are refused") {
        Bytes archive = build_zip({stored_entry("x", hello), stored_entry("y", hello)});
        // Point the second central record at the first local header (and name it "x" in both).
        const std::size_t directory = archive.size() - 22 - 2 * (46 + 1);
        const std::size_t second = directory + 46 + 1;
        archive[second + 42] = 0;
        archive[second + 46] = 'x';
        CHECK(contains(read_error(archive), "overlap"));
    }
    SUBCASE("deflate streams that end early, late, or are corrupt") {
        const Bytes contents(5000, 'z');
        const auto crc = static_cast<std::uint32_t>(::crc32(0, contents.data(), static_cast<uInt>(contents.size())));
        const Bytes compressed = ctnn::io::detail::deflate_raw(contents);
        CHECK(read_error(build_zip({deflated_entry("z", compressed, 5000, crc)})).empty());
        CHECK(contains(read_error(build_zip({deflated_entry("z", compressed, 6000, crc)})),
                       "inflates to 5000 bytes, declared 6000"));
        CHECK(contains(read_error(build_zip({deflated_entry("z", compressed, 4999, crc)})),
                       "more than the declared 4999 bytes"));
        const Bytes cut(compressed.begin(), compressed.end() - 2);
        CHECK(contains(read_error(build_zip({deflated_entry("z", cut, 5000, crc)})), "truncated"));
        Bytes trailing = compressed;
        trailing.push_back(0);
        CHECK(contains(read_error(build_zip({deflated_entry("z", trailing, 5000, crc)})), "follow the end"));
        Bytes corrupt = compressed;
        corrupt[0] = 0xff;  // block type 3 is invalid
        CHECK(contains(read_error(build_zip({deflated_entry("z", corrupt, 5000, crc)})), "corrupt deflate data"));
    }
}

TEST_CASE("Zip.zip64_extra_fields") {
    const Bytes contents = bytes_of("zip64 sizes");
    const std::uint64_t n = contents.size();
    auto read_one = [](const Bytes& archive) {
        const ZipReader reader(archive, "test.zip");
        REQUIRE(reader.entries().size() == 1);
        return reader.read(reader.entries()[0]);
    };
    SUBCASE("real sizes in the local ZIP64 field (what numpy writes)") {
        CHECK(read_one(build_zip64_style("a", contents, false, zip64_extra({n, n}), false, {})) == contents);
    }
    SUBCASE("0xFFFFFFFF sizes resolved from the local and central ZIP64 fields") {
        // Central: uncompressed, compressed, local header offset (the three fields that are 0xFFFFFFFF).
        CHECK(read_one(build_zip64_style("a", contents, true, zip64_extra({n, n}), true, zip64_extra({n, n, 0}))) ==
              contents);
        // Another extra field before the ZIP64 one is skipped.
        Bytes extra = {0x55, 0x54, 0x01, 0x00, 0x07};  // "UT" timestamp field, 1 byte
        const Bytes z64 = zip64_extra({n, n, 0});
        extra.insert(extra.end(), z64.begin(), z64.end());
        CHECK(read_one(build_zip64_style("a", contents, false, {}, true, extra)) == contents);
    }
    SUBCASE("ZIP64 fields that are missing, short or lying") {
        CHECK(contains(read_error(build_zip64_style("a", contents, false, {}, true, {})), "no ZIP64 extra field"));
        CHECK(contains(read_error(build_zip64_style("a", contents, true, {}, false, {})), "no ZIP64 extra field"));
        CHECK(contains(read_error(build_zip64_style("a", contents, false, {}, true, zip64_extra({n, n}))),
                       "ZIP64 extra field is too short"));
        CHECK(contains(read_error(build_zip64_style("a", contents, true, zip64_extra({n, 1u << 31}), true,
                                                    zip64_extra({n, 1u << 31, 0}))),
                       "runs into the central directory"));
        CHECK(contains(read_error(build_zip64_style("a", contents, true, zip64_extra({n, n + 1}), false, {})),
                       "local header disagrees"));
        Bytes overrun = zip64_extra({n, n, 0});
        overrun[2] = 200;  // declared field length beyond the extra area
        CHECK(contains(read_error(build_zip64_style("a", contents, false, {}, true, overrun)), "overruns"));
    }
    SUBCASE("an end record claiming more entries than its directory can hold") {
        Bytes archive = build_zip64_style("a", contents, false, {}, false, {});
        archive[archive.size() - 12] = 0xE8;  // 1000 entries (both counts)
        archive[archive.size() - 11] = 0x03;
        archive[archive.size() - 14] = 0xE8;
        archive[archive.size() - 13] = 0x03;
        CHECK(contains(read_error(archive), "cannot hold 1000 entries"));
    }
}

// The control's buffer is published here, so the compiler must really allocate it.
std::uint8_t* volatile escape = nullptr;

TEST_CASE("Zip.bombs_are_refused_before_allocating") {
    // 256 MiB of zeros deflate to about 250 KB; the reader must stop after the declared 1000 bytes.
    const Bytes bomb = deflate_zeros(std::size_t{256} << 20);
    const Bytes small = deflate_zeros(1000);
    const std::vector<std::pair<std::string, Bytes>> archives = {
        {"declared small, inflates to 256 MiB", build_zip({deflated_entry("bomb", bomb, 1000)})},
        {"declared 4 GiB (over the 1 GiB cap)", build_zip({deflated_entry("huge", small, 0xFFFFFFF0u)})},
        {"declared 1 GiB from a few bytes (over 1032:1)", build_zip({deflated_entry("ratio", small, 1u << 30)})},
        {"stored, declared 4 GiB", build_zip({RawEntry{"stored", 0, Bytes(16), 0, 0xFFFFFFF0u, 0xFFFFFFF0u, 0}})},
    };
    for (const auto& [what, archive] : archives) {
        CAPTURE(what);
        const std::string message = read_error(archive);
        CHECK_FALSE(message.empty());
        const ChildOutcome outcome = run_with_capped_memory([&archive = archive] {
            const ZipReader reader(archive, "bomb.zip");
            for (const auto& entry : reader.entries()) reader.read(entry);
        });
        CHECK(outcome == file_error_thrown);
    }
#ifndef CTNN_TEST_UNDER_ASAN
    // The cap is real: the same child cannot allocate what the bomb inflates to.
    CHECK(run_with_capped_memory([] {
              std::vector<std::uint8_t> big(std::size_t{256} << 20, 1);
              escape = big.data();  // else clang -O3 elides the allocation (allowed) and nothing throws
              if (big[12345] != 1) throw std::logic_error("unreachable");
          }) == bad_alloc_thrown);
#endif
}

}  // namespace io_test_zip
