// ctnn/tensorboard/event_reader.hpp — decodes the Event protos EventWriter writes, for tests,
// fuzzing and crash-recovery checks.
//
// Knows the subset of event.proto / summary.proto / tensor.proto that ctnn writes (wall_time, step,
// file_version, summary values with tag, plugin name, simple_value and tensors); other fields are
// skipped. Malformed protos throw io::protobuf::parse_error. Not a TensorBoard replacement.
#pragma once

#include "ctnn/core/error.hpp"
#include "ctnn/io/protobuf.hpp"
#include "ctnn/io/tfrecord.hpp"

#include <bit>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ctnn::tensorboard {

struct TensorData {
    std::uint32_t dtype = 0;         // DataType enum: 1 float, 2 double, 7 string
    bool has_shape = false;          // tensor_shape present (rank 0 when dims is empty)
    std::vector<std::int64_t> dims;  // sizes
    std::string tensor_content;      // raw little-endian elements
    std::vector<float> float_val;
    std::vector<double> double_val;
    std::vector<std::string> string_val;

    // The value of a rank-0 DT_FLOAT tensor, as TensorBoard accepts it (tensor_content or float_val).
    std::optional<float> scalar_float() const {
        if (dtype != 1 || !dims.empty()) return std::nullopt;
        if (tensor_content.size() == 4 && float_val.empty())
            return std::bit_cast<float>(io::protobuf::load_le32(tensor_content.data()));
        if (tensor_content.empty() && float_val.size() == 1) return float_val[0];
        return std::nullopt;
    }

    // tensor_content of a DT_DOUBLE tensor as doubles (row-major), or double_val.
    std::vector<double> doubles() const {
        if (dtype != 2) return {};
        if (tensor_content.empty()) return double_val;
        std::vector<double> result(tensor_content.size() / 8);
        for (std::size_t i = 0; i < result.size(); ++i)
            result[i] = std::bit_cast<double>(io::protobuf::load_le64(tensor_content.data() + 8 * i));
        return result;
    }
};

struct SummaryValue {
    std::string tag;
    std::string plugin_name;  // empty if no metadata
    std::optional<float> simple_value;
    std::optional<TensorData> tensor;
};

struct Event {
    double wall_time = 0;
    std::int64_t step = 0;
    std::optional<std::string> file_version;
    bool has_summary = false;
    std::vector<SummaryValue> values;
};

namespace detail {

namespace pb = ctnn::io::protobuf;

template <class T, class Load>
void append_repeated_fixed(const pb::Field& f, pb::WireType single, std::size_t width, std::vector<T>& out,
                           Load load, const char* name) {
    if (f.wire == single) {
        out.push_back(load(f.bytes.data()));
        return;
    }
    pb::expect_wire(f, pb::WireType::length_delimited, name);
    if (f.bytes.size() % width != 0)
        throw pb::parse_error(f.offset, std::string(name) + ": packed length " + std::to_string(f.bytes.size()) +
                                            " is not a multiple of " + std::to_string(width));
    for (std::size_t i = 0; i < f.bytes.size(); i += width) out.push_back(load(f.bytes.data() + i));
}

inline void parse_shape(pb::FieldReader reader, TensorData& tensor) {
    tensor.has_shape = true;
    pb::Field f;
    while (reader.next(f)) {
        if (f.number != 2) continue;  // dim; unknown_rank (3) ignored
        pb::expect_wire(f, pb::WireType::length_delimited, "TensorShapeProto.dim");
        pb::FieldReader dim = reader.nested(f);
        pb::Field d;
        std::int64_t size = 0;
        while (dim.next(d)) {
            if (d.number == 1) {
                pb::expect_wire(d, pb::WireType::varint, "TensorShapeProto.Dim.size");
                size = d.as_int64();
            }
        }
        tensor.dims.push_back(size);
    }
}

inline TensorData parse_tensor(pb::FieldReader reader) {
    TensorData tensor;
    pb::Field f;
    while (reader.next(f)) {
        switch (f.number) {
            case 1:
                pb::expect_wire(f, pb::WireType::varint, "TensorProto.dtype");
                tensor.dtype = static_cast<std::uint32_t>(f.varint);
                break;
            case 2:
                pb::expect_wire(f, pb::WireType::length_delimited, "TensorProto.tensor_shape");
                parse_shape(reader.nested(f), tensor);
                break;
            case 4:
                pb::expect_wire(f, pb::WireType::length_delimited, "TensorProto.tensor_content");
                tensor.tensor_content.assign(f.bytes);
                break;
            case 5:
                append_repeated_fixed(f, pb::WireType::fixed32, 4, tensor.float_val,
                                      [](const char* p) { return std::bit_cast<float>(pb::load_le32(p)); },
                                      "TensorProto.float_val");
                break;
            case 6:
                append_repeated_fixed(f, pb::WireType::fixed64, 8, tensor.double_val,
                                      [](const char* p) { return std::bit_cast<double>(pb::load_le64(p)); },
                                      "TensorProto.double_val");
                break;
            case 8:
                pb::expect_wire(f, pb::WireType::length_delimited, "TensorProto.string_val");
                tensor.string_val.emplace_back(f.bytes);
                break;
            default: break;
        }
    }
    return tensor;
}

inline std::string parse_plugin_name(pb::FieldReader metadata) {
    std::string name;
    pb::Field f;
    while (metadata.next(f)) {
        if (f.number != 1) continue;  // plugin_data
        pb::expect_wire(f, pb::WireType::length_delimited, "SummaryMetadata.plugin_data");
        pb::FieldReader plugin_data = metadata.nested(f);
        pb::Field p;
        while (plugin_data.next(p)) {
            if (p.number == 1) {
                pb::expect_wire(p, pb::WireType::length_delimited, "PluginData.plugin_name");
                name.assign(p.bytes);
            }
        }
    }
    return name;
}

inline SummaryValue parse_summary_value(pb::FieldReader reader) {
    SummaryValue value;
    pb::Field f;
    while (reader.next(f)) {
        switch (f.number) {
            case 1:
                pb::expect_wire(f, pb::WireType::length_delimited, "Summary.Value.tag");
                value.tag.assign(f.bytes);
                break;
            case 2:
                pb::expect_wire(f, pb::WireType::fixed32, "Summary.Value.simple_value");
                value.simple_value = f.as_float();
                break;
            case 8:
                pb::expect_wire(f, pb::WireType::length_delimited, "Summary.Value.tensor");
                value.tensor = parse_tensor(reader.nested(f));
                break;
            case 9:
                pb::expect_wire(f, pb::WireType::length_delimited, "Summary.Value.metadata");
                value.plugin_name = parse_plugin_name(reader.nested(f));
                break;
            default: break;
        }
    }
    return value;
}

}  // namespace detail

