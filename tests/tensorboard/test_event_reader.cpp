// Tests of ctnn/tensorboard/event_reader.hpp: hand-built protos (unknown fields skipped, wrong wire
// types rejected) and event files damaged the way crashes damage them.
#include "ctnn/tensorboard/event_reader.hpp"
#include "ctnn/tensorboard/event_writer.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include <unistd.h>

#include "helpers.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace tensorboard_test_event_reader {

namespace fs = std::filesystem;
namespace tb = ctnn::tensorboard;
namespace pb = ctnn::io::protobuf;

namespace {

using ctnn::testing::TempDir;

using ctnn::testing::read_file;

void write_all(const fs::path& p, const std::string& bytes) { std::ofstream(p, std::ios::binary) << bytes; }

}  // namespace

TEST_CASE("parse_event.skips_unknown_fields_and_accepts_float_val") {
    std::string msg;
    pb::append_double_field(msg, 1, 12.5);
    pb::append_int64_field(msg, 2, 42);
    pb::append_bytes_field(msg, 10, "source_metadata: unknown to the reader");
    const auto summary = pb::begin_nested(msg, 5);
    const auto value = pb::begin_nested(msg, 1);
    pb::append_bytes_field(msg, 1, "acc");
    pb::append_varint_field(msg, 7, 1);  // unknown varint inside a value
    const auto tensor = pb::begin_nested(msg, 8);
    pb::append_varint_field(msg, 1, 1);
    const float one[] = {0.75f};
    pb::append_packed_floats(msg, 5, one);
    pb::end_nested(msg, tensor);
    pb::end_nested(msg, value);
    pb::end_nested(msg, summary);

    const tb::Event event = tb::parse_event(msg);
    CHECK(event.wall_time == 12.5);
    CHECK(event.step == 42);
    CHECK_FALSE(event.file_version.has_value());
    REQUIRE(event.values.size() == 1);
    CHECK(event.values[0].tag == "acc");
    REQUIRE(event.values[0].tensor.has_value());
    CHECK_FALSE(event.values[0].tensor->has_shape);  // shape absent: still a scalar for TensorBoard
    CHECK(event.values[0].tensor->scalar_float() == 0.75f);
}

TEST_CASE("parse_event.rejects_wrong_wire_types") {
    std::string msg;
    pb::append_varint_field(msg, 1, 5);  // wall_time must be a double
    CHECK_THROWS_WITH_AS(tb::parse_event(msg), doctest::Contains("Event.wall_time"), pb::parse_error);
    std::string packed;
    pb::append_bytes_field(packed, 8, std::string("\x2a\x03\x00\x00\x00", 5));  // float_val of 3 bytes
    std::string event;
    const auto summary = pb::begin_nested(event, 5);
    const auto value = pb::begin_nested(event, 1);
    event += packed;
    pb::end_nested(event, value);
    pb::end_nested(event, summary);
    CHECK_THROWS_WITH_AS(tb::parse_event(event), doctest::Contains("not a multiple of 4"), pb::parse_error);
}

TEST_CASE("read_event_file.reports_damage") {
    TempDir dir;
    fs::path path;
    {
        tb::EventWriter writer(dir.path);
        path = writer.path();
        for (int step = 0; step < 3; ++step) writer.add_scalar("loss", 1.0f / static_cast<float>(step + 1), step);
    }
    const std::string good = read_file(path);
    const auto clean = tb::read_event_file(path);
    REQUIRE(clean.status == ctnn::io::TFRecordStatus::clean_end);
    REQUIRE(clean.events.size() == 4);

    SUBCASE("crash mid-record: complete records survive, the tail is reported truncated") {
        write_all(path, good.substr(0, good.size() - 5));
        const auto file = tb::read_event_file(path);
        CHECK(file.status == ctnn::io::TFRecordStatus::truncated);
        CHECK(file.events.size() == 3);
        CHECK(file.status_text.find("truncated trailing record") == 0);
    }
    SUBCASE("flipped payload byte: bad data crc at the record's offset") {
        const auto framing = ctnn::io::read_tfrecords(good);
        const auto last_start = static_cast<std::size_t>(framing.records.back().data() - good.data()) -
                                ctnn::io::tfrecord_header_size;
        std::string damaged = good;
        damaged[damaged.size() - 10] = static_cast<char>(damaged[damaged.size() - 10] ^ 1);
        write_all(path, damaged);
        const auto broken = tb::read_event_file(path);
        CHECK(broken.status == ctnn::io::TFRecordStatus::bad_data_crc);
        CHECK(broken.events.size() == 3);
        CHECK(broken.stop_offset == last_start);
    }
    SUBCASE("valid CRCs around a malformed proto: file_error naming path and offset") {
        write_all(path, good + ctnn::io::tfrecord_frame(std::string("\x09\x01\x02", 3)));
        CHECK_THROWS_WITH_AS(tb::read_event_file(path),
                             doctest::Contains((path.string() + ": record at offset " + std::to_string(good.size())).c_str()),
                             ctnn::file_error);
    }
    SUBCASE("missing file") {
        CHECK_THROWS_WITH_AS(tb::read_event_file(dir.path / "nope"), doctest::Contains("nope: cannot open"),
                             ctnn::file_error);
    }
}

}  // namespace tensorboard_test_event_reader
