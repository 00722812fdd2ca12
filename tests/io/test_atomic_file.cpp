// Tests of ctnn/io/atomic_file.hpp: the target is replaced whole or not at all, failures name the
// target, and no temporary file survives a failure. A real write failure comes from a forked child
// whose RLIMIT_FSIZE is tiny (with SIGXFSZ ignored the kernel returns EFBIG instead of killing it).
#include <ctnn/io/atomic_file.hpp>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <doctest/doctest.h>

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace io_test_atomic_file {

namespace fs = std::filesystem;
using ctnn::io::AtomicFile;
using ctnn::io::is_temporary_file;
using ctnn::io::write_file_atomically;

namespace {

struct ScratchDirectory {
    fs::path path;
    ScratchDirectory() {
        std::string pattern = (fs::temp_directory_path() / "ctnn_atomic_XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        path = pattern;
    }
    ~ScratchDirectory() {
        std::error_code ignored;
        fs::remove_all(path, ignored);
    }
    std::vector<std::string> names() const {
        std::vector<std::string> result;
        for (const auto& entry : fs::directory_iterator(path)) result.push_back(entry.path().filename().string());
        return result;
    }
};

std::string read_text(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
}

void write_plain(const fs::path& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

}  // namespace

TEST_CASE("AtomicFile.replaces_the_target_whole") {
    ScratchDirectory dir;
    const fs::path target = dir.path / "weights.npz";

    SUBCASE("new file") {
        write_file_atomically(target, std::string_view("first"));
        CHECK(read_text(target) == "first");
    }
    SUBCASE("existing file, several writes, no temporary left") {
        write_plain(target, "old content");
        AtomicFile file(target);
        file.write(std::string_view("new "));
        file.write(std::as_bytes(std::span(std::string_view("content"))));
        CHECK(read_text(target) == "old content");  // untouched until commit
        file.commit();
        CHECK(read_text(target) == "new content");
        CHECK(dir.names() == std::vector<std::string>{"weights.npz"});
    }
    SUBCASE("empty file") {
        write_plain(target, "old");
        write_file_atomically(target, std::span<const std::byte>{});
        CHECK(fs::file_size(target) == 0);
    }
    SUBCASE("a target name of 255 bytes still fits the temporary name under NAME_MAX") {
        const fs::path long_target = dir.path / std::string(255, 'w');
        write_file_atomically(long_target, std::string_view("long"));
        CHECK(read_text(long_target) == "long");
        CHECK(dir.names().size() == 1);
    }
}

TEST_CASE("AtomicFile.temporary_names_are_recognisable") {
    ScratchDirectory dir;
    const fs::path target = dir.path / "model.npz";
    AtomicFile first(target);
    AtomicFile second(target);
    CHECK(first.temporary_path().parent_path() == dir.path);  // same directory: rename is atomic
    CHECK(first.temporary_path() != second.temporary_path());
    CHECK(first.temporary_path().filename().string().starts_with(".model.npz.tmp." + std::to_string(::getpid()) + "."));
    CHECK(fs::exists(first.temporary_path()));
    CHECK(is_temporary_file(first.temporary_path()));
    CHECK(is_temporary_file(second.temporary_path()));

    CHECK(is_temporary_file("/some/dir/.weights.npz.tmp.123.0"));
    CHECK(is_temporary_file(".a.tmp.1.2"));
    CHECK_FALSE(is_temporary_file("weights.npz"));
    CHECK_FALSE(is_temporary_file(target));
    CHECK_FALSE(is_temporary_file(".hidden"));
    CHECK_FALSE(is_temporary_file("weights.npz.tmp.1.2"));  // no leading dot
    CHECK_FALSE(is_temporary_file(".tmp.1.2"));              // no target name
    CHECK_FALSE(is_temporary_file(".a.tmp.1"));              // counter missing
    CHECK_FALSE(is_temporary_file(".a.tmp.1.2x"));
    CHECK_FALSE(is_temporary_file(".a.tmp.x.2"));
    CHECK_FALSE(is_temporary_file(".a.tmp..2"));
    CHECK_FALSE(is_temporary_file(".a.temp.1.2"));
    CHECK_FALSE(is_temporary_file(".tmp.1.2/"));
}

TEST_CASE("AtomicFile.destruction_without_commit_discards") {
    ScratchDirectory dir;
    const fs::path target = dir.path / "weights.npz";
    write_plain(target, "previous");
    fs::path temporary;
    {
        AtomicFile file(target);
        file.write(std::string_view("half written"));
        temporary = file.temporary_path();
        CHECK(fs::exists(temporary));
    }
    CHECK_FALSE(fs::exists(temporary));
    CHECK(read_text(target) == "previous");
    CHECK(dir.names() == std::vector<std::string>{"weights.npz"});
}

TEST_CASE("AtomicFile.failures_name_the_target") {
    ScratchDirectory dir;

    SUBCASE("missing directory") {
        const fs::path target = dir.path / "no_such_dir" / "weights.npz";
        try {
            write_file_atomically(target, std::string_view("x"));
            FAIL("expected ctnn::file_error");
        } catch (const ctnn::file_error& e) {
            CHECK(e.path() == target.string());
            CHECK(std::string(e.what()).starts_with(target.string() + ": "));
            CHECK(std::string(e.what()).find(std::strerror(ENOENT)) != std::string::npos);
        }
    }
    SUBCASE("rename over a non-empty directory fails; the temporary file is removed") {
        const fs::path target = dir.path / "occupied";
        fs::create_directory(target);
        write_plain(target / "inside", "keep");
        try {
            write_file_atomically(target, std::string_view("x"));
            FAIL("expected ctnn::file_error");
        } catch (const ctnn::file_error& e) {
            CHECK(e.path() == target.string());
            CHECK(std::string(e.what()).find("rename") != std::string::npos);
        }
        CHECK(dir.names() == std::vector<std::string>{"occupied"});
        CHECK(read_text(target / "inside") == "keep");
    }
    SUBCASE("a path naming a directory") {
        CHECK_THROWS_AS(AtomicFile(dir.path / ""), ctnn::file_error);
    }
    SUBCASE("misuse after commit") {
        AtomicFile file(dir.path / "once");
        file.commit();
        CHECK_THROWS_AS(file.write(std::string_view("late")), std::logic_error);
        CHECK_THROWS_AS(file.commit(), std::logic_error);
    }
}

TEST_CASE("AtomicFile.write_failure_keeps_the_previous_file") {
    // The child hits RLIMIT_FSIZE (4 KiB) while writing 1 MiB: write() returns a short count, then
    // fails with EFBIG. It reports the exception message through a pipe.
    ScratchDirectory dir;
    const fs::path target = dir.path / "weights.npz";
    write_plain(target, "previous weights");

    int channel[2];
    REQUIRE(::pipe(channel) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        ::close(channel[0]);
        std::signal(SIGXFSZ, SIG_IGN);
        const rlimit limit{4096, 4096};
        if (::setrlimit(RLIMIT_FSIZE, &limit) != 0) ::_exit(3);
        const std::vector<std::byte> payload(1 << 20, std::byte{0x5a});
        int code = 1;
        std::string message = "no exception";
        try {
            write_file_atomically(target, payload);
        } catch (const ctnn::file_error& e) {
            message = e.what();
            code = 0;
        } catch (const std::exception& e) {
            message = std::string("wrong exception type: ") + e.what();
            code = 2;
        }
        [[maybe_unused]] auto written = ::write(channel[1], message.data(), message.size());
        ::_exit(code);
    }
    ::close(channel[1]);
    std::string message;
    char buffer[512];
    for (::ssize_t got; (got = ::read(channel[0], buffer, sizeof buffer)) > 0;) message.append(buffer, got);
    ::close(channel[0]);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    INFO("child said: " << message);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(message.starts_with(target.string() + ": "));
    CHECK(message.find(std::strerror(EFBIG)) != std::string::npos);
    CHECK(message.find("4096 bytes") != std::string::npos);  // how far it got
    CHECK(read_text(target) == "previous weights");
    CHECK(dir.names() == std::vector<std::string>{"weights.npz"});
}

}  // namespace io_test_atomic_file
