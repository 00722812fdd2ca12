// ctnn/io/protobuf.hpp — just enough of the protobuf wire format to write and check TensorBoard events.
//
// Encoder: free functions appending varint / fixed32 / fixed64 / length-delimited fields to a
// std::string, little-endian regardless of the host; nested messages are back-patched in place so a
// reused buffer does not allocate. Decoder: `FieldReader`, a bounds-checked walker over one message's
// fields that throws `protobuf::parse_error` on malformed input. No schemas, groups or reflection.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace ctnn::io::protobuf {

enum class WireType : std::uint8_t { varint = 0, fixed64 = 1, length_delimited = 2, fixed32 = 5 };

inline constexpr std::uint32_t max_field_number = (1u << 29) - 1;
inline constexpr std::size_t max_varint_size = 10;  // 64 bits / 7 bits per byte, rounded up

// ---------------------------------------------------------------------------------------- encoder

// Each primitive builds its bytes locally and appends them at once: per-byte push_back was the
// main cost of encoding a scalar event.
inline std::size_t encode_varint(char (&buffer)[max_varint_size], std::uint64_t value) {
    std::size_t size = 0;
    while (value >= 0x80) {
        buffer[size++] = static_cast<char>((value & 0x7F) | 0x80);
        value >>= 7;
    }
    buffer[size++] = static_cast<char>(value);
    return size;
}

inline void append_varint(std::string& out, std::uint64_t value) {
    char buffer[max_varint_size];
    out.append(buffer, encode_varint(buffer, value));
}

inline void append_tag(std::string& out, std::uint32_t field, WireType wire) {
    append_varint(out, (static_cast<std::uint64_t>(field) << 3) | static_cast<std::uint64_t>(wire));
}

inline void append_fixed32(std::string& out, std::uint32_t value) {
    char buffer[4];
    for (int i = 0; i < 4; ++i) buffer[i] = static_cast<char>((value >> (8 * i)) & 0xFF);
    out.append(buffer, 4);
}

inline void append_fixed64(std::string& out, std::uint64_t value) {
    char buffer[8];
    for (int i = 0; i < 8; ++i) buffer[i] = static_cast<char>((value >> (8 * i)) & 0xFF);
    out.append(buffer, 8);
}

// int64 fields (e.g. Event.step) are plain two's-complement varints: negative values take 10 bytes.
inline void append_varint_field(std::string& out, std::uint32_t field, std::uint64_t value) {
    append_tag(out, field, WireType::varint);
    append_varint(out, value);
}

inline void append_int64_field(std::string& out, std::uint32_t field, std::int64_t value) {
    append_varint_field(out, field, static_cast<std::uint64_t>(value));
}

inline void append_fixed32_field(std::string& out, std::uint32_t field, std::uint32_t value) {
    append_tag(out, field, WireType::fixed32);
    append_fixed32(out, value);
}

inline void append_fixed64_field(std::string& out, std::uint32_t field, std::uint64_t value) {
    append_tag(out, field, WireType::fixed64);
    append_fixed64(out, value);
}

// Bit patterns are kept exactly: NaN payloads and signed zeros survive.
inline void append_float_field(std::string& out, std::uint32_t field, float value) {
    append_fixed32_field(out, field, std::bit_cast<std::uint32_t>(value));
}

inline void append_double_field(std::string& out, std::uint32_t field, double value) {
    append_fixed64_field(out, field, std::bit_cast<std::uint64_t>(value));
}

inline void append_bytes_field(std::string& out, std::uint32_t field, std::string_view bytes) {
    append_tag(out, field, WireType::length_delimited);
    append_varint(out, bytes.size());
    out.append(bytes);
}

// Nested message: `auto mark = begin_nested(out, 5); ...fields...; end_nested(out, mark);`.
// One length byte is reserved; end_nested widens it in place when the body is >= 128 bytes.
inline std::size_t begin_nested(std::string& out, std::uint32_t field) {
    append_tag(out, field, WireType::length_delimited);
    out.push_back('\0');
    return out.size();  // first byte of the body
}

inline void end_nested(std::string& out, std::size_t body_start) {
    const std::uint64_t length = out.size() - body_start;
    if (length < 0x80) {  // the common case: the reserved byte is enough
        out[body_start - 1] = static_cast<char>(length);
        return;
    }
    char encoded[max_varint_size];
    const std::size_t encoded_size = encode_varint(encoded, length);
    out.insert(body_start, encoded_size - 1, '\0');
    out.replace(body_start - 1, encoded_size, encoded, encoded_size);
}

// Packed repeated fixed-width fields (proto3 default for repeated float/double).
inline void append_packed_floats(std::string& out, std::uint32_t field, std::span<const float> values) {
    append_tag(out, field, WireType::length_delimited);
    append_varint(out, values.size() * 4);
    for (float v : values) append_fixed32(out, std::bit_cast<std::uint32_t>(v));
}

inline void append_packed_doubles(std::string& out, std::uint32_t field, std::span<const double> values) {
    append_tag(out, field, WireType::length_delimited);
    append_varint(out, values.size() * 8);
    for (double v : values) append_fixed64(out, std::bit_cast<std::uint64_t>(v));
}

// ---------------------------------------------------------------------------------------- decoder

class parse_error : public std::runtime_error {
public:
    parse_error(std::size_t offset, const std::string& problem)
        : std::runtime_error("protobuf: at byte " + std::to_string(offset) + ": " + problem), offset_(offset) {}
    std::size_t offset() const noexcept { return offset_; }

private:
    std::size_t offset_;
};

inline std::uint32_t load_le32(const char* p) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
}

