// CSVLogger: files byte for byte as Keras 3 writes them (Python csv module: sorted keys, repr
// floats, \r\n, NA val_ columns), append mode, flushing, errors, and a real fit read back.
#include <doctest/doctest.h>

#include <filesystem>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include <ctnn/callbacks/csv_logger.hpp>

#include "fake_model.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace callbacks_test_csv_logger {

using namespace ctnn;
using callbacks::CSVLogger;
using testing::read_text;
using testing::TempDir;
namespace fs = std::filesystem;

namespace {
void drive(CSVLogger& logger, const std::vector<Logs>& epochs) {
    logger.on_train_begin(Logs{});
    for (std::size_t e = 0; e < epochs.size(); ++e) logger.on_epoch_end(e, epochs[e]);
    logger.on_train_end(epochs.empty() ? Logs{} : epochs.back());
}
std::vector<std::string> split(const std::string& text, char sep) {
    std::vector<std::string> parts(1);
    for (char c : text) {
        if (c == sep) parts.emplace_back();
        else parts.back() += c;
    }
    return parts;
}
}  // namespace

TEST_CASE("CSVLogger.python_repr_of_floats") {
    using callbacks::detail::python_repr;
    // Each expected string is what Python 3 prints for repr(x).
    CHECK(python_repr(0.1) == "0.1");
    CHECK(python_repr(1.0) == "1.0");
    CHECK(python_repr(0.0) == "0.0");
    CHECK(python_repr(-0.0) == "-0.0");
    CHECK(python_repr(-2.5) == "-2.5");
    CHECK(python_repr(100000.0) == "100000.0");
    CHECK(python_repr(123456789.125) == "123456789.125");
    CHECK(python_repr(0.0001) == "0.0001");
    CHECK(python_repr(1e-05) == "1e-05");
    CHECK(python_repr(1.5e-07) == "1.5e-07");
    CHECK(python_repr(1e16) == "1e+16");
    CHECK(python_repr(1234567890123456.0) == "1234567890123456.0");
    CHECK(python_repr(0.1 + 0.2) == "0.30000000000000004");
    CHECK(python_repr(double(0.1f)) == "0.10000000149011612");
    CHECK(python_repr(std::numeric_limits<double>::quiet_NaN()) == "nan");
    CHECK(python_repr(-std::numeric_limits<double>::infinity()) == "-inf");
}

TEST_CASE("CSVLogger.byte_exact_content") {
    TempDir dir("csv_exact");
    const fs::path path = dir.path / "log.csv";
    SUBCASE("sorted keys, 0-based epoch, repr values, \\r\\n") {
        CSVLogger logger(path);
        drive(logger, {Logs{{"loss", 0.5}, {"accuracy", 0.25}, {"val_loss", 0.75}, {"val_accuracy", 0.125}},
                       Logs{{"loss", 0.1}, {"accuracy", 1e-05}, {"val_loss", std::numeric_limits<double>::quiet_NaN()},
                            {"val_accuracy", 1.0}}});
        CHECK(read_text(path) ==
              "epoch,accuracy,loss,val_accuracy,val_loss\r\n"
              "0,0.25,0.5,0.125,0.75\r\n"
              "1,1e-05,0.1,1.0,nan\r\n");
    }
    SUBCASE("without val_ keys Keras adds NA val_ columns") {
        CSVLogger logger(path);
        drive(logger, {Logs{{"loss", 0.5}, {"accuracy", 0.25}}, Logs{{"loss", 0.4}, {"accuracy", 0.5}}});
        CHECK(read_text(path) ==
              "epoch,accuracy,loss,val_accuracy,val_loss\r\n"
              "0,0.25,0.5,NA,NA\r\n"
              "1,0.5,0.4,NA,NA\r\n");
    }
    SUBCASE("keys fixed by the first epoch: missing later ones are NA, new ones ignored") {
        CSVLogger logger(path);
        drive(logger, {Logs{{"loss", 0.5}, {"val_loss", 0.25}}, Logs{{"val_loss", 0.125}, {"lr", 0.1}}});
        CHECK(read_text(path) == "epoch,loss,val_loss\r\n0,0.5,0.25\r\n1,NA,0.125\r\n");
    }
    SUBCASE("separator, and quoting of a field that holds it") {
        CSVLogger logger(path, ';');
        drive(logger, {Logs{{"a;b", 1.0}, {"val_x", 2.0}}});
        CHECK(read_text(path) == "epoch;\"a;b\";val_x\r\n0;1.0;2.0\r\n");
    }
    SUBCASE("a second fit overwrites without append") {
        CSVLogger logger(path);
        drive(logger, {Logs{{"loss", 0.5}, {"val_loss", 1.0}}});
        drive(logger, {Logs{{"loss", 0.25}, {"val_loss", 2.0}}});
        CHECK(read_text(path) == "epoch,loss,val_loss\r\n0,0.25,2.0\r\n");
    }
}

