// ctnn/tensorboard/event_writer.hpp — writes TensorBoard event files without TensorFlow or libprotobuf.
//
// One EventWriter = one file `<log_dir>/events.out.tfevents.<secs>.<host>.<pid>.<n><suffix>` holding
// TFRecord-framed `Event` protos, hand-encoded as TF2/Keras 3 write them: scalars as rank-0 DT_FLOAT
// tensors (plugin "scalars"), histograms as [k,3] DT_DOUBLE tensors (plugin "histograms"), text as
// DT_STRING tensors (plugin "text"). Not thread-safe; images, graphs and audio are not written.
// Field numbers: /work/shared/reference/tensorboard_format.md §4-6.
#pragma once

#include "ctnn/core/error.hpp"
#include "ctnn/io/protobuf.hpp"
#include "ctnn/io/tfrecord.hpp"

#include <algorithm>
#include <atomic>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include <unistd.h>

namespace ctnn::tensorboard {

namespace detail {

namespace pb = ctnn::io::protobuf;

// Field numbers (event.proto, summary.proto, tensor.proto, tensor_shape.proto, types.proto). Fields
// are emitted in ascending number order, as protobuf serializers do, so a protobuf library
// re-serializes our records to the same bytes (tests/tensorboard/check_events.py checks this).
namespace field {
inline constexpr std::uint32_t event_wall_time = 1, event_step = 2, event_file_version = 3, event_summary = 5;
inline constexpr std::uint32_t summary_value = 1;
inline constexpr std::uint32_t value_tag = 1, value_simple_value = 2, value_tensor = 8, value_metadata = 9;
inline constexpr std::uint32_t metadata_plugin_data = 1, plugin_data_plugin_name = 1;
inline constexpr std::uint32_t tensor_dtype = 1, tensor_shape = 2, tensor_content = 4, tensor_string_val = 8;
inline constexpr std::uint32_t shape_dim = 2, dim_size = 1;
}  // namespace field

enum DataType : std::uint32_t { dt_float = 1, dt_double = 2, dt_string = 7 };

inline constexpr std::string_view file_version = "brain.Event:2";
inline constexpr std::size_t max_histogram_buckets = 1u << 16;

inline double wall_time_now() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Event fields shared by every summary event (wall_time, step).
inline void begin_event(std::string& out, double wall_time, std::int64_t step) {
    pb::append_double_field(out, field::event_wall_time, wall_time);
    if (step != 0) pb::append_int64_field(out, field::event_step, step);  // proto3 omits defaults
}

inline void append_plugin_metadata(std::string& out, std::string_view plugin_name) {
    const auto metadata = pb::begin_nested(out, field::value_metadata);
    const auto plugin_data = pb::begin_nested(out, field::metadata_plugin_data);
    pb::append_bytes_field(out, field::plugin_data_plugin_name, plugin_name);
    pb::end_nested(out, plugin_data);
    pb::end_nested(out, metadata);
}

inline void append_dim(std::string& out, std::uint64_t size) {
    const auto dim = pb::begin_nested(out, field::shape_dim);
    if (size != 0) pb::append_varint_field(out, field::dim_size, size);
    pb::end_nested(out, dim);
}

// Event{wall_time, file_version="brain.Event:2"}: the first record of every event file.
inline void append_file_version_event(std::string& out, double wall_time) {
    pb::append_double_field(out, field::event_wall_time, wall_time);
    pb::append_bytes_field(out, field::event_file_version, file_version);
}

inline std::string encode_file_version_event(double wall_time) {
    std::string out;
    append_file_version_event(out, wall_time);
    return out;
}

// Summary.Value{tag, tensor{DT_FLOAT, shape [], tensor_content = 4 LE bytes}, metadata{plugin "scalars"}}.
// TensorBoard accepts 4-byte tensor_content or one float_val for scalars (reference §6); raw content
// avoids a packed-field header.
inline void append_scalar_event(std::string& out, double wall_time, std::string_view tag, float value,
                                std::int64_t step) {
    begin_event(out, wall_time, step);
    const auto summary = pb::begin_nested(out, field::event_summary);
    const auto summary_value = pb::begin_nested(out, field::summary_value);
    pb::append_bytes_field(out, field::value_tag, tag);
    const auto tensor = pb::begin_nested(out, field::value_tensor);
    pb::append_varint_field(out, field::tensor_dtype, dt_float);
    pb::end_nested(out, pb::begin_nested(out, field::tensor_shape));  // present and empty: rank 0
    pb::append_tag(out, field::tensor_content, pb::WireType::length_delimited);
    pb::append_varint(out, 4);
    pb::append_fixed32(out, std::bit_cast<std::uint32_t>(value));
    pb::end_nested(out, tensor);
    append_plugin_metadata(out, "scalars");
    pb::end_nested(out, summary_value);
    pb::end_nested(out, summary);
}

// Summary.Value{tag, simple_value}: what Keras 2.2.4 / TF1 wrote; TensorBoard still reads it.
inline void append_legacy_scalar_event(std::string& out, double wall_time, std::string_view tag, float value,
                                       std::int64_t step) {
    begin_event(out, wall_time, step);
    const auto summary = pb::begin_nested(out, field::event_summary);
    const auto summary_value = pb::begin_nested(out, field::summary_value);
    pb::append_bytes_field(out, field::value_tag, tag);
    pb::append_float_field(out, field::value_simple_value, value);
    pb::end_nested(out, summary_value);
    pb::end_nested(out, summary);
}

inline void append_text_event(std::string& out, double wall_time, std::string_view tag, std::string_view text,
                              std::int64_t step) {
    begin_event(out, wall_time, step);
    const auto summary = pb::begin_nested(out, field::event_summary);
    const auto summary_value = pb::begin_nested(out, field::summary_value);
    pb::append_bytes_field(out, field::value_tag, tag);
    const auto tensor = pb::begin_nested(out, field::value_tensor);
    pb::append_varint_field(out, field::tensor_dtype, dt_string);
    pb::end_nested(out, pb::begin_nested(out, field::tensor_shape));  // rank 0: one string
    pb::append_bytes_field(out, field::tensor_string_val, text);
    pb::end_nested(out, tensor);
    append_plugin_metadata(out, "text");
    pb::end_nested(out, summary_value);
    pb::end_nested(out, summary);
}

// TensorBoard's histogram_v2 bucketing (histogram/summary_v2.py): k equal-width buckets over
// [min, max], each closed-open except the last; all-equal data -> one bucket [v-0.5, v+0.5];
// no data or k == 0 -> zero buckets. Non-finite values are left out (they would make every edge
// NaN/Inf). `counts` is scratch reused between calls. Emits a [k,3] DT_DOUBLE tensor.
inline void append_histogram_event(std::string& out, double wall_time, std::string_view tag,
                                   std::span<const float> values, std::int64_t step, std::size_t buckets,
                                   std::vector<double>& counts) {
    double lo = std::numeric_limits<double>::infinity();
    double hi = -lo;
    std::size_t finite = 0;
    for (float v : values) {
        if (!std::isfinite(v)) continue;
        lo = std::min(lo, static_cast<double>(v));
        hi = std::max(hi, static_cast<double>(v));
        ++finite;
    }
    std::size_t rows = 0;
    double width = 0;
    if (finite == 0 || buckets == 0) {
        rows = 0;
    } else if (lo == hi) {
        rows = 1;
    } else {
        rows = buckets;
        width = (hi - lo) / static_cast<double>(buckets);  // floats as doubles: hi - lo cannot overflow
        counts.assign(buckets, 0.0);
        for (float v : values) {
            if (!std::isfinite(v)) continue;
            const double index = std::floor((static_cast<double>(v) - lo) / width);
            counts[std::min(static_cast<std::size_t>(index), buckets - 1)] += 1.0;
        }
    }

    begin_event(out, wall_time, step);
    const auto summary = pb::begin_nested(out, field::event_summary);
    const auto summary_value = pb::begin_nested(out, field::summary_value);
    pb::append_bytes_field(out, field::value_tag, tag);
    const auto tensor = pb::begin_nested(out, field::value_tensor);
    pb::append_varint_field(out, field::tensor_dtype, dt_double);
    const auto shape = pb::begin_nested(out, field::tensor_shape);
    append_dim(out, rows);
    append_dim(out, 3);
    pb::end_nested(out, shape);
    if (rows > 0) {
        pb::append_tag(out, field::tensor_content, pb::WireType::length_delimited);
        pb::append_varint(out, rows * 3 * 8);
        if (rows == 1 && lo == hi) {
            pb::append_fixed64(out, std::bit_cast<std::uint64_t>(lo - 0.5));
            pb::append_fixed64(out, std::bit_cast<std::uint64_t>(hi + 0.5));
            pb::append_fixed64(out, std::bit_cast<std::uint64_t>(static_cast<double>(finite)));
        } else {
            for (std::size_t i = 0; i < rows; ++i) {
                const double left = lo + static_cast<double>(i) * width;  // numpy linspace: start + i*step
                const double right = (i + 1 == rows) ? hi : lo + static_cast<double>(i + 1) * width;
                pb::append_fixed64(out, std::bit_cast<std::uint64_t>(left));
                pb::append_fixed64(out, std::bit_cast<std::uint64_t>(right));
                pb::append_fixed64(out, std::bit_cast<std::uint64_t>(counts[i]));
            }
        }
    }
    pb::end_nested(out, tensor);
    append_plugin_metadata(out, "histograms");
    pb::end_nested(out, summary_value);
    pb::end_nested(out, summary);
}

inline std::atomic<std::uint64_t>& event_file_counter() {
    static std::atomic<std::uint64_t> counter{0};
    return counter;
}

inline std::string host_name() {
    char buffer[256] = {};
    if (::gethostname(buffer, sizeof buffer - 1) != 0 || buffer[0] == '\0') return "localhost";
    std::string name(buffer);
    std::replace(name.begin(), name.end(), '/', '_');  // it becomes part of a file name
    return name;
}

// events.out.tfevents.<10-digit secs>.<host>.<pid>.<n><suffix>, as TensorBoard's Python writer
// names files; <n> is process-wide so two writers opened in the same second never collide.
inline std::string event_file_name(double wall_time, std::string_view suffix) {
    char seconds[32];
    std::snprintf(seconds, sizeof seconds, "%010lld", static_cast<long long>(wall_time));
    return std::string("events.out.tfevents.") + seconds + "." + host_name() + "." +
           std::to_string(static_cast<long long>(::getpid())) + "." + std::to_string(event_file_counter()++) +
           std::string(suffix);
}

}  // namespace detail

class EventWriter {
public:
    // Creates log_dir (and parents) and the event file, and writes + flushes the file_version record.
    // Throws ctnn::file_error naming the directory or file when either cannot be created.
    explicit EventWriter(std::filesystem::path log_dir, std::string filename_suffix = "")
        : log_dir_(std::move(log_dir)), writer_(open_file(log_dir_, filename_suffix)) {
        counts_.reserve(64);
        record_.reserve(512);
        frame_and_write([&](std::string& out) { detail::append_file_version_event(out, detail::wall_time_now()); });
        writer_.flush();
    }

