// ctnn/io/gzip.hpp — whole-file reads and bounded gzip decompression through zlib.
//
// Every function takes a byte limit and grows its output only as real data arrives, so a hostile
// file can make ctnn do work proportional to its actual size, never allocate what a header claims.
// This is not a streaming API: data sets we read (MNIST, ~50 MB inflated) fit in memory.
#pragma once

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <system_error>
#include <vector>

#include <zlib.h>

#include "ctnn/core/error.hpp"

namespace ctnn::io {

namespace detail {

// Output and read granularity: large enough to be fast, small enough that a lie costs nothing.
inline constexpr std::size_t io_chunk_bytes = std::size_t{64} << 10;

inline std::size_t saturating_add(std::size_t a, std::size_t b) noexcept {
    return a > SIZE_MAX - b ? SIZE_MAX : a + b;
}

struct FileCloser {
    void operator()(std::FILE* file) const noexcept { std::fclose(file); }
};

struct InflateEnder {
    void operator()(z_stream* stream) const noexcept { inflateEnd(stream); }
};

// What inflate_gzip_prefix produced: at most `limit` bytes, and whether the stream had more.
struct InflatedPrefix {
    std::vector<std::uint8_t> bytes;
    bool exceeded_limit = false;
};

// Inflates a gzip stream (several concatenated members are one stream, as gzip(1) treats them)
// until it ends or `limit` bytes are out. Stopping early is not an error here: callers decide.
inline InflatedPrefix inflate_gzip_prefix(std::span<const std::uint8_t> compressed, std::size_t limit,
                                          const std::string& name) {
    if (compressed.empty()) throw file_error(name, "truncated gzip stream: the file is empty");
    limit = std::min(limit, SIZE_MAX - 1);  // we ask zlib for limit + 1 bytes to see if more follow

    z_stream stream{};
    if (inflateInit2(&stream, 16 + MAX_WBITS) != Z_OK)  // 16+: accept the gzip wrapper only
        throw file_error(name, "cannot start zlib inflate (out of memory?)");
    std::unique_ptr<z_stream, InflateEnder> guard(&stream);

    // avail_in is 32 bits, so input larger than 4 GiB is fed in slices.
    std::size_t fed = 0;
    auto feed = [&] {
        const std::size_t slice = std::min<std::size_t>(compressed.size() - fed, UINT_MAX);
        stream.next_in = const_cast<Bytef*>(compressed.data() + fed);  // zlib never writes input
        stream.avail_in = static_cast<uInt>(slice);
        fed += slice;
    };
    auto consumed = [&] { return fed - stream.avail_in; };
    feed();

    InflatedPrefix result;
    std::vector<std::uint8_t>& out = result.bytes;
    for (;;) {
        if (stream.avail_in == 0 && fed < compressed.size()) feed();
        const std::size_t room = std::min(io_chunk_bytes, limit + 1 - out.size());
        const std::size_t before = out.size();
        out.resize(before + room);
        stream.next_out = out.data() + before;
        stream.avail_out = static_cast<uInt>(room);
        const int status = inflate(&stream, Z_NO_FLUSH);
        out.resize(before + room - stream.avail_out);
        if (out.size() > limit) {
            out.resize(limit);
            result.exceeded_limit = true;
            return result;
        }
        switch (status) {
            case Z_OK:
                continue;
            case Z_STREAM_END: {
                const std::size_t used = consumed();
                if (used == compressed.size()) return result;
                const std::size_t left = compressed.size() - used;
                if (left >= 2 && compressed[used] == 0x1f && compressed[used + 1] == 0x8b) {
                    inflateReset(&stream);  // the next member of a concatenated gzip file
                    continue;
                }
                throw file_error(name, std::to_string(left) + " bytes of trailing data after the gzip stream (byte " +
                                           std::to_string(used) + " of " + std::to_string(compressed.size()) +
                                           " is not the start of another gzip member)");
            }
            case Z_BUF_ERROR:  // no progress possible: all input used, stream not finished
                if (stream.avail_in == 0 && fed == compressed.size())
                    throw file_error(name, "truncated gzip stream: the data ends after " +
                                               std::to_string(compressed.size()) + " compressed bytes (" +
                                               std::to_string(out.size()) + " bytes inflated)");
                throw file_error(name, "corrupt gzip stream: zlib made no progress");
            case Z_MEM_ERROR:
                throw file_error(name, "out of memory while inflating the gzip stream");
            case Z_NEED_DICT:
                throw file_error(name, "corrupt gzip stream: it asks for a preset dictionary");
            default:  // Z_DATA_ERROR, Z_STREAM_ERROR
                throw file_error(name, std::string("corrupt gzip stream: ") +
                                           (stream.msg != nullptr ? std::string(stream.msg)
                                                                   : "zlib error " + std::to_string(status)));
        }
    }
}

}  // namespace detail

// True if `bytes` start with the gzip magic 1f 8b.
inline bool is_gzip(std::span<const std::uint8_t> bytes) noexcept {
    return bytes.size() >= 2 && bytes[0] == 0x1f && bytes[1] == 0x8b;
}

// The whole content of `path`; throws ctnn::file_error naming the path if it is missing, not a
// regular file, unreadable, or longer than `max_bytes`.
inline std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path, std::size_t max_bytes) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
        throw file_error(path.string(), "cannot read: is a directory, expected a file");
    std::unique_ptr<std::FILE, detail::FileCloser> file(std::fopen(path.c_str(), "rb"));
    if (!file) throw file_error(path.string(), std::string("cannot open: ") + std::strerror(errno));

    std::vector<std::uint8_t> bytes;
    for (;;) {
        const std::size_t before = bytes.size();
        bytes.resize(before + detail::io_chunk_bytes);
        const std::size_t got = std::fread(bytes.data() + before, 1, detail::io_chunk_bytes, file.get());
        bytes.resize(before + got);
        if (bytes.size() > max_bytes)
            throw file_error(path.string(), "file is larger than the limit of " + std::to_string(max_bytes) + " bytes");
        if (got < detail::io_chunk_bytes) {
            if (std::ferror(file.get()))
                throw file_error(path.string(), std::string("read error: ") + std::strerror(errno));
            return bytes;
        }
    }
}

