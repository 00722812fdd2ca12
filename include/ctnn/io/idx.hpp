// ctnn/io/idx.hpp — reading IDX files (the MNIST format), raw or gzipped, into typed byte arrays.
//
// IDX: bytes 0-1 are zero, byte 2 the element type, byte 3 the number of dimensions, then one
// big-endian uint32 per dimension, then the elements row-major, big-endian. Every header field is
// checked against the bytes actually present before anything is allocated for the data. This
// header only decodes; turning images into a Matrix is datasets/mnist.hpp's job.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "ctnn/core/error.hpp"
#include "ctnn/io/gzip.hpp"

namespace ctnn::io {

// IDX element type codes (byte 2 of the magic number).
namespace idx_type {
inline constexpr std::uint8_t unsigned_byte = 0x08;
inline constexpr std::uint8_t signed_byte = 0x09;
inline constexpr std::uint8_t int16 = 0x0B;
inline constexpr std::uint8_t int32 = 0x0C;
inline constexpr std::uint8_t float32 = 0x0D;
inline constexpr std::uint8_t float64 = 0x0E;
}  // namespace idx_type

// Bytes per element of an IDX type code, 0 for a code IDX does not define.
inline constexpr std::size_t idx_element_size(std::uint8_t type_code) noexcept {
    switch (type_code) {
        case idx_type::unsigned_byte: return 1;
        case idx_type::signed_byte: return 1;
        case idx_type::int16: return 2;
        case idx_type::int32: return 4;
        case idx_type::float32: return 4;
        case idx_type::float64: return 8;
        default: return 0;
    }
}

inline constexpr const char* idx_type_name(std::uint8_t type_code) noexcept {
    switch (type_code) {
        case idx_type::unsigned_byte: return "unsigned byte";
        case idx_type::signed_byte: return "signed byte";
        case idx_type::int16: return "int16";
        case idx_type::int32: return "int32";
        case idx_type::float32: return "float32";
        case idx_type::float64: return "float64";
        default: return "unknown";
    }
}

// Largest data section read_idx/parse_idx accept unless told otherwise: MNIST's biggest file is 47 MB.
inline constexpr std::size_t idx_default_max_data_bytes = std::size_t{2} << 30;  // 2 GiB
// MNIST uses 1 (labels) and 3 (images); more than 4 is refused as implausible.
inline constexpr std::size_t idx_max_dims = 4;
// Deflate emits at most 258 bytes per 2 bits of input: no gzip stream inflates beyond ~1032 times its size.
inline constexpr std::size_t deflate_max_ratio = 1032;

struct IdxArray {
    std::uint8_t type_code = idx_type::unsigned_byte;
    std::vector<std::size_t> dims;   // e.g. (60000, 28, 28) for MNIST training images
    std::vector<std::uint8_t> data;  // (prod(dims) * element size) bytes, row-major, multi-byte
                                     // elements converted to host byte order (memcpy them out)

