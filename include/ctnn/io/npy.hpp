// ctnn/io/npy.hpp — the .npy array format (numpy.lib.format) for float32 arrays.
//
// Writes format 1.0 headers byte-identical to numpy's (dict literal, 21 growth spaces, padded to a
// multiple of 64). Reads versions 1.0 and 2.0 with C or Fortran order, validating every field
// before allocating. Only little-endian float32 ('<f4') data is accepted; other dtypes are
// reported by name. Not a general numpy reader: no pickles, no structured dtypes.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "../core/error.hpp"

namespace ctnn::io {

// The decoded header of a .npy file.
struct NpyHeader {
    std::string descr;                // e.g. "<f4"
    bool fortran_order = false;
    std::vector<std::size_t> shape;   // () for a scalar
    std::size_t data_offset = 0;      // bytes before the array data
};

// A decoded float32 array, values in C (row-major) order.
struct NpyArray {
    std::vector<std::size_t> shape;
    std::vector<float> values;
};

// numpy refuses more dimensions (NPY_MAXDIMS in numpy 1.x).
inline constexpr std::size_t npy_max_dimensions = 32;

namespace detail {

// A problem found in .npy bytes; the public functions turn it into a file_error naming the source.
struct npy_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

inline constexpr std::array<std::uint8_t, 6> npy_magic = {0x93, 'N', 'U', 'M', 'P', 'Y'};

inline std::string shape_repr(std::span<const std::size_t> shape) {
    // Python's tuple repr: (), (5,), (3, 2).
    std::string text = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i > 0) text += ", ";
        text += std::to_string(shape[i]);
    }
    if (shape.size() == 1) text += ",";
    return text + ")";
}

// Product of the dimensions; false when it does not fit in size_t.
inline bool checked_element_count(std::span<const std::size_t> shape, std::size_t& count) {
    count = 1;
    for (std::size_t dimension : shape)
        if (__builtin_mul_overflow(count, dimension, &count)) return false;
    return true;
}

inline std::string printable(std::string_view text, std::size_t limit = 40) {
    std::string out;
    for (char c : text.substr(0, limit)) {
        const auto u = static_cast<unsigned char>(c);
        if (u >= 0x20 && u < 0x7f) {
            out += c;
        } else {
            static constexpr char hex[] = "0123456789abcdef";
            out += "\\x";
            out += hex[u >> 4];
            out += hex[u & 15];
        }
    }
    if (text.size() > limit) out += "...";
    return out;
}

inline std::string dtype_name(std::string_view descr) {
    struct Known {
        std::string_view descr, name;
    };
    static constexpr Known known[] = {
        {"<f4", "float32"},   {">f4", "big-endian float32"}, {"<f8", "float64"},   {">f8", "big-endian float64"},
        {"<f2", "float16"},   {"<i4", "int32"},              {"<i8", "int64"},     {"<i2", "int16"},
        {"|i1", "int8"},      {"|u1", "uint8"},              {"<u2", "uint16"},    {"<u4", "uint32"},
        {"<u8", "uint64"},    {"|b1", "bool"},               {"<c8", "complex64"}, {"<c16", "complex128"},
        {"|O", "object (pickled Python objects)"}, {"<f16", "longdouble"}};
    for (const auto& k : known)
        if (k.descr == descr) return std::string(k.name);
    return "an unsupported type";
}

// Parses the header dict literal numpy writes: {'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }
// Only the three keys numpy requires, each exactly once; string, bool and int-tuple values.
class NpyDictParser {
public:
    explicit NpyDictParser(std::string_view text) : text_(text) {}

    NpyHeader parse() {
        NpyHeader header;
        bool seen_descr = false, seen_fortran = false, seen_shape = false;
        skip_space();
        expect('{', "at the start of the header dict");
        skip_space();
        while (peek() != '}') {
            const std::string_view key = parse_string("a quoted key");
            skip_space();
            expect(':', "after key '" + std::string(key) + "'");
            skip_space();
            if (key == "descr") {
                if (seen_descr) fail("key 'descr' appears twice");
                seen_descr = true;
                if (peek() == '[')
                    fail("dtype is a structured type, expected '<f4' (float32)");
                header.descr = std::string(parse_string("a quoted dtype string after 'descr'"));
            } else if (key == "fortran_order") {
                if (seen_fortran) fail("key 'fortran_order' appears twice");
                seen_fortran = true;
                header.fortran_order = parse_bool();
            } else if (key == "shape") {
                if (seen_shape) fail("key 'shape' appears twice");
                seen_shape = true;
                header.shape = parse_shape();
            } else {
                fail("unexpected key '" + printable(key) + "' (expected 'descr', 'fortran_order', 'shape')");
            }
            skip_space();
            if (peek() == ',') {
                ++pos_;
                skip_space();
            } else if (peek() != '}') {
                fail_found("',' or '}' after the value of '" + std::string(key) + "'");
            }
        }
        ++pos_;  // '}'
        skip_space();
        if (pos_ != text_.size()) fail_found("only padding after the header dict");
        if (!seen_descr) fail("key 'descr' is missing");
        if (!seen_fortran) fail("key 'fortran_order' is missing");
        if (!seen_shape) fail("key 'shape' is missing");
        return header;
    }

private:
    char peek() const { return pos_ < text_.size() ? text_[pos_] : '\0'; }

