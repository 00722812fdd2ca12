// tests/hardening/harden_test_utils.hpp — tools for the hardening tests: a scratch directory,
// bit-exact weight comparison, and running a check in a forked child (for setrlimit) whose verdict
// comes back through a pipe, since doctest assertions in a child would never reach the report.
#pragma once

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <string>
#include <system_error>
#include <vector>

#include <sys/wait.h>
#include <unistd.h>

#include <ctnn/io/npz.hpp>

namespace ctnn::hardening {

// A fresh directory under the system temp dir, removed with everything in it.
class ScratchDir {
public:
    explicit ScratchDir(const std::string& name) {
        std::string pattern = (std::filesystem::temp_directory_path() / ("ctnn-" + name + "-XXXXXX")).string();
        if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp " + pattern + ": " + std::strerror(errno));
        path_ = pattern;
    }
    ~ScratchDir() {
        std::error_code ignored;
        std::filesystem::remove_all(path_, ignored);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    const std::filesystem::path& path() const noexcept { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

// Same names, shapes and float bits (NaN payloads included), in the same order.
inline bool same_weights(const std::vector<io::NamedArray>& a, const std::vector<io::NamedArray>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].name != b[i].name || a[i].shape != b[i].shape || a[i].values.size() != b[i].values.size()) return false;
        if (std::memcmp(a[i].values.data(), b[i].values.data(), a[i].values.size() * sizeof(float)) != 0) return false;
    }
    return true;
}

// Runs `check` in a forked child and returns what it returned ("" means success), or a line saying
// how the child died. The child leaves with _exit, so nothing of the parent's doctest state runs twice.
inline std::string run_in_child(const std::function<std::string()>& check) {
    int fds[2];
    if (::pipe(fds) != 0) return std::string("pipe: ") + std::strerror(errno);
    const pid_t pid = ::fork();
    if (pid < 0) return std::string("fork: ") + std::strerror(errno);
    if (pid == 0) {
        ::close(fds[0]);
        std::string verdict;
        try {
            verdict = check();
        } catch (const std::exception& e) {
            verdict = std::string("child: unexpected exception: ") + e.what();
        } catch (...) {
            verdict = "child: unexpected non-std exception";
        }
        const char* p = verdict.data();
        std::size_t left = verdict.size();
        while (left > 0) {
            const ::ssize_t n = ::write(fds[1], p, left);
            if (n <= 0) break;
            p += n;
            left -= static_cast<std::size_t>(n);
        }
        ::close(fds[1]);
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string verdict;
    char buffer[4096];
    while (true) {
        const ::ssize_t n = ::read(fds[0], buffer, sizeof buffer);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        verdict.append(buffer, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(status)) return verdict + "child killed by signal " + std::to_string(WTERMSIG(status));
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return verdict + "child exited with status " + std::to_string(WEXITSTATUS(status));
    return verdict;
}

}  // namespace ctnn::hardening
