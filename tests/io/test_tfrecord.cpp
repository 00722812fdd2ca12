// Tests of ctnn/io/tfrecord.hpp: golden framing bytes (rustboard tf_record.rs doc test), reader
// status on truncation and on every corrupted byte, and writer errors on a full / too-small disk.
#include "ctnn/io/tfrecord.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <unistd.h>

#include "helpers.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace io_test_tfrecord {

namespace fs = std::filesystem;
using ctnn::io::TFRecordStatus;

namespace {

using ctnn::testing::TempDir;

std::string bytes(std::initializer_list<unsigned> values) {
    std::string s;
    for (unsigned v : values) s.push_back(static_cast<char>(v));
    return s;
}

using ctnn::testing::read_file;

// Event{wall_time=1599759586.0, file_version="brain.Event:2"} and its framed record, from
// /work/shared/reference/tensorboard_format.md §1 (rustboard doc test).
const std::string golden_payload = bytes({0x09, 0x00, 0x00, 0x80, 0x38, 0x99, 0xd6, 0xd7, 0x41, 0x1a, 0x0d}) + "brain.Event:2";
const std::string golden_record = bytes({0x18, 0, 0, 0, 0, 0, 0, 0, 0xa3, 0x7f, 0x4b, 0x22}) + golden_payload +
                                  bytes({0x12, 0x4b, 0x36, 0xab});

}  // namespace

TEST_CASE("tfrecord.frames_golden_record") {
    REQUIRE(golden_payload.size() == 24);
    CHECK(ctnn::io::tfrecord_frame(golden_payload) == golden_record);
    const auto result = ctnn::io::read_tfrecords(golden_record);
    CHECK(result.clean());
    REQUIRE(result.records.size() == 1);
    CHECK(result.records[0] == golden_payload);
}

TEST_CASE("tfrecord.reader_reports_how_it_stopped") {
    const std::vector<std::string> payloads = {"first", "", std::string(300, 'x'), "last"};
    std::string file;
    std::vector<std::size_t> starts;
    for (const auto& p : payloads) {
        starts.push_back(file.size());
        ctnn::io::append_tfrecord_frame(file, p);
    }

    SUBCASE("clean end") {
        const auto result = ctnn::io::read_tfrecords(file);
        CHECK(result.status == TFRecordStatus::clean_end);
        CHECK(result.stop_offset == file.size());
        REQUIRE(result.records.size() == payloads.size());
        for (std::size_t i = 0; i < payloads.size(); ++i) CHECK(result.records[i] == payloads[i]);
    }
    SUBCASE("empty input is a clean end") { CHECK(ctnn::io::read_tfrecords("").clean()); }
    SUBCASE("every cut inside the last record is a truncated tail") {
        for (std::size_t cut = starts.back() + 1; cut < file.size(); ++cut) {
            CAPTURE(cut);
            const auto result = ctnn::io::read_tfrecords(std::string_view(file).substr(0, cut));
            CHECK(result.status == TFRecordStatus::truncated);
            CHECK(result.stop_offset == starts.back());
            CHECK(result.records.size() == payloads.size() - 1);
            CHECK(result.describe().find("truncated trailing record at offset " + std::to_string(starts.back())) == 0);
        }
    }
    SUBCASE("every corrupted byte of a middle record is found") {
        const std::size_t begin = starts[2], end = starts[3];
        for (std::size_t at = begin; at < end; ++at) {
            CAPTURE(at);
            std::string damaged = file;
            damaged[at] = static_cast<char>(damaged[at] ^ 0x20);
            const auto result = ctnn::io::read_tfrecords(damaged);
            CHECK(result.stop_offset == begin);
            CHECK(result.records.size() == 2);
            const auto expected = (at < begin + 12) ? TFRecordStatus::bad_length_crc : TFRecordStatus::bad_data_crc;
            CHECK(result.status == expected);
            CHECK(result.describe().find("corrupt record at offset " + std::to_string(begin)) == 0);
        }
    }
    SUBCASE("zero-filled tail after a crash is a bad length crc, not a record") {
        const auto result = ctnn::io::read_tfrecords(file + std::string(64, '\0'));
        CHECK(result.status == TFRecordStatus::bad_length_crc);
        CHECK(result.stop_offset == file.size());
        CHECK(result.records.size() == payloads.size());
    }
    SUBCASE("a huge length with a valid length crc is a truncation, not an allocation") {
        std::string header(8, '\xff');
        std::string record = header + std::string(4, '\0');
        const std::uint32_t crc = ctnn::io::masked_crc32c(ctnn::io::crc32c(header.data(), 8));
        for (int i = 0; i < 4; ++i) record[8 + i] = static_cast<char>((crc >> (8 * i)) & 0xFF);
        const auto result = ctnn::io::read_tfrecords(record + "abc");
        CHECK(result.status == TFRecordStatus::truncated);
        CHECK(result.stop_offset == 0);
    }
}