    void skip_space() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' ||
                                       text_[pos_] == '\r'))
            ++pos_;
    }

    [[noreturn]] void fail(const std::string& problem) const { throw npy_error("header: " + problem); }

    [[noreturn]] void fail_found(const std::string& expected) const {
        if (pos_ >= text_.size()) fail("expected " + expected + " at offset " + std::to_string(pos_) + ", found the end");
        fail("expected " + expected + " at offset " + std::to_string(pos_) + ", found '" +
             printable(text_.substr(pos_), 12) + "'");
    }

    void expect(char c, const std::string& where) {
        if (peek() != c || pos_ >= text_.size()) fail_found(std::string("'") + c + "' " + where);
        ++pos_;
    }

    std::string_view parse_string(const std::string& what) {
        const char quote = peek();
        if (quote != '\'' && quote != '"') fail_found(what);
        const std::size_t start = ++pos_;
        while (pos_ < text_.size() && text_[pos_] != quote) {
            if (text_[pos_] == '\\') fail("escape sequences in strings are not supported");
            ++pos_;
        }
        if (pos_ >= text_.size()) fail("unterminated string starting at offset " + std::to_string(start - 1));
        return text_.substr(start, pos_++ - start);
    }

    bool parse_bool() {
        if (text_.substr(pos_).starts_with("True")) {
            pos_ += 4;
            return true;
        }
        if (text_.substr(pos_).starts_with("False")) {
            pos_ += 5;
            return false;
        }
        fail_found("True or False after 'fortran_order'");
    }

    std::vector<std::size_t> parse_shape() {
        expect('(', "to open the 'shape' tuple");
        std::vector<std::size_t> shape;
        skip_space();
        while (peek() != ')') {
            if (peek() == '-') fail("shape has a negative dimension");
            if (peek() < '0' || peek() > '9') fail_found("a dimension (non-negative integer) in 'shape'");
            std::size_t value = 0;
            while (peek() >= '0' && peek() <= '9') {
                const auto digit = static_cast<std::size_t>(peek() - '0');
                if (__builtin_mul_overflow(value, std::size_t{10}, &value) ||
                    __builtin_add_overflow(value, digit, &value))
                    fail("a dimension in 'shape' does not fit in 64 bits");
                ++pos_;
            }
            if (shape.size() == npy_max_dimensions)
                fail("shape has more than " + std::to_string(npy_max_dimensions) + " dimensions");
            shape.push_back(value);
            skip_space();
            if (peek() == ',') {
                ++pos_;
                skip_space();
            } else if (peek() != ')') {
                fail_found("',' or ')' in 'shape'");
            } else if (shape.size() == 1) {
                // "(5)" is an int in Python, not a tuple.
                fail("'shape' is '(" + std::to_string(value) + ")', not a tuple (a 1-D shape is written '(" +
                     std::to_string(value) + ",)')");
            }
        }
        ++pos_;
        return shape;
    }

    std::string_view text_;
    std::size_t pos_ = 0;
};