// Inflates a complete gzip stream. `name` (usually the path) starts every error message:
// "corrupt gzip stream: <zlib's reason>", "truncated gzip stream", or the limit being exceeded.
inline std::vector<std::uint8_t> inflate_gzip(std::span<const std::uint8_t> compressed, std::size_t max_bytes,
                                              const std::string& name) {
    detail::InflatedPrefix inflated = detail::inflate_gzip_prefix(compressed, max_bytes, name);
    if (inflated.exceeded_limit)
        throw file_error(name, "gzip stream inflates to more than the limit of " + std::to_string(max_bytes) +
                                   " bytes");
    return std::move(inflated.bytes);
}

// The content of `path`, inflated if it starts with the gzip magic (whatever its extension).
// `max_bytes` bounds the inflated size; the compressed file may be slightly larger than that.
inline std::vector<std::uint8_t> read_maybe_gzipped(const std::filesystem::path& path, std::size_t max_bytes) {
    // Stored deflate blocks add 5 bytes per 64 KiB, gzip 18 bytes per member: 1/256 covers both.
    std::vector<std::uint8_t> bytes =
        read_file_bytes(path, detail::saturating_add(max_bytes, max_bytes / 256 + 1024));
    if (is_gzip(bytes)) return inflate_gzip(bytes, max_bytes, path.string());
    if (bytes.size() > max_bytes)
        throw file_error(path.string(), "file is larger than the limit of " + std::to_string(max_bytes) + " bytes");
    return bytes;
}

}  // namespace ctnn::io