TEST_CASE("tfrecord.writer_writes_whole_records") {
    TempDir dir;
    const fs::path file = dir.path / "records.tfrecord";
    SUBCASE("write, flush, append, read back") {
        {
            ctnn::io::TFRecordWriter writer(file, ctnn::io::TFRecordOpenMode::create_new);
            writer.write(golden_payload);
            CHECK(writer.bytes_pending() == golden_record.size());
            CHECK(fs::file_size(file) == 0);  // buffered, not yet written
            writer.flush();
            CHECK(read_file(file) == golden_record);
            writer.write("second");
        }  // destructor flushes
        {
            ctnn::io::TFRecordWriter writer(file, ctnn::io::TFRecordOpenMode::append);
            writer.write("third");
        }
        const std::string contents = read_file(file);
        const auto result = ctnn::io::read_tfrecords(contents);
        CHECK(result.clean());
        REQUIRE(result.records.size() == 3);
        CHECK(result.records[0] == golden_payload);
        CHECK(result.records[1] == "second");
        CHECK(result.records[2] == "third");
    }
    SUBCASE("records larger than the buffer are written directly, in order") {
        {
            ctnn::io::TFRecordWriter writer(file, ctnn::io::TFRecordOpenMode::truncate, 64);
            writer.write("small");
            writer.write(std::string(1000, 'L'));
            writer.write("tail");
            writer.close();
            CHECK_THROWS_AS(writer.write("after close"), ctnn::file_error);
        }
        const std::string contents = read_file(file);
        const auto result = ctnn::io::read_tfrecords(contents);
        CHECK(result.clean());
        REQUIRE(result.records.size() == 3);
        CHECK(result.records[1] == std::string(1000, 'L'));
        CHECK(result.records[2] == "tail");
    }
    SUBCASE("create_new refuses an existing file and names it") {
        std::ofstream(file) << "x";
        try {
            ctnn::io::TFRecordWriter writer(file, ctnn::io::TFRecordOpenMode::create_new);
            FAIL("expected ctnn::file_error");
        } catch (const ctnn::file_error& e) {
            CHECK(std::string(e.what()).find(file.string()) == 0);
            CHECK(std::string(e.what()).find("File exists") != std::string::npos);
        }
    }
    SUBCASE("a path under a regular file cannot be opened") {
        std::ofstream(dir.path / "plain") << "x";
        const fs::path bad = dir.path / "plain" / "records.tfrecord";
        CHECK_THROWS_WITH_AS(ctnn::io::TFRecordWriter{bad}, doctest::Contains(bad.string().c_str()), ctnn::file_error);
    }
}

TEST_CASE("tfrecord.writer_reports_a_full_disk") {
    SUBCASE("ENOSPC from /dev/full names the path; the writer then refuses writes; destructor is quiet") {
        if (!fs::exists("/dev/full")) return;
        ctnn::io::TFRecordWriter writer("/dev/full", ctnn::io::TFRecordOpenMode::append);
        writer.write("payload");
        try {
            writer.flush();
            FAIL("expected ctnn::file_error");
        } catch (const ctnn::file_error& e) {
            const std::string message = e.what();
            CHECK(message.find("/dev/full: ") == 0);
            CHECK(message.find("No space left on device") != std::string::npos);
        }
        CHECK_THROWS_WITH_AS(writer.write("more"), doctest::Contains("earlier error"), ctnn::file_error);
    }
    SUBCASE("EFBIG mid-record: the partial record is cut off, earlier records stay valid") {
        TempDir dir;
        const fs::path file = dir.path / "big.tfrecord";
        ctnn::io::TFRecordWriter writer(file, ctnn::io::TFRecordOpenMode::create_new, 16);
        writer.write("kept");  // 20 bytes, above the 16-byte buffer: written at once
        const std::uint64_t good = writer.bytes_committed();
        CHECK(good == 20);

        rlimit saved{};
        REQUIRE(::getrlimit(RLIMIT_FSIZE, &saved) == 0);
        rlimit small = saved;
        small.rlim_cur = 100;
        const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);  // get EFBIG instead of a signal
        REQUIRE(::setrlimit(RLIMIT_FSIZE, &small) == 0);
        std::string message;
        try {
            writer.write(std::string(500, 'b'));
        } catch (const ctnn::file_error& e) {
            message = e.what();
        }
        ::setrlimit(RLIMIT_FSIZE, &saved);
        std::signal(SIGXFSZ, old_handler);

        CHECK(message.find(file.string() + ": write failed: File too large") == 0);
        CHECK(fs::file_size(file) == good);
        const std::string contents = read_file(file);
        const auto result = ctnn::io::read_tfrecords(contents);
        CHECK(result.clean());
        REQUIRE(result.records.size() == 1);
        CHECK(result.records[0] == "kept");
    }
}

}  // namespace io_test_tfrecord