TEST_CASE("CSVLogger.append") {
    TempDir dir("csv_append");
    const fs::path path = dir.path / "log.csv";
    SUBCASE("header once, rows of both runs") {
        CSVLogger logger(path, ',', true);
        drive(logger, {Logs{{"loss", 0.5}, {"val_loss", 1.0}}, Logs{{"loss", 0.25}, {"val_loss", 0.5}}});
        drive(logger, {Logs{{"loss", 0.125}, {"val_loss", 0.25}}});
        CHECK(read_text(path) == "epoch,loss,val_loss\r\n0,0.5,1.0\r\n1,0.25,0.5\r\n0,0.125,0.25\r\n");
    }
    SUBCASE("an existing empty file gets the header") {
        testing::TempDir sub("csv_append_empty");
        const fs::path empty = sub.path / "empty.csv";
        { std::ofstream touch(empty); }
        CSVLogger logger(empty, ',', true);
        drive(logger, {Logs{{"loss", 0.5}, {"val_loss", 1.0}}});
        CHECK(read_text(empty) == "epoch,loss,val_loss\r\n0,0.5,1.0\r\n");
    }
    SUBCASE("a non-empty file is appended to without a header") {
        { std::ofstream old(path, std::ios::binary); old << "previous\r\n"; }
        CSVLogger logger(path, ',', true);
        drive(logger, {Logs{{"loss", 0.5}, {"val_loss", 1.0}}});
        CHECK(read_text(path) == "previous\r\n0,0.5,1.0\r\n");
    }
}

TEST_CASE("CSVLogger.flushes_every_epoch") {
    TempDir dir("csv_flush");
    const fs::path path = dir.path / "log.csv";
    CSVLogger logger(path);
    logger.on_train_begin(Logs{});
    logger.on_epoch_end(0, Logs{{"loss", 0.5}, {"val_loss", 1.0}});
    CHECK(read_text(path) == "epoch,loss,val_loss\r\n0,0.5,1.0\r\n");  // before on_train_end
    logger.on_epoch_end(1, Logs{{"loss", 0.25}, {"val_loss", 1.0}});
    CHECK(read_text(path) == "epoch,loss,val_loss\r\n0,0.5,1.0\r\n1,0.25,1.0\r\n");
    logger.on_train_end(Logs{});
}

TEST_CASE("CSVLogger.errors") {
    TempDir dir("csv_errors");
    SUBCASE("a file that cannot be opened: file_error naming the path, at on_train_begin") {
        const fs::path path = dir.path / "missing_dir" / "log.csv";
        CSVLogger logger(path);  // constructing does not touch the file system
        try {
            logger.on_train_begin(Logs{});
            FAIL("no exception");
        } catch (const file_error& e) {
            CHECK(e.path() == path.string());
            CHECK(std::string(e.what()).starts_with(path.string() + ": CSVLogger: cannot open for writing: "));
        }
    }
    SUBCASE("a separator that cannot work") {
        CHECK_THROWS_AS(CSVLogger(dir.path / "x.csv", '"'), std::invalid_argument);
        CHECK_THROWS_AS(CSVLogger(dir.path / "x.csv", '\n'), std::invalid_argument);
    }
}

TEST_CASE("CSVLogger.real_fit_reads_back_history") {
    TempDir dir("csv_fit");
    const fs::path path = dir.path / "training.csv";
    testing::TinyData d;
    auto model = testing::make_tiny_model();
    CSVLogger logger(path);
    const History h = model.fit(d.x, d.y, {.epochs = 3, .batch_size = 4, .validation_split = 0.2, .verbose = 0}, logger);
    const std::string text = read_text(path);
    std::vector<std::string> lines = split(text, '\n');
    REQUIRE(lines.size() == 5);  // header, 3 rows, "" after the last \n
    CHECK(lines.back().empty());
    CHECK(lines[0] == "epoch,accuracy,loss,val_accuracy,val_loss\r");
    const std::vector<std::string> keys = {"accuracy", "loss", "val_accuracy", "val_loss"};
    for (std::size_t e = 0; e < 3; ++e) {
        std::string line = lines[e + 1];
        REQUIRE(line.ends_with('\r'));
        line.pop_back();
        const auto fields = split(line, ',');
        REQUIRE(fields.size() == 5);
        CHECK(fields[0] == std::to_string(e));
        for (std::size_t k = 0; k < keys.size(); ++k) CHECK(std::stod(fields[k + 1]) == h.at(keys[k])[e]);  // exact round trip
    }
}

}  // namespace callbacks_test_csv_logger
