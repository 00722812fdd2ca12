// tests/datasets/idx_test_support.hpp — helpers shared by the gzip, IDX and MNIST tests.
//
// Builds IDX files byte by byte (independently of the reader), gzips them with zlib's deflate,
// manages a scratch directory, and checks that a hostile input is refused without a large
// allocation. Test-only: nothing here is part of ctnn.
#pragma once

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <new>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <zlib.h>

#include "ctnn/core/error.hpp"

#if defined(__SANITIZE_ADDRESS__)
#define CTNN_TEST_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CTNN_TEST_ASAN 1
#endif
#endif

#if defined(CTNN_TEST_ASAN)
// Declared here because GCC does not ship <sanitizer/allocator_interface.h>; libasan exports it.
extern "C" int __sanitizer_install_malloc_and_free_hooks(void (*malloc_hook)(const volatile void*, std::size_t),
                                                         void (*free_hook)(const volatile void*));
#endif

namespace ctnn_test {

using Bytes = std::vector<std::uint8_t>;

inline void append_be32(Bytes& out, std::uint32_t v) {
    out.push_back(static_cast<std::uint8_t>(v >> 24));
    out.push_back(static_cast<std::uint8_t>(v >> 16));
    out.push_back(static_cast<std::uint8_t>(v >> 8));
    out.push_back(static_cast<std::uint8_t>(v));
}

// An IDX file: 00 00 type ndims, big-endian dims, then `data` verbatim.
inline Bytes idx_file(std::uint8_t type, const std::vector<std::uint32_t>& dims, const Bytes& data) {
    Bytes out{0, 0, type, static_cast<std::uint8_t>(dims.size())};
    for (std::uint32_t d : dims) append_be32(out, d);
    out.insert(out.end(), data.begin(), data.end());
    return out;
}

// One gzip member holding `data`, written by zlib's deflate (the reader only uses inflate).
inline Bytes gzip(const Bytes& data, int level = Z_BEST_COMPRESSION) {
    z_stream stream{};
    if (deflateInit2(&stream, level, Z_DEFLATED, 16 + MAX_WBITS, 9, Z_DEFAULT_STRATEGY) != Z_OK)
        throw std::runtime_error("deflateInit2 failed");
    Bytes out(deflateBound(&stream, static_cast<uLong>(data.size())) + 64);
    stream.next_in = const_cast<Bytef*>(data.data());
    stream.avail_in = static_cast<uInt>(data.size());
    stream.next_out = out.data();
    stream.avail_out = static_cast<uInt>(out.size());
    const int status = deflate(&stream, Z_FINISH);
    out.resize(stream.total_out);
    deflateEnd(&stream);
    if (status != Z_STREAM_END) throw std::runtime_error("deflate did not finish");
    return out;
}

inline Bytes pattern(std::size_t n, std::uint32_t seed = 1) {
    Bytes out(n);
    for (std::size_t i = 0; i < n; ++i) {
        seed = seed * 1664525u + 1013904223u;
        out[i] = static_cast<std::uint8_t>(seed >> 24);
    }
    return out;
}

// A fresh directory under the system temp directory, removed with everything in it.
class TempDir {
public:
    TempDir() {
        std::string tmpl = (std::filesystem::temp_directory_path() / "ctnn-test-XXXXXX").string();
        if (mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        path_ = tmpl;
    }
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path_, ec);
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    const std::filesystem::path& path() const { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

inline void write_file(const std::filesystem::path& path, const Bytes& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + path.string());
}

// The what() of the exception of type E that `call` throws, or "<no exception>"; any other
// exception type escapes, so doctest reports it as a failure.
template <class E = ctnn::file_error, class Call>
std::string message_of(Call&& call) {
    try {
        call();
    } catch (const E& e) {
        return e.what();
    }
    return "<no exception>";
}

inline bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// How a call meant to refuse hostile input ended.
enum class Outcome { file_error, bad_alloc, other_exception, no_exception, crashed, too_much_memory };

inline const char* outcome_name(Outcome o) {
    switch (o) {
        case Outcome::file_error: return "file_error";
        case Outcome::bad_alloc: return "std::bad_alloc";
        case Outcome::other_exception: return "another exception";
        case Outcome::no_exception: return "no exception";
        case Outcome::crashed: return "crashed";
        case Outcome::too_much_memory: return "file_error after a large allocation";
    }
    return "?";
}


inline constexpr std::size_t allocation_headroom = std::size_t{256} << 20;  // 256 MiB

#if defined(CTNN_TEST_ASAN)
namespace detail {
inline volatile std::size_t largest_allocation = 0;
inline void track_malloc(const volatile void*, std::size_t size) {
    if (size > largest_allocation) largest_allocation = size;
}
inline void track_free(const volatile void*) {}
}  // namespace detail

// Under AddressSanitizer RLIMIT_AS cannot be used (ASan reserves terabytes of shadow memory at
// start), so instead we watch every allocation through the sanitizer's malloc hook and require the
// largest one to stay below the headroom the non-ASan path gives the child.
inline Outcome outcome_with_memory_limit(const std::function<void()>& call) {
    static const int installed = __sanitizer_install_malloc_and_free_hooks(detail::track_malloc, detail::track_free);
    (void)installed;
    detail::largest_allocation = 0;
    Outcome outcome = Outcome::no_exception;
    try {
        call();
    } catch (const ctnn::file_error&) {
        outcome = Outcome::file_error;
    } catch (const std::bad_alloc&) {
        outcome = Outcome::bad_alloc;
    } catch (...) {
        outcome = Outcome::other_exception;
    }
    if (outcome == Outcome::file_error && detail::largest_allocation > allocation_headroom)
        outcome = Outcome::too_much_memory;
    return outcome;
}
#else
inline std::size_t current_address_space() {
    std::FILE* statm = std::fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (statm == nullptr || std::fscanf(statm, "%lu", &pages) != 1) throw std::runtime_error("cannot read statm");
    std::fclose(statm);
    return pages * static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
}

// Runs `call` in a forked child whose address space may grow by only 256 MiB, so any attempt to
// allocate what a hostile header declares fails with std::bad_alloc instead of succeeding.
inline Outcome outcome_with_memory_limit(const std::function<void()>& call) {
    const std::size_t limit = current_address_space() + allocation_headroom;
    std::fflush(nullptr);
    const pid_t child = fork();
    if (child < 0) throw std::runtime_error("fork failed");
    if (child == 0) {
        const rlimit rl{limit, limit};
        if (setrlimit(RLIMIT_AS, &rl) != 0) _exit(100);
        int code = static_cast<int>(Outcome::no_exception);
        try {
            call();
        } catch (const ctnn::file_error&) {
            code = static_cast<int>(Outcome::file_error);
        } catch (const std::bad_alloc&) {
            code = static_cast<int>(Outcome::bad_alloc);
        } catch (...) {
            code = static_cast<int>(Outcome::other_exception);
        }
        _exit(code);
    }
    int status = 0;
    if (waitpid(child, &status, 0) != child) throw std::runtime_error("waitpid failed");
    if (!WIFEXITED(status) || WEXITSTATUS(status) > static_cast<int>(Outcome::too_much_memory))
        return Outcome::crashed;
    return static_cast<Outcome>(WEXITSTATUS(status));
}
#endif

// "file_error" when `call` refused its input with ctnn::file_error and without a large allocation;
// otherwise what happened instead (a string, so a failing CHECK prints it).
inline std::string run_with_memory_limit(const std::function<void()>& call) {
    return outcome_name(outcome_with_memory_limit(call));
}

}  // namespace ctnn_test
