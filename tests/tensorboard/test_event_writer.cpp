// Tests of ctnn/tensorboard/event_writer.hpp: golden bytes (reference §1), a hand-assembled scalar
// event, file naming, flushing, histogram bucketing against a naive edge-comparison twin, text,
// NaN/Inf round trips and construction errors. tests/tensorboard/check_events.py decodes the same
// kind of file with protoc-generated Python code (suite 'tools').
#include "ctnn/tensorboard/event_writer.hpp"
#include "ctnn/tensorboard/event_reader.hpp"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include <unistd.h>

#include "helpers.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace tensorboard_test_event_writer {

namespace fs = std::filesystem;
namespace tb = ctnn::tensorboard;

namespace {

using ctnn::testing::TempDir;

std::string bytes(std::initializer_list<unsigned> values) {
    std::string s;
    for (unsigned v : values) s.push_back(static_cast<char>(v));
    return s;
}

double now_seconds() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The one value of the one summary value of `event`, checked to be a TF2 scalar.
float scalar_of(const tb::Event& event) {
    REQUIRE(event.values.size() == 1);
    const auto& value = event.values[0];
    CHECK(value.plugin_name == "scalars");
    REQUIRE(value.tensor.has_value());
    CHECK(value.tensor->dtype == 1);
    CHECK(value.tensor->has_shape);
    CHECK(value.tensor->dims.empty());
    const auto scalar = value.tensor->scalar_float();
    REQUIRE(scalar.has_value());
    return *scalar;
}

// Naive twin of histogram_v2: bucket i holds left_i <= v < right_i, the last one also v == max.
std::vector<double> naive_counts(const std::vector<float>& values, const std::vector<double>& rows) {
    const std::size_t k = rows.size() / 3;
    std::vector<double> counts(k, 0.0);
    for (float v : values) {
        if (!std::isfinite(v)) continue;
        for (std::size_t i = 0; i < k; ++i) {
            const double left = rows[3 * i], right = rows[3 * i + 1];
            if (v >= left && (v < right || (i + 1 == k && v <= right))) {
                counts[i] += 1;
                break;
            }
        }
    }
    return counts;
}

}  // namespace

TEST_CASE("EventWriter.golden_file_version_record") {
    const std::string golden = bytes({0x18, 0, 0, 0, 0, 0, 0, 0, 0xa3, 0x7f, 0x4b, 0x22,  //
                                      0x09, 0x00, 0x00, 0x80, 0x38, 0x99, 0xd6, 0xd7, 0x41, 0x1a, 0x0d}) +
                               "brain.Event:2" + bytes({0x12, 0x4b, 0x36, 0xab});
    CHECK(ctnn::io::tfrecord_frame(tb::detail::encode_file_version_event(1599759586.0)) == golden);
}

TEST_CASE("EventWriter.scalar_event_bytes") {
    // Hand-assembled: Event{wall_time, step=3, summary{value{tag="loss", tensor{dtype=DT_FLOAT,
    // tensor_shape{}, tensor_content=1.0f}, metadata{plugin_data{plugin_name="scalars"}}}}}.
    const std::string expected = bytes({0x09, 0x00, 0x00, 0x80, 0x38, 0x99, 0xd6, 0xd7, 0x41,  // wall_time
                                        0x10, 0x03,                                            // step
                                        0x2a, 0x21, 0x0a, 0x1f,                                // summary, value
                                        0x0a, 0x04, 'l', 'o', 's', 's',                        // tag
                                        0x42, 0x0a, 0x08, 0x01, 0x12, 0x00, 0x22, 0x04, 0x00, 0x00, 0x80, 0x3f,
                                        0x4a, 0x0b, 0x0a, 0x09, 0x0a, 0x07}) +
                                 "scalars";
    std::string out;
    tb::detail::append_scalar_event(out, 1599759586.0, "loss", 1.0f, 3);
    CHECK(out == expected);

    SUBCASE("legacy simple_value") {
        const std::string legacy = bytes({0x09, 0x00, 0x00, 0x80, 0x38, 0x99, 0xd6, 0xd7, 0x41, 0x2a, 0x0d, 0x0a,
                                          0x0b, 0x0a, 0x04, 'l', 'o', 's', 's', 0x15, 0x00, 0x00, 0x20, 0x40});
        std::string got;
        tb::detail::append_legacy_scalar_event(got, 1599759586.0, "loss", 2.5f, 0);  // step 0 omitted
        CHECK(got == legacy);
    }
}