inline std::uint64_t load_le64(const char* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
}

// One decoded field. `bytes` views the payload inside the message being read: the body of a
// length-delimited field, or the 4/8 raw bytes of a fixed field. Valid while the message is.
struct Field {
    std::uint32_t number = 0;
    WireType wire = WireType::varint;
    std::uint64_t varint = 0;  // wire == varint
    std::string_view bytes;    // wire == length_delimited, fixed32, fixed64
    std::size_t offset = 0;    // of the tag, within the message

    std::int64_t as_int64() const { return static_cast<std::int64_t>(varint); }
    std::uint32_t as_fixed32() const {
        check_width(4);
        return load_le32(bytes.data());
    }
    std::uint64_t as_fixed64() const {
        check_width(8);
        return load_le64(bytes.data());
    }
    float as_float() const { return std::bit_cast<float>(as_fixed32()); }
    double as_double() const { return std::bit_cast<double>(as_fixed64()); }

private:
    // Reading a varint or length-delimited field as a fixed one would read the wrong bytes.
    void check_width(std::size_t width) const;
};

inline void Field::check_width(std::size_t width) const {
    const WireType expected = width == 4 ? WireType::fixed32 : WireType::fixed64;
    if (wire != expected || bytes.size() != width)
        throw parse_error(offset, "field " + std::to_string(number) + ": expected a " + std::to_string(width) +
                                      "-byte fixed field, found another wire type");
}

inline const char* wire_type_name(WireType wire) {
    switch (wire) {
        case WireType::varint: return "varint";
        case WireType::fixed64: return "fixed64";
        case WireType::length_delimited: return "length-delimited";
        case WireType::fixed32: return "fixed32";
    }
    return "unknown";
}

// Walks the top-level fields of one message: `FieldReader r(msg); Field f; while (r.next(f)) ...`.
// Every length is checked against the bytes that remain before it is used.
class FieldReader {
public:
    explicit FieldReader(std::string_view message, std::size_t base_offset = 0)
        : message_(message), base_(base_offset) {}
    // The reader keeps a view: a temporary string would dangle.
    explicit FieldReader(std::string&&, std::size_t = 0) = delete;

    bool next(Field& field) {
        if (pos_ >= message_.size()) return false;
        field = Field{};
        field.offset = base_ + pos_;
        const std::uint64_t key = read_varint("field tag");
        const auto wire = static_cast<std::uint32_t>(key & 7);
        const std::uint64_t number = key >> 3;
        if (number == 0 || number > max_field_number)
            throw parse_error(field.offset, "expected a field number in 1..2^29-1, found " + std::to_string(number));
        field.number = static_cast<std::uint32_t>(number);
        switch (wire) {
            case 0:
                field.wire = WireType::varint;
                field.varint = read_varint("varint field value");
                break;
            case 1:
                field.wire = WireType::fixed64;
                field.bytes = take(8, "fixed64 field value");
                break;
            case 2: {
                field.wire = WireType::length_delimited;
                const std::uint64_t length = read_varint("length prefix");
                field.bytes = take(length, "length-delimited field body");
                break;
            }
            case 5:
                field.wire = WireType::fixed32;
                field.bytes = take(4, "fixed32 field value");
                break;
            default:
                throw parse_error(field.offset, "field " + std::to_string(number) +
                                                    ": expected wire type 0, 1, 2 or 5, found " +
                                                    std::to_string(wire) + " (groups are not supported)");
        }
        return true;
    }

    // Offset (within the outermost message) of the next unread byte, e.g. for a nested reader.
    std::size_t offset() const noexcept { return base_ + pos_; }

    // A reader over the body of a length-delimited field this reader returned; its offsets (in
    // errors) stay relative to the outermost message.
    FieldReader nested(const Field& field) const {
        return FieldReader(field.bytes, base_ + static_cast<std::size_t>(field.bytes.data() - message_.data()));
    }

private:
    std::uint64_t read_varint(const char* what) {
        std::uint64_t value = 0;
        for (std::size_t i = 0; i < max_varint_size; ++i) {
            if (pos_ >= message_.size())
                throw parse_error(base_ + pos_, std::string("truncated varint (") + what + ")");
            const auto byte = static_cast<unsigned char>(message_[pos_++]);
            if (i == 9 && byte > 1)
                throw parse_error(base_ + pos_ - 1, std::string("varint overflows 64 bits (") + what + ")");
            value |= static_cast<std::uint64_t>(byte & 0x7F) << (7 * i);
            if (!(byte & 0x80)) return value;
        }
        throw parse_error(base_ + pos_, std::string("varint longer than 10 bytes (") + what + ")");
    }

    std::string_view take(std::uint64_t length, const char* what) {
        const std::size_t remaining = message_.size() - pos_;
        if (length > remaining)
            throw parse_error(base_ + pos_, std::string(what) + ": expected " + std::to_string(length) +
                                                " bytes, found " + std::to_string(remaining));
        const std::string_view result = message_.substr(pos_, static_cast<std::size_t>(length));
        pos_ += static_cast<std::size_t>(length);
        return result;
    }

    std::string_view message_;
    std::size_t base_;
    std::size_t pos_ = 0;
};

// Throws unless `field` has the wire type a schema expects (e.g. Event.wall_time must be fixed64).
inline void expect_wire(const Field& field, WireType expected, const char* name) {
    if (field.wire != expected)
        throw parse_error(field.offset, std::string(name) + " (field " + std::to_string(field.number) +
                                            "): expected wire type " + wire_type_name(expected) + ", found " +
                                            wire_type_name(field.wire));
}

}  // namespace ctnn::io::protobuf
