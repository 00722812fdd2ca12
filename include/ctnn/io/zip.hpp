// ctnn/io/zip.hpp — a minimal in-memory ZIP writer (stored/deflate, no ZIP64: 4 GiB at most) and
// a reader that trusts nothing: bounds-checked offsets, cross-checked local headers, no overlapping
// entries, declared sizes capped before allocating, inflation capped at the declared size (zip
// bombs), CRC verified. Reads numpy's ZIP64 extra fields; not: encryption, multi-disk, ZIP64 ends.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <new>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <zlib.h>

#include "../core/error.hpp"

namespace ctnn::io {

enum class ZipMethod : std::uint16_t { stored = 0, deflated = 8 };

// One entry as the central directory describes it (after cross-checking its local header).
struct ZipEntry {
    std::string name;
    ZipMethod method = ZipMethod::stored;
    std::uint32_t crc32 = 0;
    std::uint64_t compressed_size = 0;
    std::uint64_t uncompressed_size = 0;
    std::uint64_t local_header_offset = 0;
    std::uint64_t data_offset = 0;  // first byte of the (compressed) data in the archive
};

// Reader limits. Deflate cannot exceed 1032:1 (a 258-byte match per 2 bits), so a larger declared
// ratio is a lie; 1 GiB per entry is far above any weight array ctnn writes.
inline constexpr std::uint64_t zip_max_entry_size = std::uint64_t{1} << 30;
inline constexpr std::uint64_t zip_max_deflate_ratio = 1032;
// Without ZIP64 every size and offset is a 32-bit field.
inline constexpr std::uint64_t zip_max_archive_size = 0xFFFFFFFFu;

namespace detail {

// A problem found in an archive or entry; public functions turn it into a file_error.
struct zip_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

inline constexpr std::uint32_t zip_local_signature = 0x04034b50;
inline constexpr std::uint32_t zip_central_signature = 0x02014b50;
inline constexpr std::uint32_t zip_end_signature = 0x06054b50;
inline constexpr std::size_t zip_local_header_size = 30;
inline constexpr std::size_t zip_central_header_size = 46;
inline constexpr std::size_t zip_end_record_size = 22;
inline constexpr std::uint16_t zip_dos_date_1980 = (0 << 9) | (1 << 5) | 1;  // 1980-01-01: reproducible files
inline constexpr std::uint16_t zip_flag_encrypted = 1u << 0;
inline constexpr std::uint16_t zip_flag_data_descriptor = 1u << 3;
inline constexpr std::uint16_t zip_flag_strong_encryption = 1u << 6;
inline constexpr std::uint16_t zip_flag_utf8 = 1u << 11;
inline constexpr std::uint16_t zip64_extra_id = 0x0001;

inline std::uint16_t read_u16(std::span<const std::uint8_t> bytes, std::uint64_t at) {
    return static_cast<std::uint16_t>(bytes[at] | (bytes[at + 1] << 8));
}
inline std::uint32_t read_u32(std::span<const std::uint8_t> bytes, std::uint64_t at) {
    return static_cast<std::uint32_t>(bytes[at]) | (static_cast<std::uint32_t>(bytes[at + 1]) << 8) |
           (static_cast<std::uint32_t>(bytes[at + 2]) << 16) | (static_cast<std::uint32_t>(bytes[at + 3]) << 24);
}
inline std::uint64_t read_u64(std::span<const std::uint8_t> bytes, std::uint64_t at) {
    return read_u32(bytes, at) | (std::uint64_t{read_u32(bytes, at + 4)} << 32);
}
inline void put_u16(std::vector<std::uint8_t>& out, std::uint32_t value) {
    out.push_back(static_cast<std::uint8_t>(value));
    out.push_back(static_cast<std::uint8_t>(value >> 8));
}
inline void put_u32(std::vector<std::uint8_t>& out, std::uint32_t value) {
    put_u16(out, value & 0xffff);
    put_u16(out, value >> 16);
}

inline std::string quoted_name(std::string_view name) {
    std::string out = "'";
    for (char c : name.substr(0, 200)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
    if (name.size() > 200) out += "...";
    return out + "'";
}

inline std::uint32_t zip_crc32(std::span<const std::uint8_t> bytes) {
    // zlib's crc32 takes 32-bit lengths; feed it in chunks.
    uLong crc = ::crc32(0L, Z_NULL, 0);
    std::size_t done = 0;
    while (done < bytes.size()) {
        const std::size_t chunk = std::min<std::size_t>(bytes.size() - done, std::size_t{1} << 30);
        crc = ::crc32(crc, bytes.data() + done, static_cast<uInt>(chunk));
        done += chunk;
    }
    return static_cast<std::uint32_t>(crc);
}

// Raw deflate (no zlib header: windowBits -15), as ZIP method 8 requires. zlib counts in 32 bits,
// so input and output are fed in chunks of at most 1 GiB.
inline std::vector<std::uint8_t> deflate_raw(std::span<const std::uint8_t> input) {
    z_stream stream{};
    if (deflateInit2(&stream, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        throw zip_error("zlib deflateInit2 failed");
    struct End {
        z_stream* s;
        ~End() { deflateEnd(s); }
    } end{&stream};
    std::vector<std::uint8_t> output(deflateBound(&stream, static_cast<uLong>(input.size())));
    constexpr std::size_t chunk = std::size_t{1} << 30;
    stream.next_in = const_cast<Bytef*>(input.data());  // zlib's API is not const-correct; it does not write
    stream.next_out = output.data();
    std::size_t in_left = input.size(), out_left = output.size();
    for (;;) {
        const auto in_chunk = static_cast<uInt>(std::min(in_left, chunk));
        const auto out_chunk = static_cast<uInt>(std::min(out_left, chunk));
        stream.avail_in = in_chunk;
        stream.avail_out = out_chunk;
        const int result = deflate(&stream, in_left == in_chunk ? Z_FINISH : Z_NO_FLUSH);
        in_left -= in_chunk - stream.avail_in;
        out_left -= out_chunk - stream.avail_out;
        if (result == Z_STREAM_END) break;
        if (result != Z_OK || out_left == 0) throw zip_error("zlib deflate failed (" + std::to_string(result) + ")");
    }
    output.resize(output.size() - out_left);
    return output;
}

// Inflates exactly `declared` bytes: more or fewer, or trailing input, is an error. The output is
// allocated once at the declared size, which the caller has already capped.
inline std::vector<std::uint8_t> inflate_exact(std::span<const std::uint8_t> input, std::uint64_t declared) {
    std::vector<std::uint8_t> output(static_cast<std::size_t>(declared));
    z_stream stream{};
    if (inflateInit2(&stream, -15) != Z_OK) throw zip_error("zlib inflateInit2 failed");
    struct End {
        z_stream* s;
        ~End() { inflateEnd(s); }
    } end{&stream};
    stream.next_in = const_cast<Bytef*>(input.data());
    stream.avail_in = static_cast<uInt>(input.size());  // <= 4 GiB - 1: a 32-bit zip field
    // Once the declared output is full, inflate into one spare byte: any byte landing there means the
    // stream holds more than declared. (zlib also refuses a null next_out, hence the spare for size 0.)
    std::uint8_t spare = 0;
    bool probing = output.empty();
    stream.next_out = probing ? &spare : output.data();
    stream.avail_out = probing ? 1u : static_cast<uInt>(output.size());
    for (;;) {
        const int result = inflate(&stream, Z_NO_FLUSH);
        if (probing && stream.avail_out == 0)
            throw zip_error("data inflates to more than the declared " + std::to_string(declared) + " bytes");
        if (result == Z_STREAM_END) break;
        if (result == Z_DATA_ERROR)
            throw zip_error(std::string("corrupt deflate data: ") + (stream.msg ? stream.msg : "unknown error"));
        if (result == Z_NEED_DICT) throw zip_error("deflate data needs a preset dictionary (not valid in a zip)");
        if (result == Z_MEM_ERROR) throw std::bad_alloc();
        if (result != Z_OK && result != Z_BUF_ERROR)
            throw zip_error("zlib inflate failed (" + std::to_string(result) + ")");
        if (stream.avail_out == 0) {
            probing = true;
            stream.next_out = &spare;
            stream.avail_out = 1;
        } else if (stream.avail_in == 0) {
            throw zip_error("deflate data ends before its end-of-stream marker (truncated)");
        } else if (result == Z_BUF_ERROR) {
            throw zip_error("zlib inflate made no progress");
        }
    }
    if (stream.total_out != declared)
        throw zip_error("data inflates to " + std::to_string(stream.total_out) + " bytes, declared " +
                        std::to_string(declared));
    if (stream.avail_in != 0)
        throw zip_error(std::to_string(stream.avail_in) + " bytes follow the end of the deflate data");
    return output;
}

// Reads an entry's bytes: size caps before allocating, then inflate/copy, then CRC.
inline std::vector<std::uint8_t> zip_extract(std::span<const std::uint8_t> archive, const ZipEntry& entry) {
    if (entry.uncompressed_size > zip_max_entry_size)
        throw zip_error("declares " + std::to_string(entry.uncompressed_size) +
                        " bytes uncompressed, more than the limit of " + std::to_string(zip_max_entry_size) +
                        " bytes per entry");
    if (entry.data_offset > archive.size() || entry.compressed_size > archive.size() - entry.data_offset)
        throw zip_error("data lies beyond the end of the archive (truncated)");
    const auto data = archive.subspan(static_cast<std::size_t>(entry.data_offset),
                                      static_cast<std::size_t>(entry.compressed_size));
    std::vector<std::uint8_t> contents;
    if (entry.method == ZipMethod::stored) {
        if (entry.compressed_size != entry.uncompressed_size)
            throw zip_error("stored entry has compressed size " + std::to_string(entry.compressed_size) +
                            " but uncompressed size " + std::to_string(entry.uncompressed_size));
        contents.assign(data.begin(), data.end());
    } else {
        if (entry.uncompressed_size > entry.compressed_size * zip_max_deflate_ratio + 64)
            throw zip_error("declares " + std::to_string(entry.uncompressed_size) + " bytes from " +
                            std::to_string(entry.compressed_size) +
                            " compressed bytes, beyond deflate's 1032:1 maximum (zip bomb?)");
        contents = inflate_exact(data, entry.uncompressed_size);
    }
    const std::uint32_t crc = zip_crc32(contents);
    if (crc != entry.crc32) {
        static constexpr char hex[] = "0123456789abcdef";
        auto hex32 = [](std::uint32_t v) {
            std::string s = "0x";
            for (int shift = 28; shift >= 0; shift -= 4) s += hex[(v >> shift) & 15];
            return s;
        };
        throw zip_error("CRC mismatch (stored " + hex32(entry.crc32) + ", computed " + hex32(crc) + ")");
    }
    return contents;
}

// Why a name is unfit for an entry ctnn writes, or "" when it is fine: unzip must not be able to
// write outside its folder, and every tool must be able to read the name.
inline std::string zip_name_problem(std::string_view name) {
    if (name.empty()) return "is empty";
    if (name.size() > 0xFFFF) return "is longer than 65535 bytes";
    if (name.find('\0') != std::string_view::npos) return "contains a NUL byte";
    if (name.front() == '/') return "is absolute";
    for (std::size_t start = 0; start <= name.size();) {
        const std::size_t slash = std::min(name.find('/', start), name.size());
        if (name.substr(start, slash - start) == "..") return "has a '..' component";
        start = slash + 1;
    }
    return "";
}

// Finds the values a ZIP64 extra field (id 1) supplies for the 32-bit fields that hold 0xFFFFFFFF,
// in the order the specification fixes: uncompressed size, compressed size, local header offset.
inline void apply_zip64_extra(std::span<const std::uint8_t> extra, std::uint64_t* const fields[3], bool in_local_header) {
    std::size_t at = 0;
    while (at + 4 <= extra.size()) {
        const std::uint16_t id = read_u16(extra, at);
        const std::uint16_t size = read_u16(extra, at + 2);
        if (size > extra.size() - at - 4) throw zip_error("extra field overruns its header");
        if (id == zip64_extra_id) {
            std::size_t field_at = at + 4;
            const std::size_t field_end = at + 4 + size;
            for (int i = 0; i < 3; ++i) {
                if (fields[i] == nullptr || *fields[i] != 0xFFFFFFFFu) continue;
                if (field_end - field_at < 8) throw zip_error("ZIP64 extra field is too short");
                *fields[i] = read_u64(extra, field_at);
                field_at += 8;
            }
            return;
        }
        at += 4 + size;
    }
    for (int i = 0; i < 3; ++i)
        if (fields[i] != nullptr && *fields[i] == 0xFFFFFFFFu)
            throw zip_error(std::string("a size is 0xFFFFFFFF but the ") +
                            (in_local_header ? "local header" : "central directory") + " has no ZIP64 extra field");
}

// Parses the end record and central directory and cross-checks each local header.
inline std::vector<ZipEntry> zip_directory(std::span<const std::uint8_t> archive) {
    const std::uint64_t size = archive.size();
    if (size < zip_end_record_size)
        throw zip_error("too short for a zip archive (" + std::to_string(size) + " bytes; truncated?)");
    // The end record is the last 22 bytes plus a comment of up to 65535 bytes; take the last signature
    // whose comment length matches what follows it exactly.
    std::uint64_t end = size;  // not found
    const std::uint64_t lowest = size > zip_end_record_size + 0xFFFF ? size - zip_end_record_size - 0xFFFF : 0;
    for (std::uint64_t at = size - zip_end_record_size + 1; at-- > lowest;) {
        if (read_u32(archive, at) == zip_end_signature &&
            at + zip_end_record_size + read_u16(archive, at + 20) == size) {
            end = at;
            break;
        }
    }
    if (end == size) throw zip_error("no end-of-central-directory record (not a zip archive, or truncated)");
    const std::uint16_t disk = read_u16(archive, end + 4), directory_disk = read_u16(archive, end + 6);
    const std::uint16_t entries_here = read_u16(archive, end + 8), entry_count = read_u16(archive, end + 10);
    const std::uint64_t directory_size = read_u32(archive, end + 12);
    const std::uint64_t directory_offset = read_u32(archive, end + 16);
    if (entry_count == 0xFFFF || directory_size == 0xFFFFFFFFu || directory_offset == 0xFFFFFFFFu)
        throw zip_error("ZIP64 archives are not supported");
    if (disk != 0 || directory_disk != 0 || entries_here != entry_count)
        throw zip_error("multi-disk archives are not supported");
    if (directory_offset > end || directory_size > end - directory_offset)
        throw zip_error("central directory (offset " + std::to_string(directory_offset) + ", " +
                        std::to_string(directory_size) + " bytes) lies outside the archive (truncated?)");

    if (std::uint64_t{entry_count} * zip_central_header_size > directory_size)
        throw zip_error("a central directory of " + std::to_string(directory_size) + " bytes cannot hold " +
                        std::to_string(entry_count) + " entries");
    std::vector<ZipEntry> entries;
    entries.reserve(entry_count);
    std::uint64_t at = directory_offset;
    const std::uint64_t directory_end = directory_offset + directory_size;
    for (std::size_t index = 0; index < entry_count; ++index) {
        const std::string which = "central directory entry " + std::to_string(index);
        if (directory_end - at < zip_central_header_size) throw zip_error(which + " is truncated");
        if (read_u32(archive, at) != zip_central_signature) throw zip_error(which + " has a bad signature");
        const std::uint16_t flags = read_u16(archive, at + 8);
        const std::uint16_t method = read_u16(archive, at + 10);
        ZipEntry entry;
        entry.crc32 = read_u32(archive, at + 16);
        entry.compressed_size = read_u32(archive, at + 20);
        entry.uncompressed_size = read_u32(archive, at + 24);
        const std::uint16_t name_length = read_u16(archive, at + 28);
        const std::uint16_t extra_length = read_u16(archive, at + 30);
        const std::uint16_t comment_length = read_u16(archive, at + 32);
        const std::uint16_t start_disk = read_u16(archive, at + 34);
        entry.local_header_offset = read_u32(archive, at + 42);
        const std::uint64_t record_size = zip_central_header_size + name_length + extra_length + comment_length;
        if (directory_end - at < record_size) throw zip_error(which + " is truncated");
        entry.name.assign(reinterpret_cast<const char*>(archive.data() + at + zip_central_header_size), name_length);
        const std::string named = "entry " + quoted_name(entry.name);
        try {
            if (flags & (zip_flag_encrypted | zip_flag_strong_encryption))
                throw zip_error("is encrypted (not supported)");
            if (method != static_cast<std::uint16_t>(ZipMethod::stored) &&
                method != static_cast<std::uint16_t>(ZipMethod::deflated))
                throw zip_error("uses compression method " + std::to_string(method) +
                                " (only 0 stored and 8 deflate are supported)");
            entry.method = static_cast<ZipMethod>(method);
            std::uint64_t* const fields[3] = {&entry.uncompressed_size, &entry.compressed_size,
                                              &entry.local_header_offset};
            apply_zip64_extra(archive.subspan(at + zip_central_header_size + name_length, extra_length), fields,
                              false);
            if (start_disk != 0 && start_disk != 0xFFFF) throw zip_error("lies on another disk");

            // The local header must agree with the central directory.
            const std::uint64_t local = entry.local_header_offset;
            if (local > directory_offset || directory_offset - local < zip_local_header_size)
                throw zip_error("local header offset " + std::to_string(local) + " is outside the archive data");
            if (read_u32(archive, local) != zip_local_signature)
                throw zip_error("local header at offset " + std::to_string(local) + " has a bad signature");
            const std::uint16_t local_flags = read_u16(archive, local + 6);
            const std::uint16_t local_method = read_u16(archive, local + 8);
            const std::uint32_t local_crc = read_u32(archive, local + 14);
            std::uint64_t local_compressed = read_u32(archive, local + 18);
            std::uint64_t local_uncompressed = read_u32(archive, local + 22);
            const std::uint16_t local_name_length = read_u16(archive, local + 26);
            const std::uint16_t local_extra_length = read_u16(archive, local + 28);
            entry.data_offset = local + zip_local_header_size + local_name_length + local_extra_length;
            if (entry.data_offset > directory_offset) throw zip_error("local header runs into the central directory");
            const std::string_view local_name(
                reinterpret_cast<const char*>(archive.data() + local + zip_local_header_size), local_name_length);
            if (local_name != entry.name)
                throw zip_error("local header names " + quoted_name(local_name) + " instead");
            if (local_method != method) throw zip_error("local header disagrees on the compression method");
            if ((local_flags & zip_flag_data_descriptor) == 0) {
                std::uint64_t* const local_fields[3] = {&local_uncompressed, &local_compressed, nullptr};
                apply_zip64_extra(
                    archive.subspan(local + zip_local_header_size + local_name_length, local_extra_length),
                    local_fields, true);
                if (local_crc != entry.crc32 || local_compressed != entry.compressed_size ||
                    local_uncompressed != entry.uncompressed_size)
                    throw zip_error("local header disagrees with the central directory on CRC or sizes");
            }
            if (entry.compressed_size > directory_offset - entry.data_offset)
                throw zip_error("data (" + std::to_string(entry.compressed_size) +
                                " bytes) runs into the central directory (truncated?)");
        } catch (const zip_error& e) {
            throw zip_error(named + ": " + e.what());
        }
        entries.push_back(std::move(entry));
        at += record_size;
    }
    // Overlapping entries let a small archive expand many times over (zip bombs that reuse one
    // compressed stream); a real archive never has them.
    std::vector<const ZipEntry*> by_offset;
    by_offset.reserve(entries.size());
    for (const auto& e : entries) by_offset.push_back(&e);
    std::sort(by_offset.begin(), by_offset.end(),
              [](const ZipEntry* a, const ZipEntry* b) { return a->local_header_offset < b->local_header_offset; });
    for (std::size_t i = 1; i < by_offset.size(); ++i)
        if (by_offset[i - 1]->data_offset + by_offset[i - 1]->compressed_size > by_offset[i]->local_header_offset)
            throw zip_error("entries " + quoted_name(by_offset[i - 1]->name) + " and " + quoted_name(by_offset[i]->name) +
                            " overlap");
    return entries;
}

}  // namespace detail

// Builds an archive in memory. `archive_name` (usually the destination path) begins error messages.
class ZipWriter {
public:
    explicit ZipWriter(std::string archive_name) : archive_name_(std::move(archive_name)) {}

    // Entry names are stored as given ("dense/kernel.npy"); they must be non-empty, unique, without
    // NUL bytes, not absolute and without ".." components, so unzip cannot write outside its folder.
    void add(std::string_view name, std::span<const std::uint8_t> contents, ZipMethod method = ZipMethod::deflated) {
        check_name(name);
        if (contents.size() > zip_max_archive_size)
            throw file_error(archive_name_, "entry " + detail::quoted_name(name) + " is " + std::to_string(contents.size()) +
                                                " bytes; entries above 4 GiB need ZIP64, which is not supported");
        if (directory_entry_count_ == 0xFFFF)
            throw file_error(archive_name_, "more than 65534 entries need ZIP64, which is not supported");
        const std::uint32_t crc = detail::zip_crc32(contents);
        std::vector<std::uint8_t> compressed;
        std::span<const std::uint8_t> data = contents;
        if (method == ZipMethod::deflated) {
            try {
                compressed = detail::deflate_raw(contents);
            } catch (const detail::zip_error& e) {
                throw file_error(archive_name_, "entry " + detail::quoted_name(name) + ": " + e.what());
            }
            data = compressed;
        }
        const std::uint64_t offset = bytes_.size();
        if (offset + detail::zip_local_header_size + name.size() + data.size() > zip_max_archive_size)
            throw file_error(archive_name_, "archive would exceed 4 GiB at entry " + detail::quoted_name(name) +
                                                "; ZIP64 is not supported");
        const std::uint16_t flags = has_non_ascii(name) ? detail::zip_flag_utf8 : 0;
        const auto offset32 = static_cast<std::uint32_t>(offset);
        const auto data_size = static_cast<std::uint32_t>(data.size());
        const auto contents_size = static_cast<std::uint32_t>(contents.size());

        detail::put_u32(bytes_, detail::zip_local_signature);
        detail::put_u16(bytes_, 20);  // version needed: 2.0 (deflate)
        detail::put_u16(bytes_, flags);
        detail::put_u16(bytes_, static_cast<std::uint16_t>(method));
        detail::put_u16(bytes_, 0);  // time 00:00:00
        detail::put_u16(bytes_, detail::zip_dos_date_1980);
        detail::put_u32(bytes_, crc);
        detail::put_u32(bytes_, data_size);
        detail::put_u32(bytes_, contents_size);
        detail::put_u16(bytes_, static_cast<std::uint32_t>(name.size()));
        detail::put_u16(bytes_, 0);  // extra length
        bytes_.insert(bytes_.end(), name.begin(), name.end());
        bytes_.insert(bytes_.end(), data.begin(), data.end());

        detail::put_u32(directory_, detail::zip_central_signature);
        detail::put_u16(directory_, (3 << 8) | 20);  // made by: Unix, 2.0
        detail::put_u16(directory_, 20);
        detail::put_u16(directory_, flags);
        detail::put_u16(directory_, static_cast<std::uint16_t>(method));
        detail::put_u16(directory_, 0);
        detail::put_u16(directory_, detail::zip_dos_date_1980);
        detail::put_u32(directory_, crc);
        detail::put_u32(directory_, data_size);
        detail::put_u32(directory_, contents_size);
        detail::put_u16(directory_, static_cast<std::uint32_t>(name.size()));
        detail::put_u16(directory_, 0);  // extra length
        detail::put_u16(directory_, 0);  // comment length
        detail::put_u16(directory_, 0);  // disk
        detail::put_u16(directory_, 0);  // internal attributes
        detail::put_u32(directory_, 0100644u << 16);  // external: regular file, rw-r--r--
        detail::put_u32(directory_, offset32);
        directory_.insert(directory_.end(), name.begin(), name.end());
        ++directory_entry_count_;
        names_.emplace(name);
    }

    // The complete archive; the writer is empty afterwards.
    std::vector<std::uint8_t> finish() {
        const std::uint64_t directory_offset = bytes_.size();
        if (directory_offset + directory_.size() + detail::zip_end_record_size > zip_max_archive_size)
            throw file_error(archive_name_, "archive would exceed 4 GiB; ZIP64 is not supported");
        std::vector<std::uint8_t> archive = std::move(bytes_);
        archive.insert(archive.end(), directory_.begin(), directory_.end());
        detail::put_u32(archive, detail::zip_end_signature);
        detail::put_u16(archive, 0);
        detail::put_u16(archive, 0);
        detail::put_u16(archive, directory_entry_count_);
        detail::put_u16(archive, directory_entry_count_);
        detail::put_u32(archive, static_cast<std::uint32_t>(directory_.size()));
        detail::put_u32(archive, static_cast<std::uint32_t>(directory_offset));
        detail::put_u16(archive, 0);  // comment length
        bytes_.clear();
        directory_.clear();
        names_.clear();
        directory_entry_count_ = 0;
        return archive;
    }

private:
    static bool has_non_ascii(std::string_view name) {
        return std::any_of(name.begin(), name.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
    }

    void check_name(std::string_view name) const {
        std::string problem = detail::zip_name_problem(name);
        if (problem.empty() && names_.contains(name)) problem = "appears twice";
        if (!problem.empty())
            throw std::invalid_argument("ZipWriter(" + archive_name_ + "): entry name " + detail::quoted_name(name) + " " +
                                        problem);
    }

    std::string archive_name_;
    std::vector<std::uint8_t> bytes_;      // local headers + data
    std::vector<std::uint8_t> directory_;  // central directory records
    std::set<std::string, std::less<>> names_;
    std::uint16_t directory_entry_count_ = 0;
};

// Reads an archive held in memory (the span must outlive the reader). The constructor validates the
// directory; read() validates and returns one entry's contents. Errors are ctnn::file_error whose
// message starts with `archive_name` and names the entry.
class ZipReader {
public:
    ZipReader(std::span<const std::uint8_t> archive, std::string archive_name)
        : archive_(archive), archive_name_(std::move(archive_name)) {
        try {
            entries_ = detail::zip_directory(archive_);
        } catch (const detail::zip_error& e) {
            throw file_error(archive_name_, e.what());
        }
    }

    const std::vector<ZipEntry>& entries() const noexcept { return entries_; }

    std::vector<std::uint8_t> read(const ZipEntry& entry) const {
        try {
            return detail::zip_extract(archive_, entry);
        } catch (const detail::zip_error& e) {
            throw file_error(archive_name_, "entry " + detail::quoted_name(entry.name) + ": " + e.what());
        }
    }

private:
    std::span<const std::uint8_t> archive_;
    std::string archive_name_;
    std::vector<ZipEntry> entries_;
};

}  // namespace ctnn::io