inline NpyHeader parse_npy_header(std::span<const std::uint8_t> bytes) {
    if (bytes.size() < 10) throw npy_error("too short for a .npy header (" + std::to_string(bytes.size()) + " bytes)");
    for (std::size_t i = 0; i < npy_magic.size(); ++i)
        if (bytes[i] != npy_magic[i]) throw npy_error("not a .npy array (bad magic string)");
    const unsigned major = bytes[6], minor = bytes[7];
    std::size_t length_size = 0;
    if (major == 1 && minor == 0) length_size = 2;
    else if (major == 2 && minor == 0) length_size = 4;
    else
        throw npy_error("format version " + std::to_string(major) + "." + std::to_string(minor) +
                        " is not supported (expected 1.0 or 2.0)");
    const std::size_t prefix = 8 + length_size;
    if (bytes.size() < prefix) throw npy_error("truncated in the header length");
    std::uint64_t header_length = 0;
    for (std::size_t i = 0; i < length_size; ++i) header_length |= std::uint64_t{bytes[8 + i]} << (8 * i);
    if (header_length > bytes.size() - prefix)
        throw npy_error("header length is " + std::to_string(header_length) + " bytes but only " +
                        std::to_string(bytes.size() - prefix) + " follow (truncated?)");
    const std::string_view text(reinterpret_cast<const char*>(bytes.data() + prefix),
                                static_cast<std::size_t>(header_length));
    NpyHeader header = NpyDictParser(text).parse();
    header.data_offset = prefix + static_cast<std::size_t>(header_length);
    return header;
}

inline NpyArray decode_npy(std::span<const std::uint8_t> bytes) {
    NpyHeader header = parse_npy_header(bytes);
    if (header.descr != "<f4")
        throw npy_error("dtype is '" + printable(header.descr) + "', expected '<f4' (float32): the array holds " +
                        dtype_name(header.descr) + "; convert it with .astype(numpy.float32)");
    std::size_t count = 0;
    if (!checked_element_count(header.shape, count) || count > std::numeric_limits<std::size_t>::max() / 4)
        throw npy_error("shape " + shape_repr(header.shape) + " has more elements than fit in memory");
    const std::size_t data_size = bytes.size() - header.data_offset;
    if (data_size != count * 4)
        throw npy_error("data is " + std::to_string(data_size) + " bytes, expected " + std::to_string(count * 4) +
                        " for shape " + shape_repr(header.shape) + " of float32" +
                        (data_size < count * 4 ? " (truncated?)" : ""));
    NpyArray array;
    array.shape = std::move(header.shape);
    array.values.resize(count);
    const std::uint8_t* data = bytes.data() + header.data_offset;
    auto value_at = [data](std::size_t i) {
        const std::uint8_t* p = data + 4 * i;
        return std::bit_cast<float>(static_cast<std::uint32_t>(p[0] | (p[1] << 8) | (p[2] << 16)) |
                                    (static_cast<std::uint32_t>(p[3]) << 24));
    };
    if (!header.fortran_order || array.shape.size() < 2) {
        for (std::size_t i = 0; i < count; ++i) array.values[i] = value_at(i);
        return array;
    }
    // Fortran order: the first index varies fastest on disk. Walk the disk order while keeping the
    // matching C-order offset up to date with an odometer over the dimensions.
    const std::size_t rank = array.shape.size();
    std::vector<std::size_t> c_stride(rank, 1), index(rank, 0);
    for (std::size_t d = rank - 1; d > 0; --d) c_stride[d - 1] = c_stride[d] * array.shape[d];
    std::size_t c_offset = 0;
    for (std::size_t i = 0; i < count; ++i) {
        array.values[c_offset] = value_at(i);
        for (std::size_t d = 0; d < rank; ++d) {
            c_offset += c_stride[d];
            if (++index[d] < array.shape[d]) break;
            c_offset -= c_stride[d] * array.shape[d];
            index[d] = 0;
        }
    }
    return array;
}

}  // namespace detail

// The complete header numpy 1.24 writes for a C-order array of this shape and dtype (format 1.0):
// magic, version, length, dict, 21 - len(str(shape[0])) growth spaces, padding to a multiple of 64, '\n'.
// `descr` is a numpy type string such as "<f4" (the default), "<f8", "<i8", "<u8" or "|u1".
inline std::vector<std::uint8_t> encode_npy_header(std::span<const std::size_t> shape, std::string_view descr = "<f4") {
    if (shape.size() > npy_max_dimensions)
        throw std::invalid_argument("encode_npy_header: " + std::to_string(shape.size()) +
                                    " dimensions, numpy allows at most " + std::to_string(npy_max_dimensions));
    std::string dict = "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': " + detail::shape_repr(shape) + ", }";
    if (!shape.empty()) {
        const std::size_t digits = std::to_string(shape[0]).size();
        dict.append(digits < 21 ? 21 - digits : 0, ' ');
    }
    constexpr std::size_t prefix = 10;  // magic (6) + version (2) + length (2)
    const std::size_t with_newline = dict.size() + 1;
    const std::size_t padding = 64 - (prefix + with_newline) % 64;
    const std::size_t header_length = with_newline + padding;  // < 65536: at most 32 dimensions of 20 digits
    std::vector<std::uint8_t> bytes(detail::npy_magic.begin(), detail::npy_magic.end());
    bytes.push_back(1);
    bytes.push_back(0);
    bytes.push_back(static_cast<std::uint8_t>(header_length & 0xff));
    bytes.push_back(static_cast<std::uint8_t>(header_length >> 8));
    bytes.insert(bytes.end(), dict.begin(), dict.end());
    bytes.insert(bytes.end(), padding, ' ');
    bytes.push_back('\n');
    return bytes;
}

