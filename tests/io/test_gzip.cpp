// Tests of ctnn/io/gzip.hpp: whole-file reads and bounded gzip inflation, valid and broken input.
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <vector>

#include "ctnn/io/gzip.hpp"
#include "datasets/idx_test_support.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace io_test_gzip {

using ctnn_test::Bytes;
using ctnn_test::contains;
using ctnn_test::message_of;

namespace {
// `printf 'hello, ctnn\n' | gzip -9n`: written by gzip(1), not by the zlib calls under test.
const Bytes hello_gz = {0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x03, 0xcb, 0x48, 0xcd, 0xc9, 0xc9, 0xd7,
                        0x51, 0x48, 0x2e, 0xc9, 0xcb, 0xe3, 0x02, 0x00, 0x2f, 0xe7, 0xd3, 0x60, 0x0c, 0x00, 0x00, 0x00};
const std::string hello = "hello, ctnn\n";

std::string as_text(const Bytes& bytes) { return std::string(bytes.begin(), bytes.end()); }
}  // namespace

TEST_CASE("Gzip.read_file_bytes") {
    ctnn_test::TempDir dir;
    SUBCASE("returns the exact content, across several read chunks") {
        const Bytes content = ctnn_test::pattern(200'000);
        ctnn_test::write_file(dir / "data.bin", content);
        CHECK(ctnn::io::read_file_bytes(dir / "data.bin", 1 << 20) == content);
    }
    SUBCASE("an empty file is empty") {
        ctnn_test::write_file(dir / "empty", {});
        CHECK(ctnn::io::read_file_bytes(dir / "empty", 10).empty());
    }
    SUBCASE("a missing file names the path and the reason") {
        const std::string path = (dir / "missing.bin").string();
        const std::string message = message_of([&] { ctnn::io::read_file_bytes(path, 100); });
        CHECK(contains(message, path));
        CHECK(contains(message, "cannot open"));
        CHECK(contains(message, "No such file"));
    }
    SUBCASE("a directory is refused") {
        const std::string message = message_of([&] { ctnn::io::read_file_bytes(dir.path(), 100); });
        CHECK(contains(message, dir.path().string()));
        CHECK(contains(message, "is a directory"));
    }
    SUBCASE("a file longer than the limit is refused") {
        ctnn_test::write_file(dir / "big", Bytes(101, 7));
        ctnn_test::write_file(dir / "exact", Bytes(100, 7));
        CHECK(ctnn::io::read_file_bytes(dir / "exact", 100).size() == 100);
        const std::string message = message_of([&] { ctnn::io::read_file_bytes(dir / "big", 100); });
        CHECK(contains(message, (dir / "big").string()));
        CHECK(contains(message, "larger than the limit of 100 bytes"));
    }
}

TEST_CASE("Gzip.inflate_gzip") {
    SUBCASE("decodes a stream written by gzip(1)") {
        CHECK(as_text(ctnn::io::inflate_gzip(hello_gz, 100, "hello.gz")) == hello);
    }
    SUBCASE("round-trips zlib's deflate output larger than one output chunk") {
        const Bytes content = ctnn_test::pattern(300'000);
        CHECK(ctnn::io::inflate_gzip(ctnn_test::gzip(content), 1 << 20, "big.gz") == content);
        const Bytes zeros(1 << 20, 0);
        CHECK(ctnn::io::inflate_gzip(ctnn_test::gzip(zeros), 1 << 20, "zeros.gz") == zeros);
    }
    SUBCASE("an empty payload inflates to nothing") {
        CHECK(ctnn::io::inflate_gzip(ctnn_test::gzip({}), 10, "empty.gz").empty());
    }
    SUBCASE("concatenated members are one stream, as gzip(1) reads them") {
        Bytes both = hello_gz;
        const Bytes second = ctnn_test::gzip({'a', 'b', 'c'});
        both.insert(both.end(), second.begin(), second.end());
        CHECK(as_text(ctnn::io::inflate_gzip(both, 100, "two.gz")) == hello + "abc");
    }
    SUBCASE("truncated streams say so and name the input") {
        const Bytes content = ctnn_test::gzip(ctnn_test::pattern(5000));
        for (std::size_t keep : {std::size_t{1}, std::size_t{5}, std::size_t{12}, content.size() / 2, content.size() - 4,
                                 content.size() - 1}) {
            CAPTURE(keep);
            const Bytes cut(content.begin(), content.begin() + static_cast<std::ptrdiff_t>(keep));
            const std::string message = message_of([&] { ctnn::io::inflate_gzip(cut, 1 << 20, "cut.gz"); });
            CHECK(contains(message, "cut.gz: "));
            CHECK(contains(message, "truncated gzip stream"));
        }
        const std::string message = message_of([&] { ctnn::io::inflate_gzip(Bytes{}, 10, "nothing.gz"); });
        CHECK(contains(message, "nothing.gz: truncated gzip stream"));
    }
    SUBCASE("corrupt streams report zlib's reason") {
        Bytes bad_method = hello_gz;
        bad_method[2] = 7;  // compression method must be 8 (deflate)
        std::string message = message_of([&] { ctnn::io::inflate_gzip(bad_method, 100, "method.gz"); });
        CHECK(contains(message, "method.gz: corrupt gzip stream: unknown compression method"));

        Bytes bad_crc = hello_gz;
        bad_crc[hello_gz.size() - 8] ^= 0xff;  // first byte of the CRC-32 trailer
        message = message_of([&] { ctnn::io::inflate_gzip(bad_crc, 100, "crc.gz"); });
        CHECK(contains(message, "crc.gz: corrupt gzip stream: incorrect data check"));

        Bytes bad_length = hello_gz;
        bad_length[hello_gz.size() - 4] ^= 0x01;  // ISIZE trailer
        message = message_of([&] { ctnn::io::inflate_gzip(bad_length, 100, "len.gz"); });
        CHECK(contains(message, "len.gz: corrupt gzip stream: incorrect length check"));

        Bytes bad_block = hello_gz;
        bad_block[10] = 0xff;  // first deflate block header: BTYPE 11 is reserved
        message = message_of([&] { ctnn::io::inflate_gzip(bad_block, 100, "block.gz"); });
        CHECK(contains(message, "block.gz: corrupt gzip stream: "));

        message = message_of([&] { ctnn::io::inflate_gzip(Bytes{'h', 'e', 'l', 'l', 'o'}, 100, "plain.txt"); });
        CHECK(contains(message, "plain.txt: corrupt gzip stream: incorrect header check"));
    }
    SUBCASE("trailing bytes that are not another member are refused") {
        Bytes padded = hello_gz;
        padded.insert(padded.end(), {0, 0, 0});
        const std::string message = message_of([&] { ctnn::io::inflate_gzip(padded, 100, "padded.gz"); });
        CHECK(contains(message, "padded.gz: 3 bytes of trailing data after the gzip stream"));
    }
    SUBCASE("output beyond max_bytes is refused; exactly max_bytes is fine") {
        CHECK(as_text(ctnn::io::inflate_gzip(hello_gz, hello.size(), "hello.gz")) == hello);
        std::string message = message_of([&] { ctnn::io::inflate_gzip(hello_gz, hello.size() - 1, "hello.gz"); });
        CHECK(contains(message, "hello.gz: gzip stream inflates to more than the limit of 11 bytes"));
        // A 64 MiB bomb (about 64 KiB compressed) stops at the limit.
        const Bytes bomb = ctnn_test::gzip(Bytes(std::size_t{64} << 20, 0));
        message = message_of([&] { ctnn::io::inflate_gzip(bomb, 1 << 20, "bomb.gz"); });
        CHECK(contains(message, "bomb.gz: gzip stream inflates to more than the limit of 1048576 bytes"));
    }
}

TEST_CASE("Gzip.read_maybe_gzipped") {
    ctnn_test::TempDir dir;
    SUBCASE("raw and gzipped files give the same bytes, whatever their extension") {
        const Bytes content = ctnn_test::pattern(70'000);
        ctnn_test::write_file(dir / "raw.bin", content);
        ctnn_test::write_file(dir / "packed.bin", ctnn_test::gzip(content));
        CHECK(ctnn::io::read_maybe_gzipped(dir / "raw.bin", 1 << 20) == content);
        CHECK(ctnn::io::read_maybe_gzipped(dir / "packed.bin", 1 << 20) == content);
    }
    SUBCASE("errors name the file on disk") {
        Bytes cut = hello_gz;
        cut.resize(20);
        ctnn_test::write_file(dir / "cut.gz", cut);
        const std::string message = message_of([&] { ctnn::io::read_maybe_gzipped(dir / "cut.gz", 100); });
        CHECK(contains(message, (dir / "cut.gz").string() + ": truncated gzip stream"));
        ctnn_test::write_file(dir / "long.bin", Bytes(200, 1));
        const std::string too_long = message_of([&] { ctnn::io::read_maybe_gzipped(dir / "long.bin", 100); });
        CHECK(contains(too_long, (dir / "long.bin").string() + ": file is larger than the limit of 100 bytes"));
    }
}

// The control's buffer is published here, so the compiler must really allocate it.
std::uint8_t* volatile escape = nullptr;

TEST_CASE("Gzip.hostile_input_is_refused_without_large_allocation") {
    // A 1 GiB bomb would take a while to build; 64 MiB of zeros with a tiny limit shows the same:
    // output stops at the limit instead of growing to what the stream would produce.
    const Bytes bomb = ctnn_test::gzip(Bytes(std::size_t{64} << 20, 0));
    CHECK(ctnn_test::run_with_memory_limit([&] { ctnn::io::inflate_gzip(bomb, 1 << 16, "bomb.gz"); }) ==
          "file_error");
    SUBCASE("control: the harness does catch a large allocation") {
        const std::string outcome = ctnn_test::run_with_memory_limit([] {
            std::vector<std::uint8_t> big(std::size_t{512} << 20, 1);
            escape = big.data();  // else clang -O3 elides the allocation (allowed) and nothing throws
            throw ctnn::file_error("control", std::to_string(big[12345]));
        });
        CHECK(outcome != "file_error");
    }
}

}  // namespace io_test_gzip