TEST_CASE("EventWriter.creates_named_file_with_flushed_first_record") {
    TempDir dir;
    const double before = now_seconds();
    tb::EventWriter writer(dir.path / "train");
    CHECK(writer.path().parent_path() == dir.path / "train");
    // events.out.tfevents.<10 digits>.<host>.<pid>.<n>  (no std::regex: g++ 12 -O1 + sanitizers warns in it)
    const std::string name = writer.path().filename().string();
    const std::string prefix = "events.out.tfevents.";
    REQUIRE(name.starts_with(prefix));
    const std::string seconds = name.substr(prefix.size(), 10);
    CHECK(seconds.find_first_not_of("0123456789") == std::string::npos);
    CHECK(name[prefix.size() + 10] == '.');
    CHECK(std::stoll(seconds) >= static_cast<long long>(before) - 1);
    const auto last_dot = name.rfind('.');
    const auto pid_dot = name.rfind('.', last_dot - 1);
    CHECK(name.substr(pid_dot + 1, last_dot - pid_dot - 1) == std::to_string(::getpid()));
    CHECK(name.substr(last_dot + 1).find_first_not_of("0123456789") == std::string::npos);
    CHECK(pid_dot > prefix.size() + 11);  // a non-empty host name in between

    // Readable before any flush(): the constructor flushed the file_version record.
    const auto file = tb::read_event_file(writer.path());
    CHECK(file.status == ctnn::io::TFRecordStatus::clean_end);
    REQUIRE(file.events.size() == 1);
    CHECK(file.events[0].file_version == "brain.Event:2");
    CHECK(file.events[0].wall_time >= before - 1);
    CHECK(file.events[0].wall_time <= now_seconds() + 1);

    SUBCASE("two writers in the same second get different files; the suffix is appended") {
        tb::EventWriter second(dir.path / "train", ".v2");
        CHECK(second.path() != writer.path());
        CHECK(second.path().filename().string().ends_with(".v2"));
        CHECK(second.path().filename().string().find("tfevents") != std::string::npos);
    }
}

TEST_CASE("EventWriter.flush_and_destructor") {
    TempDir dir;
    fs::path path;
    {
        tb::EventWriter writer(dir.path);
        path = writer.path();
        const auto after_header = fs::file_size(path);
        writer.add_scalar("loss", 0.5f, 1);
        CHECK(fs::file_size(path) == after_header);  // buffered: no syscall per record
        writer.flush();
        CHECK(fs::file_size(path) > after_header);
        writer.add_scalar("loss", 0.25f, 2);
    }  // destructor flushes
    const auto file = tb::read_event_file(path);
    CHECK(file.status == ctnn::io::TFRecordStatus::clean_end);
    REQUIRE(file.events.size() == 3);
    CHECK(file.events[2].step == 2);
    CHECK(scalar_of(file.events[2]) == 0.25f);
}

TEST_CASE("EventWriter.scalars_round_trip_including_nan_and_inf") {
    TempDir dir;
    const std::vector<float> values = {1.5f, std::numeric_limits<float>::quiet_NaN(),
                                       std::numeric_limits<float>::infinity(), -std::numeric_limits<float>::infinity(),
                                       -0.0f, std::numeric_limits<float>::denorm_min()};
    const std::vector<std::int64_t> steps = {0, 1, 127, 128, -5, std::numeric_limits<std::int64_t>::max()};
    fs::path path;
    {
        tb::EventWriter writer(dir.path);
        path = writer.path();
        for (std::size_t i = 0; i < values.size(); ++i) writer.add_scalar("metrics/value", values[i], steps[i]);
        writer.add_scalar_legacy("legacy", 2.5f, 9);
    }
    const auto file = tb::read_event_file(path);
    REQUIRE(file.events.size() == values.size() + 2);
    for (std::size_t i = 0; i < values.size(); ++i) {
        CAPTURE(i);
        const auto& event = file.events[i + 1];
        CHECK(std::isfinite(event.wall_time));
        CHECK(event.step == steps[i]);
        REQUIRE(event.values.size() == 1);
        CHECK(event.values[0].tag == "metrics/value");
        const float got = scalar_of(event);
        if (std::isnan(values[i])) {
            CHECK(std::isnan(got));
        } else {
            CHECK(std::bit_cast<std::uint32_t>(got) == std::bit_cast<std::uint32_t>(values[i]));
        }
    }
    const auto& legacy = file.events.back();
    REQUIRE(legacy.values.size() == 1);
    CHECK(legacy.values[0].tag == "legacy");
    CHECK(legacy.values[0].simple_value == 2.5f);
    CHECK(legacy.values[0].plugin_name.empty());
    CHECK_FALSE(legacy.values[0].tensor.has_value());
}