// A whole .npy file: header + little-endian float32 values in C order.
inline std::vector<std::uint8_t> encode_npy(std::span<const std::size_t> shape, std::span<const float> values) {
    std::size_t count = 0;
    if (!detail::checked_element_count(shape, count) || count != values.size())
        throw std::invalid_argument("encode_npy: shape " + detail::shape_repr(shape) + " does not hold " +
                                    std::to_string(values.size()) + " values");
    std::vector<std::uint8_t> bytes = encode_npy_header(shape);
    const std::size_t offset = bytes.size();
    bytes.resize(offset + 4 * values.size());
    std::uint8_t* out = bytes.data() + offset;
    for (float value : values) {
        const auto bits = std::bit_cast<std::uint32_t>(value);
        out[0] = static_cast<std::uint8_t>(bits);
        out[1] = static_cast<std::uint8_t>(bits >> 8);
        out[2] = static_cast<std::uint8_t>(bits >> 16);
        out[3] = static_cast<std::uint8_t>(bits >> 24);
        out += 4;
    }
    return bytes;
}

// Any-dtype array as its raw little-endian bytes (C order only), for the training-state files
// (core/training_state.hpp), whose integer and float64 arrays a float32 reader cannot hold.
struct NpyRaw {
    std::string descr;
    std::vector<std::size_t> shape;
    std::vector<std::uint8_t> data;
};

namespace detail {
// Bytes per element of the dtypes the raw reader accepts; 0 for any other.
inline std::size_t raw_item_size(std::string_view descr) {
    if (descr == "<f4") return 4;
    if (descr == "<f8" || descr == "<i8" || descr == "<u8") return 8;
    if (descr == "|u1") return 1;
    return 0;
}
inline NpyRaw decode_npy_raw(std::span<const std::uint8_t> bytes) {
    NpyHeader header = parse_npy_header(bytes);
    const std::size_t item = raw_item_size(header.descr);
    if (item == 0)
        throw npy_error("dtype is '" + printable(header.descr) + "' (" + dtype_name(header.descr) +
                        "), expected one of '<f4', '<f8', '<i8', '<u8', '|u1'");
    if (header.fortran_order && header.shape.size() >= 2) throw npy_error("Fortran order is not accepted here");
    std::size_t count = 0;
    if (!checked_element_count(header.shape, count) || count > std::numeric_limits<std::size_t>::max() / item)
        throw npy_error("shape " + shape_repr(header.shape) + " has more elements than fit in memory");
    const std::size_t data_size = bytes.size() - header.data_offset;
    if (data_size != count * item)
        throw npy_error("data is " + std::to_string(data_size) + " bytes, expected " + std::to_string(count * item) +
                        " for shape " + shape_repr(header.shape) + " of " + dtype_name(header.descr));
    return {std::move(header.descr), std::move(header.shape),
            std::vector<std::uint8_t>(bytes.begin() + static_cast<std::ptrdiff_t>(header.data_offset), bytes.end())};
}
}  // namespace detail

// Header only; `source` (a path or "archive.npz: array 'x'") begins every error message.
inline NpyHeader parse_npy_header(std::span<const std::uint8_t> bytes, const std::string& source) {
    try {
        return detail::parse_npy_header(bytes);
    } catch (const detail::npy_error& e) {
        throw file_error(source, e.what());
    }
}

// A whole float32 .npy file. Throws ctnn::file_error(source, ...) for anything malformed, including
// another dtype ("dtype is '<f8', expected '<f4' (float32): ...").
inline NpyArray decode_npy(std::span<const std::uint8_t> bytes, const std::string& source) {
    try {
        return detail::decode_npy(bytes);
    } catch (const detail::npy_error& e) {
        throw file_error(source, e.what());
    }
}

}  // namespace ctnn::io
