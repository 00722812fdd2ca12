// examples/cli.hpp — the few command-line options the examples share (--data, --epochs, ...).
// Not part of the library: a dozen lines so the examples read as tutorials, not as argv plumbing.
#pragma once

#include <charconv>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>

namespace examples {

// Parses `--name value` pairs; every option must be one of `known` (name -> default value).
class Options {
public:
    Options(int argc, char** argv, std::map<std::string, std::string> known) : values_(std::move(known)) {
        for (int i = 1; i < argc; ++i) {
            const std::string_view arg = argv[i];
            if (arg == "--help" || arg == "-h") throw std::invalid_argument(usage(argv[0]));
            if (!arg.starts_with("--") || !values_.contains(std::string(arg.substr(2))))
                throw std::invalid_argument("unknown option '" + std::string(arg) + "'\n" + usage(argv[0]));
            if (i + 1 >= argc) throw std::invalid_argument("option '" + std::string(arg) + "' needs a value");
            values_[std::string(arg.substr(2))] = argv[++i];
        }
    }
    std::string text(const std::string& name) const { return values_.at(name); }
    std::uint64_t number(const std::string& name) const {
        const std::string& v = values_.at(name);
        std::uint64_t out = 0;
        const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
        if (ec != std::errc{} || end != v.data() + v.size())
            throw std::invalid_argument("--" + name + ": expected a non-negative whole number, got '" + v + "'");
        return out;
    }

private:
    std::string usage(const char* program) const {
        std::string u = std::string("usage: ") + program;
        for (const auto& [name, value] : values_) u += " [--" + name + " " + (value.empty() ? "VALUE" : value) + "]";
        return u;
    }
    std::map<std::string, std::string> values_;
};

}  // namespace examples
