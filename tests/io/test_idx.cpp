// Tests of ctnn/io/idx.hpp: IDX files built byte by byte here, raw and gzipped, valid and broken.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "ctnn/io/idx.hpp"
#include "datasets/idx_test_support.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace io_test_idx {

using ctnn::io::IdxArray;
using ctnn_test::Bytes;
using ctnn_test::contains;
using ctnn_test::idx_file;
using ctnn_test::message_of;
namespace idx_type = ctnn::io::idx_type;

namespace {
template <class T>
T element(const IdxArray& array, std::size_t i) {
    T value;
    std::memcpy(&value, array.data.data() + i * sizeof(T), sizeof(T));
    return value;
}

std::string parse_error(const Bytes& bytes, const std::string& name = "in.idx") {
    return message_of([&] { ctnn::io::parse_idx(bytes, name); });
}
}  // namespace

TEST_CASE("Idx.parse_idx.valid") {
    SUBCASE("unsigned bytes, 3 dimensions") {
        const Bytes data = ctnn_test::pattern(2 * 3 * 4);
        const IdxArray a = ctnn::io::parse_idx(idx_file(idx_type::unsigned_byte, {2, 3, 4}, data), "a");
        CHECK(a.type_code == idx_type::unsigned_byte);
        CHECK(a.dims == std::vector<std::size_t>{2, 3, 4});
        CHECK(a.element_size() == 1);
        CHECK(a.element_count() == 24);
        CHECK(a.data == data);
    }
    SUBCASE("dimensions are big-endian over all four bytes") {
        const IdxArray a = ctnn::io::parse_idx(idx_file(idx_type::unsigned_byte, {0x01020304, 0}, {}), "a");
        CHECK(a.dims == std::vector<std::size_t>{16909060, 0});
        CHECK(a.data.empty());
        const IdxArray b = ctnn::io::parse_idx(idx_file(idx_type::unsigned_byte, {0xfffffffe, 0}, {}), "b");
        CHECK(b.dims[0] == 4294967294u);
    }
    SUBCASE("multi-byte elements are big-endian in the file, host order in data") {
        // -2 as int16, 0x01020304 as int32, 1.5f = 0x3fc00000, -0.25 = 0xbfd0000000000000.
        const IdxArray s = ctnn::io::parse_idx(idx_file(idx_type::int16, {2}, {0xff, 0xfe, 0x01, 0x00}), "s");
        CHECK(element<std::int16_t>(s, 0) == -2);
        CHECK(element<std::int16_t>(s, 1) == 256);
        const IdxArray i = ctnn::io::parse_idx(idx_file(idx_type::int32, {1}, {0x01, 0x02, 0x03, 0x04}), "i");
        CHECK(element<std::int32_t>(i, 0) == 0x01020304);
        const IdxArray f = ctnn::io::parse_idx(idx_file(idx_type::float32, {1, 1}, {0x3f, 0xc0, 0, 0}), "f");
        CHECK(element<float>(f, 0) == 1.5f);
        const IdxArray d = ctnn::io::parse_idx(idx_file(idx_type::float64, {1}, {0xbf, 0xd0, 0, 0, 0, 0, 0, 0}), "d");
        CHECK(element<double>(d, 0) == -0.25);
        const IdxArray b = ctnn::io::parse_idx(idx_file(idx_type::signed_byte, {1}, {0x80}), "b");
        CHECK(static_cast<std::int8_t>(b.data[0]) == -128);
    }
}

