// ctnn/io/atomic_file.hpp — crash-safe file replacement: readers see the old file or the new one.
// Bytes go to a temporary file in the target's directory; every write is checked, then fsync,
// rename over the target and fsync of the directory. POSIX only. Not a lock (the last rename
// wins); the new file gets mode 0666 & ~umask (an existing target's permissions are not copied).
#pragma once

#include <atomic>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/error.hpp"

namespace ctnn::io {

namespace detail {

inline std::string errno_text(int error_number) { return std::strerror(error_number); }

// Distinct temporary names for several AtomicFiles alive at once in one process; the pid
// separates processes.
inline std::atomic<std::uint64_t> temporary_file_counter{0};

// Keeps ".<name>.tmp.<pid>.<counter>" under NAME_MAX (255) even for a 255-byte target name.
inline constexpr std::size_t temporary_name_stem_max = 200;

inline bool all_digits(std::string_view text) {
    if (text.empty()) return false;
    for (char c : text)
        if (c < '0' || c > '9') return false;
    return true;
}

}  // namespace detail

// Temporary files are named ".<target file name>.tmp.<pid>.<counter>" (the target name cut to its
// first 200 bytes), in the target's directory. Checkpoint scanners and loaders should skip such
// names: a crash between creation and rename leaves one behind.
inline bool is_temporary_file(const std::filesystem::path& path) {
    const std::string name = path.filename().string();
    if (name.size() < 2 || name[0] != '.') return false;
    const auto last_dot = name.rfind('.');
    if (last_dot == std::string::npos || last_dot == 0) return false;
    const auto pid_dot = name.rfind('.', last_dot - 1);
    if (pid_dot == std::string::npos || pid_dot == 0) return false;
    const std::string_view view(name);
    if (!detail::all_digits(view.substr(last_dot + 1)) ||
        !detail::all_digits(view.substr(pid_dot + 1, last_dot - pid_dot - 1)))
        return false;
    // What precedes ".<pid>.<counter>" must be ".<at least one byte>.tmp".
    const std::string_view head = view.substr(0, pid_dot);
    return head.size() > 5 && head.ends_with(".tmp");
}

// A file being written under a temporary name; commit() puts it in place of the target.
// Destroying it without commit() removes the temporary file and leaves the target as it was.
//
//     AtomicFile file("weights.npz");
//     file.write(header_bytes);
//     file.write(payload_bytes);
//     file.commit();
//
// Every failure throws ctnn::file_error naming the target path and the system's reason; the
// temporary file is removed and the previous target is untouched (a failure of the final
// directory fsync is reported too, although the new file is then already in place).
class AtomicFile {
public:
    explicit AtomicFile(std::filesystem::path target) : target_(std::move(target)) {
        if (target_.filename().empty())
            throw file_error(target_.string(), "cannot write a file: the path names a directory");
        std::filesystem::path directory = target_.parent_path();
        directory_ = directory.empty() ? std::filesystem::path(".") : directory;
        const std::string stem = target_.filename().string().substr(0, detail::temporary_name_stem_max);
        // O_EXCL: never reuse (or follow a symlink planted at) an existing name.
        for (int attempt = 0; attempt < 100; ++attempt) {
            const std::uint64_t n = detail::temporary_file_counter.fetch_add(1);
            temporary_ = directory_ / ("." + stem + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(n));
            fd_ = ::open(temporary_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
            if (fd_ >= 0) return;
            if (errno != EEXIST) break;
        }
        const int error = errno;
        throw file_error(target_.string(), "cannot create temporary file '" + temporary_.filename().string() +
                                               "' in '" + directory_.string() + "': " + detail::errno_text(error));
    }

    AtomicFile(const AtomicFile&) = delete;
    AtomicFile& operator=(const AtomicFile&) = delete;

    ~AtomicFile() { discard(); }

    const std::filesystem::path& target() const noexcept { return target_; }
    // Where the bytes are until commit(); is_temporary_file() recognises it.
    const std::filesystem::path& temporary_path() const noexcept { return temporary_; }

    void write(std::span<const std::byte> bytes) {
        if (fd_ < 0) throw std::logic_error("AtomicFile::write(" + target_.string() + "): already committed or failed");
        const std::byte* data = bytes.data();
        std::size_t left = bytes.size();
        while (left > 0) {
            const ::ssize_t written = ::write(fd_, data, left);
            if (written < 0) {
                if (errno == EINTR) continue;
                fail("write failed after " + std::to_string(bytes_written_) + " bytes", errno);
            }
            if (written == 0) fail("write made no progress after " + std::to_string(bytes_written_) + " bytes", EIO);
            data += written;
            left -= static_cast<std::size_t>(written);
            bytes_written_ += static_cast<std::uint64_t>(written);
        }
    }

    void write(std::string_view text) { write(std::as_bytes(std::span(text.data(), text.size()))); }

    // fsync, close, rename over the target, fsync the directory.
    void commit() {
        if (fd_ < 0) throw std::logic_error("AtomicFile::commit(" + target_.string() + "): already committed or failed");
        if (::fsync(fd_) != 0) fail("fsync failed", errno);
        const int fd = fd_;
        fd_ = -1;
        // close() can report a deferred write error (NFS), so it is checked too.
        if (::close(fd) != 0) fail("close failed", errno);
        if (::rename(temporary_.c_str(), target_.c_str()) != 0) fail("cannot rename the temporary file over it", errno);
        committed_ = true;
        const int directory_fd = ::open(directory_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (directory_fd < 0)
            throw file_error(target_.string(), "written, but cannot open directory '" + directory_.string() +
                                                   "' to fsync it: " + detail::errno_text(errno));
        const int sync_result = ::fsync(directory_fd);
        const int sync_error = errno;
        ::close(directory_fd);
        if (sync_result != 0)
            throw file_error(target_.string(), "written, but fsync of directory '" + directory_.string() +
                                                   "' failed: " + detail::errno_text(sync_error));
    }

private:
    [[noreturn]] void fail(const std::string& what, int error_number) {
        discard();
        throw file_error(target_.string(), what + ": " + detail::errno_text(error_number));
    }

    void discard() noexcept {
        if (fd_ >= 0) {
            ::close(fd_);
            fd_ = -1;
        }
        if (!committed_ && !temporary_.empty()) {
            ::unlink(temporary_.c_str());
            committed_ = true;  // nothing left to clean up
        }
    }

    std::filesystem::path target_;
    std::filesystem::path directory_;
    std::filesystem::path temporary_;
    int fd_ = -1;
    bool committed_ = false;
    std::uint64_t bytes_written_ = 0;
};

// The whole file in one call.
inline void write_file_atomically(const std::filesystem::path& target, std::span<const std::byte> bytes) {
    AtomicFile file(target);
    file.write(bytes);
    file.commit();
}

inline void write_file_atomically(const std::filesystem::path& target, std::string_view text) {
    write_file_atomically(target, std::as_bytes(std::span(text.data(), text.size())));
}

}  // namespace ctnn::io