TEST_CASE("EventWriter.histograms") {
    TempDir dir;
    tb::EventWriter writer(dir.path);
    auto write_and_read = [&](const std::vector<float>& values, std::size_t buckets) {
        writer.add_histogram("weights", values, 4, buckets);
        writer.flush();
        const auto file = tb::read_event_file(writer.path());
        REQUIRE(file.status == ctnn::io::TFRecordStatus::clean_end);
        const auto& event = file.events.back();
        CHECK(event.step == 4);
        REQUIRE(event.values.size() == 1);
        CHECK(event.values[0].tag == "weights");
        CHECK(event.values[0].plugin_name == "histograms");
        REQUIRE(event.values[0].tensor.has_value());
        const auto& tensor = *event.values[0].tensor;
        CHECK(tensor.dtype == 2);
        REQUIRE(tensor.dims.size() == 2);
        CHECK(tensor.dims[1] == 3);
        const auto rows = tensor.doubles();
        CHECK(rows.size() == static_cast<std::size_t>(tensor.dims[0]) * 3);
        return rows;
    };

    SUBCASE("hand-computed: 0..9 in 5 buckets") {
        std::vector<float> values;
        for (int i = 0; i < 10; ++i) values.push_back(static_cast<float>(i));
        const auto rows = write_and_read(values, 5);
        const std::vector<double> expected = {0, 1.8, 2, 1.8, 3.6, 2, 3.6, 5.4, 2, 5.4, 7.2, 2, 7.2, 9, 2};
        REQUIRE(rows.size() == expected.size());
        for (std::size_t i = 0; i < rows.size(); ++i) CHECK(rows[i] == doctest::Approx(expected[i]).epsilon(1e-12));
        CHECK(rows[13] == 9.0);  // last edge is exactly the max
    }
    SUBCASE("random data agrees with the naive twin; counts sum to N") {
        std::mt19937 rng(7);
        std::normal_distribution<float> normal(0.5f, 2.0f);
        for (std::size_t n : {1u, 2u, 17u, 1000u}) {
            for (std::size_t buckets : {1u, 3u, 30u}) {
                CAPTURE(n);
                CAPTURE(buckets);
                std::vector<float> values(n);
                for (auto& v : values) v = normal(rng);
                const auto rows = write_and_read(values, buckets);
                const auto naive = naive_counts(values, rows);
                double total = 0;
                for (std::size_t i = 0; i < naive.size(); ++i) {
                    CHECK(rows[3 * i + 2] == naive[i]);
                    total += rows[3 * i + 2];
                }
                CHECK(total == static_cast<double>(n));
            }
        }
    }
    SUBCASE("all values equal: one bucket [v-0.5, v+0.5]") {
        const auto rows = write_and_read({3.0f, 3.0f, 3.0f}, 30);
        CHECK(rows == std::vector<double>{2.5, 3.5, 3.0});
    }
    SUBCASE("empty input and zero buckets: shape [0, 3]") {
        CHECK(write_and_read({}, 30).empty());
        CHECK(write_and_read({1.0f, 2.0f}, 0).empty());
    }
    SUBCASE("non-finite values are not counted and do not move the edges") {
        const float nan = std::numeric_limits<float>::quiet_NaN(), inf = std::numeric_limits<float>::infinity();
        const auto rows = write_and_read({nan, 1.0f, inf, 2.0f, -inf}, 2);
        CHECK(rows == std::vector<double>{1.0, 1.5, 1.0, 1.5, 2.0, 1.0});
        CHECK(write_and_read({nan, inf}, 30).empty());
    }
    SUBCASE("extreme finite values do not overflow the range") {
        const float big = std::numeric_limits<float>::max();
        const auto rows = write_and_read({-big, big, 0.0f}, 2);
        REQUIRE(rows.size() == 6);
        CHECK(rows[2] + rows[5] == 3.0);
    }
    SUBCASE("absurd bucket counts are refused") {
        CHECK_THROWS_AS(writer.add_histogram("w", std::vector<float>{1.0f}, 0, std::size_t{1} << 40),
                        std::invalid_argument);
    }
}

TEST_CASE("EventWriter.text") {
    TempDir dir;
    fs::path path;
    const std::string text = "epoch 3: **loss** 0.25\nünïcödé";
    {
        tb::EventWriter writer(dir.path);
        path = writer.path();
        writer.add_text("notes", text, 3);
    }
    const auto file = tb::read_event_file(path);
    REQUIRE(file.events.size() == 2);
    const auto& value = file.events[1].values.at(0);
    CHECK(value.tag == "notes");
    CHECK(value.plugin_name == "text");
    REQUIRE(value.tensor.has_value());
    CHECK(value.tensor->dtype == 7);
    CHECK(value.tensor->has_shape);
    CHECK(value.tensor->dims.empty());
    CHECK(value.tensor->string_val == std::vector<std::string>{text});
}

TEST_CASE("EventWriter.unusable_log_dir_is_named") {
    TempDir dir;
    fs::create_directories(dir.path);
    std::ofstream(dir.path / "a_file") << "not a directory";
    SUBCASE("log_dir below a regular file") {
        const fs::path bad = dir.path / "a_file" / "logs";
        try {
            tb::EventWriter writer(bad);
            FAIL("expected ctnn::file_error");
        } catch (const ctnn::file_error& e) {
            CHECK(std::string(e.what()).find(bad.string() + ": ") == 0);
            CHECK(e.path() == bad.string());
        }
    }
    SUBCASE("log_dir is a regular file") {
        CHECK_THROWS_WITH_AS(tb::EventWriter(dir.path / "a_file"),
                             doctest::Contains((dir.path / "a_file").string().c_str()), ctnn::file_error);
    }
    SUBCASE("empty log_dir is API misuse") { CHECK_THROWS_AS(tb::EventWriter(""), std::invalid_argument); }
}

}  // namespace tensorboard_test_event_writer