    // Scalar as TF2 writes it (rank-0 DT_FLOAT tensor, plugin "scalars"); NaN/Inf are kept as is.
    void add_scalar(std::string_view tag, float value, std::int64_t step) {
        frame_and_write([&](std::string& out) {
            detail::append_scalar_event(out, detail::wall_time_now(), tag, value, step);
        });
    }

    // Scalar as Keras 2.2.4 wrote it (Summary.Value.simple_value).
    void add_scalar_legacy(std::string_view tag, float value, std::int64_t step) {
        frame_and_write([&](std::string& out) {
            detail::append_legacy_scalar_event(out, detail::wall_time_now(), tag, value, step);
        });
    }

    // Histogram of `values` in `buckets` equal-width buckets (TensorBoard histogram_v2); non-finite
    // values are not counted.
    void add_histogram(std::string_view tag, std::span<const float> values, std::int64_t step,
                       std::size_t buckets = 30) {
        if (buckets > detail::max_histogram_buckets)
            throw std::invalid_argument("EventWriter::add_histogram(\"" + std::string(tag) +
                                        "\"): buckets must be <= " +
                                        std::to_string(detail::max_histogram_buckets) + ", found " +
                                        std::to_string(buckets));
        frame_and_write([&](std::string& out) {
            detail::append_histogram_event(out, detail::wall_time_now(), tag, values, step, buckets, counts_);
        });
    }