    std::size_t element_size() const noexcept { return idx_element_size(type_code); }
    std::size_t element_count() const noexcept {
        std::size_t count = 1;
        for (std::size_t d : dims) count *= d;  // cannot overflow: checked when parsed
        return count;
    }
};

// What the header says, validated: the data section is data_bytes long and starts at header_bytes.
struct IdxHeader {
    std::uint8_t type_code = 0;
    std::vector<std::size_t> dims;
    std::size_t header_bytes = 0;
    std::size_t data_bytes = 0;
};

namespace detail {

inline std::string hex_byte(std::uint8_t b) {
    static constexpr char digits[] = "0123456789abcdef";
    return std::string{'0', 'x', digits[b >> 4], digits[b & 0xf]};
}

inline std::string dims_text(const std::vector<std::size_t>& dims) {
    std::string text;
    for (std::size_t i = 0; i < dims.size(); ++i) text += (i ? " x " : "") + std::to_string(dims[i]);
    return text;
}

inline constexpr std::size_t idx_max_header_bytes = 4 + 4 * idx_max_dims;

// Decodes and checks the header from the first bytes of a file (the data may be absent).
inline IdxHeader parse_idx_header(std::span<const std::uint8_t> bytes, const std::string& name,
                                  std::size_t max_data_bytes) {
    if (bytes.size() < 4)
        throw file_error(name, "truncated: an IDX header needs at least 4 bytes, file has " +
                                   std::to_string(bytes.size()));
    if (bytes[0] != 0 || bytes[1] != 0)
        throw file_error(name, "not an IDX file: bad magic " + hex_byte(bytes[0]) + " " + hex_byte(bytes[1]) + " " +
                                   hex_byte(bytes[2]) + " " + hex_byte(bytes[3]) +
                                   ", expected 0x00 0x00 <type> <number of dimensions>");
    IdxHeader header;
    header.type_code = bytes[2];
    const std::size_t element_size = idx_element_size(header.type_code);
    if (element_size == 0)
        throw file_error(name, "unsupported IDX element type " + hex_byte(header.type_code) +
                                   " in the magic number, expected 0x08 (unsigned byte), 0x09 (signed byte), "
                                   "0x0b (int16), 0x0c (int32), 0x0d (float32) or 0x0e (float64)");
    const std::size_t ndims = bytes[3];
    if (ndims < 1 || ndims > idx_max_dims)
        throw file_error(name, "IDX header declares " + std::to_string(ndims) + " dimensions, expected 1 to " +
                                   std::to_string(idx_max_dims));
    header.header_bytes = 4 + 4 * ndims;
    if (bytes.size() < header.header_bytes)
        throw file_error(name, "truncated: the IDX header of " + std::to_string(ndims) + " dimensions needs " +
                                   std::to_string(header.header_bytes) + " bytes, file has " +
                                   std::to_string(bytes.size()));
    std::size_t count = 1;
    bool overflow = false;
    for (std::size_t i = 0; i < ndims; ++i) {
        const std::uint8_t* p = bytes.data() + 4 + 4 * i;
        const std::size_t dim = (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) | (std::size_t{p[2]} << 8) | p[3];
        header.dims.push_back(dim);
        if (dim != 0 && count > SIZE_MAX / dim) overflow = true;
        else count *= dim;
    }
    if (overflow || count > SIZE_MAX / element_size)
        throw file_error(name, "IDX header dimensions " + dims_text(header.dims) +
                                   " overflow: their product does not fit in a 64-bit size");
    header.data_bytes = count * element_size;
    if (header.data_bytes > max_data_bytes)
        throw file_error(name, "IDX header declares " + std::to_string(header.data_bytes) + " bytes of data (" +
                                   dims_text(header.dims) + " " + idx_type_name(header.type_code) +
                                   "), more than the limit of " + std::to_string(max_data_bytes) + " bytes");
    return header;
}

// Validates a whole raw IDX file held in `bytes` and turns it into an IdxArray without a copy.
inline IdxArray parse_idx_owned(std::vector<std::uint8_t>&& bytes, const std::string& name,
                                std::size_t max_data_bytes) {
    IdxHeader header = parse_idx_header(bytes, name, max_data_bytes);
    const std::size_t present = bytes.size() - header.header_bytes;
    if (present < header.data_bytes)
        throw file_error(name, "truncated: header declares " + std::to_string(header.data_bytes) +
                                   " bytes of data, file has " + std::to_string(present) + " (dimensions " +
                                   dims_text(header.dims) + ")");
    if (present > header.data_bytes)
        throw file_error(name, std::to_string(present - header.data_bytes) +
                                   " bytes of trailing garbage: header declares " +
                                   std::to_string(header.data_bytes) + " bytes of data, file has " +
                                   std::to_string(present));
    bytes.erase(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(header.header_bytes));
    const std::size_t width = idx_element_size(header.type_code);
    if constexpr (std::endian::native == std::endian::little) {
        if (width > 1)
            for (std::size_t at = 0; at < bytes.size(); at += width) std::reverse(&bytes[at], &bytes[at] + width);
    }
    return IdxArray{header.type_code, std::move(header.dims), std::move(bytes)};
}

// Inflates just enough of a gzipped IDX file to read its header, refuses headers the compressed
// size cannot back, then inflates exactly the declared size (never more).
inline IdxArray parse_gzipped_idx(std::span<const std::uint8_t> compressed, const std::string& name,
                                  std::size_t max_data_bytes) {
    const InflatedPrefix head = inflate_gzip_prefix(compressed, idx_max_header_bytes, name);
    const IdxHeader header = parse_idx_header(head.bytes, name, max_data_bytes);
    const std::size_t total = header.header_bytes + header.data_bytes;  // <= 2 GiB + 20: no overflow
    if (total / deflate_max_ratio > compressed.size())
        throw file_error(name, "IDX header declares " + std::to_string(header.data_bytes) + " bytes of data (" +
                                   dims_text(header.dims) + "), but " + std::to_string(compressed.size()) +
                                   " bytes of gzip can inflate to at most about " +
                                   std::to_string(compressed.size() * deflate_max_ratio) +
                                   " (deflate's ratio is at most 1032:1): truncated or hostile header");
    InflatedPrefix whole = inflate_gzip_prefix(compressed, total, name);
    if (whole.exceeded_limit)
        throw file_error(name, "trailing garbage: header declares " + std::to_string(header.data_bytes) +
                                   " bytes of data, the inflated file is longer than " + std::to_string(total) +
                                   " bytes");
    return parse_idx_owned(std::move(whole.bytes), name, max_data_bytes);
}

}  // namespace detail

// Parses a complete raw (not gzipped) IDX file held in memory; `name` starts every error message.
inline IdxArray parse_idx(std::span<const std::uint8_t> bytes, const std::string& name,
                          std::size_t max_data_bytes = idx_default_max_data_bytes) {
    detail::parse_idx_header(bytes, name, max_data_bytes);  // validate before copying anything
    return detail::parse_idx_owned(std::vector<std::uint8_t>(bytes.begin(), bytes.end()), name, max_data_bytes);
}

// Parses an IDX file held in memory, gzipped (detected by the 1f 8b magic) or raw.
inline IdxArray decode_idx(std::span<const std::uint8_t> bytes, const std::string& name,
                           std::size_t max_data_bytes = idx_default_max_data_bytes) {
    if (is_gzip(bytes)) return detail::parse_gzipped_idx(bytes, name, max_data_bytes);
    return parse_idx(bytes, name, max_data_bytes);
}

// Reads an IDX file from disk, gzipped or raw (by content, not by extension).
inline IdxArray read_idx(const std::filesystem::path& path, std::size_t max_data_bytes = idx_default_max_data_bytes) {
    // A raw file is header + data; a gzipped one is smaller (or a hair larger if incompressible).
    const std::size_t max_file_bytes =
        detail::saturating_add(max_data_bytes, max_data_bytes / 256 + 1024 + detail::idx_max_header_bytes);
    std::vector<std::uint8_t> bytes = read_file_bytes(path, max_file_bytes);
    if (is_gzip(bytes)) return detail::parse_gzipped_idx(bytes, path.string(), max_data_bytes);
    return detail::parse_idx_owned(std::move(bytes), path.string(), max_data_bytes);
}

}  // namespace ctnn::io
