// Tests of ctnn/io/protobuf.hpp: hand-computed wire bytes (protobuf encoding guide examples) and a
// decoder that rejects malformed input with an exception instead of reading out of bounds.
#include "ctnn/io/protobuf.hpp"

#include <doctest/doctest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace io_test_protobuf {

namespace pb = ctnn::io::protobuf;

namespace {
std::string bytes(std::initializer_list<unsigned> values) {
    std::string s;
    for (unsigned v : values) s.push_back(static_cast<char>(v));
    return s;
}
}  // namespace

TEST_CASE("protobuf.encodes_varints") {
    auto varint = [](std::uint64_t v) {
        std::string s;
        pb::append_varint(s, v);
        return s;
    };
    CHECK(varint(0) == bytes({0x00}));
    CHECK(varint(1) == bytes({0x01}));
    CHECK(varint(127) == bytes({0x7F}));
    CHECK(varint(128) == bytes({0x80, 0x01}));
    CHECK(varint(150) == bytes({0x96, 0x01}));  // encoding guide
    CHECK(varint(300) == bytes({0xAC, 0x02}));
    CHECK(varint(~0ull) == bytes({0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}));
    std::string negative;
    pb::append_int64_field(negative, 2, -1);  // int64 -1: ten bytes, no zigzag
    CHECK(negative == bytes({0x10, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}));
}

TEST_CASE("protobuf.encodes_fields_little_endian") {
    SUBCASE("field 1 varint 150 (encoding guide: 08 96 01)") {
        std::string s;
        pb::append_varint_field(s, 1, 150);
        CHECK(s == bytes({0x08, 0x96, 0x01}));
    }
    SUBCASE("field 2 string \"testing\" (encoding guide: 12 07 74 65 73 74 69 6e 67)") {
        std::string s;
        pb::append_bytes_field(s, 2, "testing");
        CHECK(s == bytes({0x12, 0x07, 't', 'e', 's', 't', 'i', 'n', 'g'}));
    }
    SUBCASE("float and double") {
        std::string s;
        pb::append_float_field(s, 2, 1.0f);     // 0x3F800000
        pb::append_double_field(s, 1, -2.0);    // 0xC000000000000000
        CHECK(s == bytes({0x15, 0x00, 0x00, 0x80, 0x3F, 0x09, 0, 0, 0, 0, 0, 0, 0x00, 0xC0}));
    }
    SUBCASE("packed doubles") {
        std::string s;
        const double values[] = {1.0, 0.5};
        pb::append_packed_doubles(s, 6, values);
        CHECK(s == bytes({0x32, 0x10, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F, 0, 0, 0, 0, 0, 0, 0xE0, 0x3F}));
    }
}

TEST_CASE("protobuf.nested_messages_backpatch_length") {
    SUBCASE("encoding guide: field 3 embedded {1: 150} is 1a 03 08 96 01") {
        std::string s;
        const auto mark = pb::begin_nested(s, 3);
        pb::append_varint_field(s, 1, 150);
        pb::end_nested(s, mark);
        CHECK(s == bytes({0x1A, 0x03, 0x08, 0x96, 0x01}));
    }
    SUBCASE("empty body") {
        std::string s = "x";
        pb::end_nested(s, pb::begin_nested(s, 2));
        CHECK(s == bytes({'x', 0x12, 0x00}));
    }
    for (std::size_t body : {127u, 128u, 300u, 16383u, 16384u, 70000u}) {
        CAPTURE(body);
        std::string nested = "prefix";
        const auto mark = pb::begin_nested(nested, 4);
        nested.append(body, 'z');
        pb::end_nested(nested, mark);
        std::string direct = "prefix";
        pb::append_bytes_field(direct, 4, std::string(body, 'z'));
        CHECK(nested == direct);
    }
}