    void add_text(std::string_view tag, std::string_view text, std::int64_t step) {
        frame_and_write([&](std::string& out) {
            detail::append_text_event(out, detail::wall_time_now(), tag, text, step);
        });
    }

    // Hands buffered records to the OS (no fsync); TensorBoard sees them on its next reload.
    void flush() { writer_.flush(); }

    // flush() + close; throws on error. The destructor does the same but swallows errors.
    void close() { writer_.close(); }

    ~EventWriter() {
        try {
            if (writer_.is_open()) writer_.close();
        } catch (...) {  // destructors must not throw; call flush()/close() to see errors
        }
    }

    EventWriter(EventWriter&&) noexcept = default;
    EventWriter& operator=(EventWriter&&) noexcept = default;

    const std::filesystem::path& path() const noexcept { return writer_.path(); }
    // Bytes handed to the OS so far, the file's size after flush().
    std::uint64_t bytes_written() const noexcept { return writer_.bytes_committed(); }

    // Continues an existing event file cut back to `size` bytes: a resumed training drops what was
    // logged after its backup, so no step appears twice. Throws ctnn::file_error if the file is
    // missing or shorter than `size`.
    static EventWriter resume(const std::filesystem::path& path, std::uint64_t size) {
        std::error_code ec;
        const auto found = std::filesystem::file_size(path, ec);
        if (ec || found < size)
            throw file_error(path.string(), "cannot resume the event file: it held " + std::to_string(size) +
                                                " bytes at the backup and now " + (ec ? std::string("is missing") : "holds " + std::to_string(found)));
        std::filesystem::resize_file(path, size, ec);
        if (ec) throw file_error(path.string(), "cannot resume the event file: " + ec.message());
        return EventWriter(path.parent_path(), io::TFRecordWriter(path, io::TFRecordOpenMode::append));
    }
    const std::filesystem::path& log_dir() const noexcept { return log_dir_; }

private:
    EventWriter(std::filesystem::path log_dir, io::TFRecordWriter writer) : log_dir_(std::move(log_dir)), writer_(std::move(writer)) {
        counts_.reserve(64);
        record_.reserve(512);
    }
    static io::TFRecordWriter open_file(const std::filesystem::path& log_dir, std::string_view suffix) {
        if (log_dir.empty()) throw std::invalid_argument("EventWriter(log_dir): log_dir must not be empty");
        std::error_code error;
        std::filesystem::create_directories(log_dir, error);
        if (error) throw file_error(log_dir.string(), "cannot create log directory: " + error.message());
        if (!std::filesystem::is_directory(log_dir, error))
            throw file_error(log_dir.string(), "expected a directory for event files, found something else");
        const auto path = log_dir / detail::event_file_name(detail::wall_time_now(), suffix);
        return io::TFRecordWriter(path, io::TFRecordOpenMode::create_new);
    }

    // Encodes one event straight after a 12-byte header placeholder in the reused buffer, frames it
    // in place and queues it whole: no allocation once the buffer has grown.
    template <class Encode>
    void frame_and_write(Encode&& encode) {
        record_.assign(io::tfrecord_header_size, '\0');
        encode(record_);
        io::detail::finish_tfrecord_frame(record_);
        writer_.write_framed(record_);
    }

    std::filesystem::path log_dir_;
    io::TFRecordWriter writer_;
    std::string record_;          // one framed record, reused
    std::vector<double> counts_;  // (buckets,) histogram scratch, reused
};

}  // namespace ctnn::tensorboard
