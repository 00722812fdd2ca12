// ctnn/callbacks/csv_logger.hpp — CSVLogger: one CSV row per epoch of the epoch logs, byte for
// byte what Keras 3 writes (keras/src/callbacks/csv_logger.py through Python's csv module):
//   - header "epoch" + the first epoch's log keys sorted; when none of them starts with "val_",
//     Keras adds a "val_<key>" column per key (for validation_freq > 1), filled with NA;
//   - epoch is 0-based; values are Python's repr of the float ("0.5", "1e-05", "nan");
//   - rows end in "\r\n" (csv.excel's line terminator); fields holding the separator, a quote or
//     a line break are quoted;
//   - the file is flushed after every epoch; with append = true the header is written only when
//     the file is missing or empty.
// A log file is appended to as training runs, so it is not written atomically. A backup keeps the
// rows this fit wrote; a restore cuts the file back to what it held when the fit began and writes
// them again, so a resumed run's log has each epoch once.
#pragma once

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "ctnn/callbacks/monitor.hpp"
#include "ctnn/core/error.hpp"
#include "ctnn/core/callback_policy.hpp"
#include "ctnn/core/logs.hpp"
#include "ctnn/core/training_state.hpp"

namespace ctnn::callbacks {

class CSVLogger {
public:
    // Under data-parallel fit, rank 0 writes; on_every_rank(cb) makes every rank write.
    static constexpr CallbackRanks ranks = CallbackRanks::first;
    explicit CSVLogger(std::filesystem::path filename, char separator = ',', bool append = false)
        : filename_(std::move(filename)), separator_(separator), append_(append) {
        if (separator == '"' || separator == '\r' || separator == '\n')
            throw std::invalid_argument("CSVLogger: separator must not be a quote or a line break; got '" +
                                        std::string(1, separator) + "'");
    }

    void on_train_begin(const Logs&) {
        write_header_ = true;
        if (append_) {
            std::error_code ec;
            const auto size = std::filesystem::file_size(filename_, ec);
            if (!ec && size > 0) write_header_ = false;
        }
        errno = 0;
        file_.reset(std::fopen(filename_.c_str(), append_ ? "ab" : "wb"));
        if (!file_)
            throw file_error(filename_.string(), std::string("CSVLogger: cannot open for ") +
                                                     (append_ ? "appending" : "writing") + ": " +
                                                     (errno ? std::strerror(errno) : "unknown error"));
        keys_.clear();
        keys_ready_ = false;
        written_.clear();
        std::error_code ec;
        const auto size = std::filesystem::file_size(filename_, ec);
        base_size_ = ec ? 0 : static_cast<std::uint64_t>(size);
    }

    void save_state(StateWriter& w) const {
        std::string keys;
        for (const auto& k : keys_) keys += k + '\n';
        w.put_text("keys", keys);
        w.put_bool("keys_ready", keys_ready_);
        w.put_bool("write_header", write_header_);
        w.put_int("base_size", std::int64_t(base_size_));
        w.put_text("written", written_);
    }
    void load_state(const StateReader& r) {
        const std::string keys = r.get_text("keys");
        keys_.clear();
        for (std::size_t start = 0, nl; (nl = keys.find('\n', start)) != std::string::npos; start = nl + 1)
            keys_.push_back(keys.substr(start, nl - start));
        keys_ready_ = r.get_bool("keys_ready");
        write_header_ = r.get_bool("write_header");
        base_size_ = static_cast<std::uint64_t>(r.get_int("base_size"));
        const std::string written = r.get_text("written");
        file_.reset();
        std::error_code ec;
        const auto size = std::filesystem::file_size(filename_, ec);
        if (ec || size < base_size_)
            throw file_error(filename_.string(), "CSVLogger: cannot resume: the log held " + std::to_string(base_size_) +
                                                     " bytes before this fit and now holds " + (ec ? std::string("none") : std::to_string(size)));
        std::filesystem::resize_file(filename_, base_size_, ec);
        if (ec) throw file_error(filename_.string(), "CSVLogger: cannot resume: " + ec.message());
        errno = 0;
        file_.reset(std::fopen(filename_.c_str(), "ab"));
        if (!file_)
            throw file_error(filename_.string(), std::string("CSVLogger: cannot open for appending: ") +
                                                     (errno ? std::strerror(errno) : "unknown error"));
        written_.clear();
        write(written);
        if (std::fflush(file_.get()) != 0)
            throw file_error(filename_.string(), std::string("CSVLogger: cannot write: ") + std::strerror(errno));
    }

    void on_epoch_end(std::size_t epoch, const Logs& logs) {
        if (!file_) return;  // on_train_begin was not called (or failed)
        if (!keys_ready_) {
            for (const auto& [key, value] : logs) keys_.push_back(key);
            std::sort(keys_.begin(), keys_.end());
            const bool has_val = std::any_of(keys_.begin(), keys_.end(), [](const std::string& k) { return k.starts_with("val_"); });
            if (!has_val && !keys_.empty()) {
                const std::size_t n = keys_.size();
                for (std::size_t i = 0; i < n; ++i) keys_.push_back("val_" + keys_[i]);
            }
            keys_ready_ = true;
            if (write_header_) {
                std::string header = quoted("epoch");
                for (const auto& key : keys_) header += separator_ + quoted(key);
                write(header + "\r\n");
            }
        }
        std::string row = std::to_string(epoch);
        for (const auto& key : keys_)
            row += separator_ + (logs.contains(key) ? quoted(detail::python_repr(logs.at(key))) : std::string("NA"));
        write(row + "\r\n");
        if (std::fflush(file_.get()) != 0)
            throw file_error(filename_.string(), std::string("CSVLogger: cannot write: ") + std::strerror(errno));
    }

    void on_train_end(const Logs&) {
        if (!file_) return;
        const int status = std::fclose(file_.release());
        if (status != 0) throw file_error(filename_.string(), std::string("CSVLogger: cannot close: ") + std::strerror(errno));
    }

    const std::filesystem::path& filename() const noexcept { return filename_; }

private:
    struct FileCloser {
        void operator()(std::FILE* f) const noexcept { std::fclose(f); }
    };

    // Python csv QUOTE_MINIMAL: quote only what would otherwise be misread, doubling quotes.
    std::string quoted(std::string_view field) const {
        if (field.find_first_of(std::string{separator_, '"', '\r', '\n'}) == std::string_view::npos) return std::string(field);
        std::string out = "\"";
        for (char c : field) out += c == '"' ? std::string("\"\"") : std::string(1, c);
        return out + '"';
    }
    void write(const std::string& text) {
        written_ += text;
        if (std::fwrite(text.data(), 1, text.size(), file_.get()) != text.size())
            throw file_error(filename_.string(), std::string("CSVLogger: cannot write: ") + std::strerror(errno));
    }

    std::filesystem::path filename_;
    char separator_;
    bool append_;
    bool write_header_ = true;
    bool keys_ready_ = false;
    std::vector<std::string> keys_;
    std::uint64_t base_size_ = 0;  // the file's size when this fit began (append mode)
    std::string written_;          // what this fit wrote
    std::unique_ptr<std::FILE, FileCloser> file_;
};

}  // namespace ctnn::callbacks