TEST_CASE("Idx.parse_idx.broken") {
    SUBCASE("too short for a header") {
        CHECK(contains(parse_error({}), "in.idx: truncated: an IDX header needs at least 4 bytes, file has 0"));
        CHECK(contains(parse_error({0, 0, 8}), "in.idx: truncated: an IDX header needs at least 4 bytes, file has 3"));
    }
    SUBCASE("wrong magic") {
        const std::string message = parse_error({0x1f, 0x8b, 0x08, 0x01, 0, 0, 0, 1, 7});
        CHECK(contains(message, "in.idx: not an IDX file: bad magic 0x1f 0x8b 0x08 0x01"));
        CHECK(contains(parse_error({0, 1, 8, 1, 0, 0, 0, 0}), "bad magic"));
    }
    SUBCASE("unknown element type") {
        CHECK(contains(parse_error(idx_file(0x0a, {1}, {1})), "in.idx: unsupported IDX element type 0x0a"));
    }
    SUBCASE("dimension count outside 1..4") {
        CHECK(contains(parse_error({0, 0, 8, 0}), "in.idx: IDX header declares 0 dimensions, expected 1 to 4"));
        CHECK(contains(parse_error(idx_file(8, {1, 1, 1, 1, 1}, {1})),
                       "in.idx: IDX header declares 5 dimensions, expected 1 to 4"));
    }
    SUBCASE("header cut inside the dimensions") {
        Bytes bytes = idx_file(8, {60000, 28, 28}, {});
        bytes.resize(13);
        CHECK(contains(parse_error(bytes), "in.idx: truncated: the IDX header of 3 dimensions needs 16 bytes, file has 13"));
    }
    SUBCASE("data shorter than declared") {
        CHECK(contains(parse_error(idx_file(8, {2, 3}, {1, 2, 3, 4, 5})),
                       "in.idx: truncated: header declares 6 bytes of data, file has 5"));
        CHECK(contains(parse_error(idx_file(idx_type::int32, {3}, Bytes(11, 0))),
                       "truncated: header declares 12 bytes of data, file has 11"));
    }
    SUBCASE("data longer than declared") {
        CHECK(contains(parse_error(idx_file(8, {2}, {1, 2, 3})),
                       "in.idx: 1 bytes of trailing garbage: header declares 2 bytes of data, file has 3"));
    }
    SUBCASE("dimensions whose product overflows") {
        const std::string message = parse_error(idx_file(8, {0xffffffff, 0xffffffff, 0xffffffff, 2}, {}));
        CHECK(contains(message, "in.idx: IDX header dimensions 4294967295 x 4294967295 x 4294967295 x 2 overflow"));
        // Overflow only through the element size: 2^61 float64 elements.
        CHECK(contains(parse_error(idx_file(idx_type::float64, {0x80000000, 0x40000000}, {})), "overflow"));
    }
    SUBCASE("declared size above the limit") {
        const std::string message = parse_error(idx_file(8, {4'000'000'000u, 28, 28}, {}));
        CHECK(contains(message, "in.idx: IDX header declares 3136000000000 bytes of data"));
        CHECK(contains(message, "more than the limit of 2147483648 bytes"));
        const std::string small = message_of([] { ctnn::io::parse_idx(idx_file(8, {11}, Bytes(11, 0)), "s", 10); });
        CHECK(contains(small, "s: IDX header declares 11 bytes of data (11 unsigned byte), more than the limit of 10"));
    }
}

TEST_CASE("Idx.decode_idx.gzip") {
    const Bytes data = ctnn_test::pattern(5 * 28 * 28);
    const Bytes raw = idx_file(8, {5, 28, 28}, data);
    SUBCASE("a gzipped file decodes like the raw one") {
        for (const Bytes& bytes : {raw, ctnn_test::gzip(raw), ctnn_test::gzip(raw, Z_NO_COMPRESSION)}) {
            const IdxArray a = ctnn::io::decode_idx(bytes, "x");
            CHECK(a.dims == std::vector<std::size_t>{5, 28, 28});
            CHECK(a.data == data);
        }
    }
    SUBCASE("the most compressible file (zeros at level 9) is not mistaken for a hostile header") {
        const IdxArray a = ctnn::io::decode_idx(ctnn_test::gzip(idx_file(8, {8u << 20}, Bytes(8u << 20, 0))), "z");
        CHECK(a.data.size() == std::size_t{8} << 20);
    }
    SUBCASE("a header the compressed size cannot back is refused before inflating") {
        const Bytes hostile = ctnn_test::gzip(idx_file(8, {1'000'000, 28, 28}, Bytes(1000, 0)));
        const std::string message = message_of([&] { ctnn::io::decode_idx(hostile, "h.gz"); });
        CHECK(contains(message, "h.gz: IDX header declares 784000000 bytes of data (1000000 x 28 x 28)"));
        CHECK(contains(message, "1032:1"));
    }
    SUBCASE("inflated data shorter or longer than declared") {
        const Bytes short_gz = ctnn_test::gzip(idx_file(8, {100}, Bytes(50, 3)));
        CHECK(contains(message_of([&] { ctnn::io::decode_idx(short_gz, "s.gz"); }),
                       "s.gz: truncated: header declares 100 bytes of data, file has 50"));
        const Bytes long_gz = ctnn_test::gzip(idx_file(8, {10}, Bytes(20, 3)));
        CHECK(contains(message_of([&] { ctnn::io::decode_idx(long_gz, "l.gz"); }),
                       "l.gz: trailing garbage: header declares 10 bytes of data"));
    }
    SUBCASE("broken gzip under a valid IDX file") {
        Bytes cut = ctnn_test::gzip(raw);
        cut.resize(cut.size() - 6);
        CHECK(contains(message_of([&] { ctnn::io::decode_idx(cut, "c.gz"); }), "c.gz: truncated gzip stream"));
        Bytes corrupt = ctnn_test::gzip(raw);
        corrupt[corrupt.size() - 6] ^= 0x55;  // inside the CRC-32
        CHECK(contains(message_of([&] { ctnn::io::decode_idx(corrupt, "k.gz"); }), "k.gz: corrupt gzip stream"));
        // A gzipped non-IDX file is reported as such, not as a gzip problem.
        const Bytes text = ctnn_test::gzip({'h', 'e', 'l', 'l', 'o', '!'});
        CHECK(contains(message_of([&] { ctnn::io::decode_idx(text, "t.gz"); }), "t.gz: not an IDX file: bad magic"));
    }
}

TEST_CASE("Idx.read_idx") {
    ctnn_test::TempDir dir;
    const Bytes data = ctnn_test::pattern(3 * 4);
    ctnn_test::write_file(dir / "a-idx2-ubyte", idx_file(8, {3, 4}, data));
    ctnn_test::write_file(dir / "a-idx2-ubyte.gz", ctnn_test::gzip(idx_file(8, {3, 4}, data)));
    SUBCASE("raw and .gz files") {
        CHECK(ctnn::io::read_idx(dir / "a-idx2-ubyte").data == data);
        const IdxArray gz = ctnn::io::read_idx(dir / "a-idx2-ubyte.gz");
        CHECK(gz.dims == std::vector<std::size_t>{3, 4});
        CHECK(gz.data == data);
    }
    SUBCASE("errors start with the path") {
        const std::string missing = (dir / "nope-idx1-ubyte").string();
        CHECK(contains(message_of([&] { ctnn::io::read_idx(missing); }), missing + ": cannot open: No such file"));
        const std::string bad = (dir / "bad").string();
        ctnn_test::write_file(bad, idx_file(8, {3, 4}, Bytes(7, 0)));
        CHECK(contains(message_of([&] { ctnn::io::read_idx(bad); }),
                       bad + ": truncated: header declares 12 bytes of data, file has 7"));
        Bytes gz = ctnn_test::gzip(idx_file(8, {3, 4}, data));
        gz.resize(gz.size() / 2);
        ctnn_test::write_file(bad + ".gz", gz);
        CHECK(contains(message_of([&] { ctnn::io::read_idx(bad + ".gz"); }), bad + ".gz: truncated gzip stream"));
    }
}

TEST_CASE("Idx.hostile_headers_are_refused_before_any_large_allocation") {
    using ctnn_test::run_with_memory_limit;
    ctnn_test::TempDir dir;
    // 2,000,000 images of 28x28 = 1.57 GB: under the 2 GiB cap, far above the 256 MiB headroom.
    const Bytes huge_header = idx_file(8, {2'000'000, 28, 28}, Bytes(100, 0));
    SUBCASE("raw file declaring 1.57 GB") {
        ctnn_test::write_file(dir / "huge", huge_header);
        CHECK(run_with_memory_limit([&] { ctnn::io::read_idx(dir / "huge"); }) == "file_error");
        CHECK(run_with_memory_limit([&] { ctnn::io::parse_idx(huge_header, "huge"); }) == "file_error");
    }
    SUBCASE("gzipped file declaring 1.57 GB") {
        ctnn_test::write_file(dir / "huge.gz", ctnn_test::gzip(huge_header));
        CHECK(run_with_memory_limit([&] { ctnn::io::read_idx(dir / "huge.gz"); }) == "file_error");
    }
    SUBCASE("billions of images, and dimensions whose product overflows") {
        const Bytes billions = idx_file(8, {4'000'000'000u, 28, 28}, Bytes(100, 0));
        CHECK(run_with_memory_limit([&] { ctnn::io::decode_idx(billions, "b"); }) == "file_error");
        CHECK(run_with_memory_limit([&] { ctnn::io::decode_idx(ctnn_test::gzip(billions), "b.gz"); }) ==
              "file_error");
        const Bytes overflow = idx_file(8, {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {});
        CHECK(run_with_memory_limit([&] { ctnn::io::decode_idx(overflow, "o"); }) == "file_error");
    }
    SUBCASE("a gzip bomb behind a header that the ratio allows but the data does not fill") {
        // 64 MiB of zeros compress to ~64 KiB, which could back a 64 MiB declaration; declaring
        // 60 MiB but holding 64 MiB is trailing garbage, and inflation stops one byte past 60 MiB.
        Bytes bomb = idx_file(8, {60u << 20}, {});
        bomb.resize(bomb.size() + (std::size_t{64} << 20), 0);
        const Bytes packed = ctnn_test::gzip(bomb);
        CHECK(contains(message_of([&] { ctnn::io::decode_idx(packed, "bomb.gz"); }), "bomb.gz: trailing garbage"));
    }
}

}  // namespace io_test_idx
