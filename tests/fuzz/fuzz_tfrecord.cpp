// libFuzzer target: TFRecord framing + protobuf field walker + Event decoder over arbitrary bytes.
// Must never crash, hang or read out of bounds; malformed input may only produce a status or a
// protobuf::parse_error. Built by tests/fuzz/run_fuzz.sh (clang++ -fsanitize=fuzzer,address,undefined).
#include "ctnn/io/protobuf.hpp"
#include "ctnn/io/tfrecord.hpp"
#include "ctnn/tensorboard/event_reader.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

namespace {

namespace pb = ctnn::io::protobuf;

// Walks every field, recursing into length-delimited ones as if they were messages (most are not:
// that is the point), with a depth limit so nesting cannot exhaust the stack.
void walk(std::string_view message, int depth) {
    try {
        pb::FieldReader reader(message);
        pb::Field field;
        while (reader.next(field)) {
            if (field.wire == pb::WireType::length_delimited && depth < 8) walk(field.bytes, depth + 1);
            if (field.wire == pb::WireType::fixed64) (void)field.as_double();
            if (field.wire == pb::WireType::fixed32) (void)field.as_float();
        }
    } catch (const pb::parse_error&) {
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view bytes(reinterpret_cast<const char*>(data), size);
    const auto framing = ctnn::io::read_tfrecords(bytes);

    // Invariants of the reader: records tile the prefix up to stop_offset.
    std::size_t expected_offset = 0;
    for (std::string_view record : framing.records) {
        if (static_cast<std::size_t>(record.data() - bytes.data()) != expected_offset + ctnn::io::tfrecord_header_size)
            std::abort();
        expected_offset += ctnn::io::tfrecord_overhead + record.size();
    }
    if (expected_offset != framing.stop_offset || framing.stop_offset > size) std::abort();
    if (framing.clean() != (framing.stop_offset == size)) std::abort();
    (void)framing.describe();

    for (std::string_view record : framing.records) {
        walk(record, 0);
        try {
            const auto event = ctnn::tensorboard::parse_event(record);
            for (const auto& value : event.values)
                if (value.tensor) {
                    (void)value.tensor->scalar_float();
                    (void)value.tensor->doubles();
                }
        } catch (const pb::parse_error&) {
        }
    }
    // Unframed bytes too: the fuzzer rarely gets CRCs right, so also feed the payload walker directly.
    walk(bytes, 0);
    try {
        (void)ctnn::tensorboard::parse_event(bytes);
    } catch (const pb::parse_error&) {
    }
    // Re-framing what was read must give back the same bytes.
    std::string reframed;
    for (std::string_view record : framing.records) ctnn::io::append_tfrecord_frame(reframed, record);
    if (reframed != bytes.substr(0, framing.stop_offset)) std::abort();
    return 0;
}
