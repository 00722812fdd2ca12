// ctnn/core/error.hpp — the exceptions ctnn throws for things a user can fix.
//
// Misuse of an API (wrong sizes, bad options) is std::invalid_argument. A file that cannot be
// read or written, or whose contents are damaged, is a ctnn::file_error (a std::runtime_error),
// whose message always begins with the path so a user knows which file to look at.
#pragma once

#include <stdexcept>
#include <string>

namespace ctnn {

class file_error : public std::runtime_error {
public:
    file_error(const std::string& path, const std::string& problem)
        : std::runtime_error(path + ": " + problem), path_(path) {}
    const std::string& path() const noexcept { return path_; }

private:
    std::string path_;
};

}  // namespace ctnn