// Decodes one record payload. Throws io::protobuf::parse_error on malformed input.
inline Event parse_event(std::string_view payload) {
    namespace pb = ctnn::io::protobuf;
    Event event;
    pb::FieldReader reader(payload);
    pb::Field f;
    while (reader.next(f)) {
        switch (f.number) {
            case 1:
                pb::expect_wire(f, pb::WireType::fixed64, "Event.wall_time");
                event.wall_time = f.as_double();
                break;
            case 2:
                pb::expect_wire(f, pb::WireType::varint, "Event.step");
                event.step = f.as_int64();
                break;
            case 3:
                pb::expect_wire(f, pb::WireType::length_delimited, "Event.file_version");
                event.file_version = std::string(f.bytes);
                break;
            case 5: {
                pb::expect_wire(f, pb::WireType::length_delimited, "Event.summary");
                event.has_summary = true;
                pb::FieldReader summary = reader.nested(f);
                pb::Field v;
                while (summary.next(v)) {
                    if (v.number != 1) continue;
                    pb::expect_wire(v, pb::WireType::length_delimited, "Summary.value");
                    event.values.push_back(detail::parse_summary_value(summary.nested(v)));
                }
                break;
            }
            default: break;
        }
    }
    return event;
}

struct EventFile {
    std::vector<Event> events;
    io::TFRecordStatus status = io::TFRecordStatus::clean_end;
    std::size_t stop_offset = 0;
    std::string status_text;  // e.g. "truncated trailing record at offset 1234"
};

// Reads every complete record of an event file. A truncated or CRC-damaged record ends the list and
// is reported in `status` (as TensorBoard stops there); an unreadable file or a record whose CRC is
// right but whose proto is malformed throws ctnn::file_error naming the path and the offset.
inline EventFile read_event_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw file_error(path.string(), std::string("cannot open for reading: ") + std::strerror(errno));
    const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (in.bad()) throw file_error(path.string(), "read failed");
    const io::TFRecordReadResult framing = io::read_tfrecords(bytes);
    EventFile file;
    file.status = framing.status;
    file.stop_offset = framing.stop_offset;
    file.status_text = framing.describe();
    file.events.reserve(framing.records.size());
    for (std::string_view record : framing.records) {
        const auto offset = static_cast<std::size_t>(record.data() - bytes.data()) - io::tfrecord_header_size;
        try {
            file.events.push_back(parse_event(record));
        } catch (const io::protobuf::parse_error& e) {
            throw file_error(path.string(), "record at offset " + std::to_string(offset) +
                                                " is not a valid Event: " + e.what());
        }
    }
    return file;
}

}  // namespace ctnn::tensorboard
