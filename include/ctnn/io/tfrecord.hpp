// ctnn/io/tfrecord.hpp — TFRecord framing: the container of TensorBoard event files.
//
// Record = u64 LE length | u32 LE masked CRC-32C of those 8 bytes | payload | u32 LE masked CRC-32C
// of the payload. `TFRecordWriter` appends records through its own buffer and hands the OS only
// whole records, one write(2) per batch, so a crash can cut the file only at its tail. `read_tfrecords`
// splits bytes into records and says how reading stopped. Compression (GZIP records) is not supported:
// TensorBoard does not read compressed event files either. POSIX only (open/write/fsync).
#pragma once

#include "ctnn/core/error.hpp"
#include "ctnn/io/crc32c.hpp"

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ctnn::io {

inline constexpr std::size_t tfrecord_header_size = 12;  // length (8) + masked length CRC (4)
inline constexpr std::size_t tfrecord_footer_size = 4;   // masked payload CRC
inline constexpr std::size_t tfrecord_overhead = tfrecord_header_size + tfrecord_footer_size;

namespace detail {

inline void store_le32(char* out, std::uint32_t value) {
    for (int i = 0; i < 4; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xFF);
}

inline void store_le64(char* out, std::uint64_t value) {
    for (int i = 0; i < 8; ++i) out[i] = static_cast<char>((value >> (8 * i)) & 0xFF);
}

inline std::uint32_t read_le32(const char* p) {
    std::uint32_t v = 0;
    for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
}

inline std::uint64_t read_le64(const char* p) {
    std::uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
    return v;
}

// Frames in place: `record` holds tfrecord_header_size placeholder bytes followed by the payload
// (payload starts at `header_at + 12`). Fills the header and appends the footer, so a caller can
// encode straight into a reused buffer without copying the payload.
inline void finish_tfrecord_frame(std::string& record, std::size_t header_at = 0) {
    const std::size_t payload_at = header_at + tfrecord_header_size;
    const std::size_t payload_size = record.size() - payload_at;
    char* header = record.data() + header_at;
    store_le64(header, payload_size);
    store_le32(header + 8, masked_crc32c(crc32c(header, 8)));
    const std::uint32_t data_crc = masked_crc32c(crc32c(record.data() + payload_at, payload_size));
    char footer[tfrecord_footer_size];
    store_le32(footer, data_crc);
    record.append(footer, tfrecord_footer_size);
}

}  // namespace detail

inline void append_tfrecord_frame(std::string& out, std::string_view payload) {
    const std::size_t header_at = out.size();
    out.append(tfrecord_header_size, '\0');
    out.append(payload);
    detail::finish_tfrecord_frame(out, header_at);
}

inline std::string tfrecord_frame(std::string_view payload) {
    std::string record;
    record.reserve(payload.size() + tfrecord_overhead);
    append_tfrecord_frame(record, payload);
    return record;
}

// ------------------------------------------------------------------------------------------ writer

enum class TFRecordOpenMode {
    append,      // create if missing, keep existing records
    truncate,    // create if missing, drop existing contents
    create_new,  // fail if the file exists (event files: never clobber another writer's file)
};

// Not thread-safe. Errors (open, write, ENOSPC, EFBIG, ...) throw ctnn::file_error naming the path.
// After a failed write the partial record is cut off (best effort) and the writer refuses further
// writes, so the file never holds a damaged record followed by good ones.
class TFRecordWriter {
public:
    static constexpr std::size_t default_buffer_size = 64 * 1024;

    explicit TFRecordWriter(std::filesystem::path path, TFRecordOpenMode mode = TFRecordOpenMode::append,
                            std::size_t buffer_size = default_buffer_size)
        : path_(std::move(path)), buffer_size_(buffer_size) {
        int flags = O_WRONLY | O_CREAT | O_CLOEXEC;
        if (mode == TFRecordOpenMode::append) flags |= O_APPEND;
        if (mode == TFRecordOpenMode::truncate) flags |= O_TRUNC;
        if (mode == TFRecordOpenMode::create_new) flags |= O_EXCL;
        fd_ = ::open(path_.c_str(), flags, 0644);
        if (fd_ < 0) throw file_error(path_.string(), std::string("cannot open for writing: ") + std::strerror(errno));
        struct stat info {};
        if (::fstat(fd_, &info) == 0 && S_ISREG(info.st_mode)) committed_ = static_cast<std::uint64_t>(info.st_size);
        pending_.reserve(buffer_size_);
        frame_.reserve(256);
    }

    TFRecordWriter(const TFRecordWriter&) = delete;
    TFRecordWriter& operator=(const TFRecordWriter&) = delete;

    TFRecordWriter(TFRecordWriter&& other) noexcept
        : path_(std::move(other.path_)), buffer_size_(other.buffer_size_), fd_(std::exchange(other.fd_, -1)),
          committed_(other.committed_), pending_(std::move(other.pending_)), frame_(std::move(other.frame_)),
          failure_(std::move(other.failure_)) {}

    TFRecordWriter& operator=(TFRecordWriter&& other) noexcept {
        if (this != &other) {
            close_quietly();
            path_ = std::move(other.path_);
            buffer_size_ = other.buffer_size_;
            fd_ = std::exchange(other.fd_, -1);
            committed_ = other.committed_;
            pending_ = std::move(other.pending_);
            frame_ = std::move(other.frame_);
            failure_ = std::move(other.failure_);
        }
        return *this;
    }

    ~TFRecordWriter() { close_quietly(); }

    // Frames `payload` (into a reused buffer) and queues it.
    void write(std::string_view payload) {
        frame_.clear();
        append_tfrecord_frame(frame_, payload);
        write_framed(frame_);
    }

    // Queues an already framed record (or several); it reaches the OS whole, in one write(2).
    void write_framed(std::string_view records) {
        check_usable();
        if (pending_.size() + records.size() > buffer_size_) flush();
        if (records.size() >= buffer_size_) {
            write_all(records.data(), records.size());
        } else {
            pending_.append(records);
        }
    }

    // Hands queued records to the OS (no fsync: a process crash then loses nothing, a power cut may).
    void flush() {
        check_usable();
        if (pending_.empty()) return;
        write_all(pending_.data(), pending_.size());
        pending_.clear();
    }

    // flush() + fsync(): the records survive a power cut.
    void sync() {
        flush();
        if (::fsync(fd_) != 0 && errno != EINVAL && errno != EROFS)  // EINVAL: e.g. /dev/null, pipes
            fail(std::string("fsync failed: ") + std::strerror(errno));
    }

    // flush() and close the file; throws on error. Further writes throw.
    void close() {
        if (fd_ < 0) return;
        flush();
        const int fd = std::exchange(fd_, -1);
        if (::close(fd) != 0) throw file_error(path_.string(), std::string("close failed: ") + std::strerror(errno));
    }

    const std::filesystem::path& path() const noexcept { return path_; }
    bool is_open() const noexcept { return fd_ >= 0; }
    // Bytes in the file written by anyone before us plus everything we handed to the OS.
    std::uint64_t bytes_committed() const noexcept { return committed_; }
    std::size_t bytes_pending() const noexcept { return pending_.size(); }

private:
    void check_usable() const {
        if (!failure_.empty()) throw file_error(path_.string(), "writer unusable after an earlier error: " + failure_);
        if (fd_ < 0) throw file_error(path_.string(), "write after close");
    }

    void write_all(const char* data, std::size_t size) {
        std::size_t done = 0;
        while (done < size) {
            const ::ssize_t n = ::write(fd_, data + done, size - done);
            if (n < 0) {
                if (errno == EINTR) continue;
                const int error = errno;
                if (done > 0) (void)!::ftruncate(fd_, static_cast<::off_t>(committed_));  // drop the partial record
                pending_.clear();
                fail(std::string("write failed: ") + std::strerror(error));
            }
            done += static_cast<std::size_t>(n);
        }
        committed_ += size;
    }

    [[noreturn]] void fail(std::string problem) {
        failure_ = problem;
        throw file_error(path_.string(), problem);
    }

    void close_quietly() noexcept {
        if (fd_ < 0) return;
        try {
            if (failure_.empty()) flush();
        } catch (...) {  // a destructor must not throw; the error was the caller's to see via flush()
        }
        ::close(std::exchange(fd_, -1));
    }

    std::filesystem::path path_;
    std::size_t buffer_size_;
    int fd_ = -1;
    std::uint64_t committed_ = 0;
    std::string pending_;  // whole framed records not yet written
    std::string frame_;    // reused by write()
    std::string failure_;
};

// ------------------------------------------------------------------------------------------ reader

enum class TFRecordStatus {
    clean_end,       // every byte belonged to a complete, valid record
    truncated,       // the last record is incomplete (a writer is still writing, or crashed mid-record)
    bad_length_crc,  // the length field of the record at stop_offset is damaged
    bad_data_crc,    // the payload of the record at stop_offset does not match its CRC
};

struct TFRecordReadResult {
    std::vector<std::string_view> records;  // views into the bytes given to read_tfrecords
    TFRecordStatus status = TFRecordStatus::clean_end;
    std::size_t stop_offset = 0;  // end of the data if clean, else where the bad/incomplete record starts

    bool clean() const noexcept { return status == TFRecordStatus::clean_end; }

    std::string describe() const {
        const std::string where = " at offset " + std::to_string(stop_offset);
        switch (status) {
            case TFRecordStatus::clean_end: return "clean end after " + std::to_string(records.size()) + " records";
            case TFRecordStatus::truncated: return "truncated trailing record" + where;
            case TFRecordStatus::bad_length_crc: return "corrupt record" + where + " (bad length crc)";
            case TFRecordStatus::bad_data_crc: return "corrupt record" + where + " (bad data crc)";
        }
        return "unknown status";
    }
};

// Reads records until the end or the first bad one. Lengths are validated against the bytes present
// before use and nothing is allocated per length, so arbitrary input is safe.
inline TFRecordReadResult read_tfrecords(std::string_view bytes) {
    TFRecordReadResult result;
    std::size_t pos = 0;
    while (true) {
        result.stop_offset = pos;
        const std::size_t remaining = bytes.size() - pos;
        if (remaining == 0) {
            result.status = TFRecordStatus::clean_end;
            return result;
        }
        const char* header = bytes.data() + pos;
        if (remaining < tfrecord_header_size) {
            result.status = TFRecordStatus::truncated;
            return result;
        }
        if (masked_crc32c(crc32c(header, 8)) != detail::read_le32(header + 8)) {
            result.status = TFRecordStatus::bad_length_crc;
            return result;
        }
        const std::uint64_t length = detail::read_le64(header);
        if (remaining < tfrecord_overhead || length > remaining - tfrecord_overhead) {
            result.status = TFRecordStatus::truncated;
            return result;
        }
        const auto size = static_cast<std::size_t>(length);
        const char* payload = header + tfrecord_header_size;
        if (masked_crc32c(crc32c(payload, size)) != detail::read_le32(payload + size)) {
            result.status = TFRecordStatus::bad_data_crc;
            return result;
        }
        result.records.emplace_back(payload, size);
        pos += tfrecord_overhead + size;
    }
}

}  // namespace ctnn::io