TEST_CASE("protobuf.field_reader_round_trip") {
    std::string msg;
    pb::append_double_field(msg, 1, std::numeric_limits<double>::quiet_NaN());
    pb::append_int64_field(msg, 2, -42);
    pb::append_bytes_field(msg, 3, "brain.Event:2");
    pb::append_float_field(msg, 4, -0.0f);
    const auto mark = pb::begin_nested(msg, 5);
    pb::append_varint_field(msg, 1, 7);
    pb::end_nested(msg, mark);

    pb::FieldReader reader(msg);
    pb::Field f;
    REQUIRE(reader.next(f));
    CHECK(f.number == 1);
    CHECK(f.wire == pb::WireType::fixed64);
    CHECK(std::isnan(f.as_double()));
    REQUIRE(reader.next(f));
    CHECK(f.number == 2);
    CHECK(f.as_int64() == -42);
    REQUIRE(reader.next(f));
    CHECK(f.bytes == "brain.Event:2");
    REQUIRE(reader.next(f));
    CHECK(f.wire == pb::WireType::fixed32);
    CHECK(std::signbit(f.as_float()));
    REQUIRE(reader.next(f));
    CHECK(f.number == 5);
    pb::FieldReader inner = reader.nested(f);
    pb::Field g;
    REQUIRE(inner.next(g));
    CHECK(g.number == 1);
    CHECK(g.varint == 7);
    CHECK(g.offset == f.offset + 2);  // offsets stay relative to the outer message
    CHECK_FALSE(inner.next(g));
    CHECK_FALSE(reader.next(f));
}

TEST_CASE("protobuf.field_reader_rejects_malformed_input") {
    auto walk = [](const std::string& msg) {
        pb::FieldReader reader(msg);
        pb::Field f;
        while (reader.next(f)) {
        }
    };
    SUBCASE("truncated varint") { CHECK_THROWS_WITH_AS(walk(bytes({0x08, 0x96})), doctest::Contains("truncated varint"), pb::parse_error); }
    SUBCASE("varint longer than 10 bytes") {
        CHECK_THROWS_AS(walk(bytes({0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01})), pb::parse_error);
    }
    SUBCASE("varint overflowing 64 bits in its 10th byte") {
        CHECK_THROWS_AS(walk(bytes({0x08, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02})), pb::parse_error);
    }
    SUBCASE("length beyond the end") {
        CHECK_THROWS_WITH_AS(walk(bytes({0x12, 0x05, 'a', 'b'})), doctest::Contains("expected 5 bytes, found 2"), pb::parse_error);
    }
    SUBCASE("huge length is rejected before use") {
        CHECK_THROWS_AS(walk(bytes({0x12, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F})), pb::parse_error);
    }
    SUBCASE("short fixed64 / fixed32") {
        CHECK_THROWS_AS(walk(bytes({0x09, 1, 2, 3})), pb::parse_error);
        CHECK_THROWS_AS(walk(bytes({0x15, 1, 2, 3})), pb::parse_error);
    }
    SUBCASE("field number 0 and group wire types") {
        CHECK_THROWS_WITH_AS(walk(bytes({0x00, 0x00})), doctest::Contains("field number"), pb::parse_error);
        CHECK_THROWS_WITH_AS(walk(bytes({0x0B})), doctest::Contains("wire type"), pb::parse_error);
        CHECK_THROWS_AS(walk(bytes({0x0C})), pb::parse_error);
        CHECK_THROWS_AS(walk(bytes({0x0E})), pb::parse_error);
    }
    SUBCASE("expect_wire names the field") {
        const std::string msg = bytes({0x08, 0x01});
        pb::FieldReader reader(msg);
        pb::Field f;
        REQUIRE(reader.next(f));
        CHECK_THROWS_WITH_AS(pb::expect_wire(f, pb::WireType::fixed64, "Event.wall_time"),
                             doctest::Contains("Event.wall_time"), pb::parse_error);
        CHECK_THROWS_AS((void)f.as_double(), pb::parse_error);  // a varint read as fixed64
        CHECK_THROWS_AS((void)f.as_float(), pb::parse_error);
    }
}

}  // namespace io_test_protobuf
