// ModelCheckpoint: Python-format file names, save_best_only (which files exist and what they
// hold), mode, initial_value_threshold, save_freq in batches, messages, and a real fit.
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <ctnn/callbacks/model_checkpoint.hpp>

#include "fake_model.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace callbacks_test_model_checkpoint {

using namespace ctnn;
using callbacks::ModelCheckpoint;
using testing::FakeModel;
using testing::TempDir;
namespace fs = std::filesystem;

namespace {
// Drives epoch ends as fit would, marking the fake weights with the 1-based epoch number first.
void drive_epochs(ModelCheckpoint& cp, FakeModel& model, const std::vector<double>& values,
                  const std::string& key = "val_loss") {
    cp.set_model(model);
    cp.on_train_begin(Logs{});
    for (std::size_t e = 0; e < values.size(); ++e) {
        cp.on_epoch_begin(e);
        model.mark(float(e + 1));
        cp.on_epoch_end(e, Logs{{"loss", 0.25}, {key, values[e]}});
    }
}
float saved_marker(const fs::path& path) { return io::load_npz(path).at(0).values.at(0); }
}  // namespace

TEST_CASE("ModelCheckpoint.file_name_template") {
    const Logs logs{{"loss", 0.000123456}, {"accuracy", 0.876}, {"val_loss", 0.123456}};
    SUBCASE("epoch is 1-based; d with zero fill and width; .Nf; .Ne") {
        CHECK(ModelCheckpoint("w.{epoch:02d}-{val_loss:.4f}.npz").file_path(0, std::nullopt, logs) == "w.01-0.1235.npz");
        CHECK(ModelCheckpoint("w.{epoch:02d}-{val_loss:.4f}.npz").file_path(9, std::nullopt, logs) == "w.10-0.1235.npz");
        CHECK(ModelCheckpoint("w.{epoch:02d}.npz").file_path(122, std::nullopt, logs) == "w.123.npz");
        CHECK(ModelCheckpoint("{epoch}_{accuracy:.2f}").file_path(2, std::nullopt, logs) == "3_0.88");
        CHECK(ModelCheckpoint("{loss:.2e}").file_path(0, std::nullopt, logs) == "1.23e-04");
        CHECK(ModelCheckpoint("{epoch:3d}|{epoch:03d}|{accuracy:08.3f}").file_path(4, std::nullopt, logs) ==
              "  5|005|0000.876");
        CHECK(ModelCheckpoint("{val_loss:f}").file_path(0, std::nullopt, logs) == "0.123456");
    }
    SUBCASE("a field without a spec prints as Python's str()") {
        CHECK(ModelCheckpoint("{epoch}-{accuracy}-{loss}").file_path(0, std::nullopt, logs) == "1-0.876-0.000123456");
    }
    SUBCASE("braces are escaped by doubling") {
        CHECK(ModelCheckpoint("{{epoch}}-{epoch}}}").file_path(0, std::nullopt, logs) == "{epoch}-1}");
    }
    SUBCASE("batch is 1-based when saving by batches and replaces the batch log") {
        const Logs batch_logs{{"batch", 4.0}, {"size", 32.0}, {"loss", 0.5}};
        CHECK(ModelCheckpoint("{epoch}-{batch:03d}-{loss:.1f}").file_path(1, 4, batch_logs) == "2-005-0.5");
    }
    SUBCASE("an unknown field names itself and what is available") {
        CHECK_THROWS_WITH_AS(ModelCheckpoint("w.{val_los:.4f}.npz").file_path(0, std::nullopt, logs),
                             "ModelCheckpoint: filepath \"w.{val_los:.4f}.npz\" uses field {val_los}, which is not "
                             "available; available fields: epoch, loss, accuracy, val_loss",
                             std::invalid_argument);
        CHECK_THROWS_WITH_AS(ModelCheckpoint("{batch}").file_path(0, std::nullopt, logs),
                             doctest::Contains("{batch}"), std::invalid_argument);
    }
    SUBCASE("specs outside d/.Nf/.Ne and malformed templates are rejected") {
        CHECK_THROWS_WITH_AS(ModelCheckpoint("{loss:d}").file_path(0, std::nullopt, logs),
                             doctest::Contains("loss is a float"), std::invalid_argument);
        CHECK_THROWS_AS(ModelCheckpoint("{loss:>10}").file_path(0, std::nullopt, logs), std::invalid_argument);
        CHECK_THROWS_AS(ModelCheckpoint("{loss:.x}").file_path(0, std::nullopt, logs), std::invalid_argument);
        CHECK_THROWS_AS(ModelCheckpoint("{loss:.2}").file_path(0, std::nullopt, logs), std::invalid_argument);
        CHECK_THROWS_AS(ModelCheckpoint("{epoch:.2d}").file_path(0, std::nullopt, logs), std::invalid_argument);
        CHECK_THROWS_WITH_AS(ModelCheckpoint("w{epoch").file_path(0, std::nullopt, logs),
                             doctest::Contains("without a closing"), std::invalid_argument);
        CHECK_THROWS_WITH_AS(ModelCheckpoint("w}").file_path(0, std::nullopt, logs), doctest::Contains("single '}'"),
                             std::invalid_argument);
        CHECK_THROWS_AS(ModelCheckpoint(""), std::invalid_argument);
    }
}

TEST_CASE("ModelCheckpoint.save_every_epoch") {
    TempDir dir("ckpt_every");
    FakeModel model;
    std::ostringstream out;
    const std::string pattern = (dir.path / "sub" / "dir" / "w.{epoch:02d}.npz").string();
    ModelCheckpoint cp(pattern, {.verbose = 1}, out);
    drive_epochs(cp, model, {1.0, 2.0, 3.0});
    // Parent directories were created; one file per epoch holding that epoch's weights.
    for (int e = 1; e <= 3; ++e) {
        const fs::path p = dir.path / "sub" / "dir" / ("w.0" + std::to_string(e) + ".npz");
        REQUIRE(fs::exists(p));
        CHECK(saved_marker(p) == float(e));
    }
    CHECK(cp.saves() == 3);
    CHECK(out.str() == "Epoch 1: saving model to " + (dir.path / "sub/dir/w.01.npz").string() + "\n" +
                           "Epoch 2: saving model to " + (dir.path / "sub/dir/w.02.npz").string() + "\n" +
                           "Epoch 3: saving model to " + (dir.path / "sub/dir/w.03.npz").string() + "\n");
}

TEST_CASE("ModelCheckpoint.save_best_only") {
    TempDir dir("ckpt_best");
    FakeModel model;
    std::ostringstream out;
    SUBCASE("one file per improving epoch, Keras's messages") {
        ModelCheckpoint cp((dir.path / "best.{epoch:02d}.npz").string(), {.verbose = 1, .save_best_only = true}, out);
        drive_epochs(cp, model, {1.0, 0.8, 0.9, 0.7});
        CHECK(fs::exists(dir.path / "best.01.npz"));
        CHECK(fs::exists(dir.path / "best.02.npz"));
        CHECK_FALSE(fs::exists(dir.path / "best.03.npz"));
        CHECK(fs::exists(dir.path / "best.04.npz"));
        CHECK(saved_marker(dir.path / "best.04.npz") == 4.0f);
        CHECK(cp.best() == doctest::Approx(0.7));
        const std::string p = (dir.path / "best.0").string();
        CHECK(out.str() == "Epoch 1: val_loss improved from inf to 1.00000, saving model to " + p + "1.npz\n"
                           "Epoch 2: val_loss improved from 1.00000 to 0.80000, saving model to " + p + "2.npz\n"
                           "Epoch 3: val_loss did not improve from 0.80000\n"
                           "Epoch 4: val_loss improved from 0.80000 to 0.70000, saving model to " + p + "4.npz\n");
    }
    SUBCASE("without {epoch} the file always holds the best epoch's weights") {
        ModelCheckpoint cp((dir.path / "best.npz").string(), {.save_best_only = true}, out);
        drive_epochs(cp, model, {1.0, 0.5, 0.9, 0.6});
        CHECK(model.saved.size() == 2);
        CHECK(saved_marker(dir.path / "best.npz") == 2.0f);
        CHECK(out.str().empty());  // verbose 0
    }
    SUBCASE("mode auto maximizes val_accuracy") {
        ModelCheckpoint cp((dir.path / "acc.{epoch}.npz").string(), {.monitor = "val_accuracy", .save_best_only = true}, out);
        drive_epochs(cp, model, {0.5, 0.4, 0.6, 0.6}, "val_accuracy");
        CHECK(fs::exists(dir.path / "acc.1.npz"));
        CHECK_FALSE(fs::exists(dir.path / "acc.2.npz"));
        CHECK(fs::exists(dir.path / "acc.3.npz"));
        CHECK_FALSE(fs::exists(dir.path / "acc.4.npz"));  // equal is not better
    }
    SUBCASE("explicit mode min on an accuracy") {
        ModelCheckpoint cp((dir.path / "acc.{epoch}.npz").string(),
                           {.monitor = "val_accuracy", .save_best_only = true, .mode = "min"}, out);
        drive_epochs(cp, model, {0.5, 0.4, 0.6}, "val_accuracy");
        CHECK(model.saved.size() == 2);
        CHECK_FALSE(fs::exists(dir.path / "acc.3.npz"));
    }
    SUBCASE("initial_value_threshold is the first best to beat") {
        ModelCheckpoint cp((dir.path / "t.{epoch}.npz").string(),
                           {.verbose = 1, .save_best_only = true, .initial_value_threshold = 0.9}, out);
        drive_epochs(cp, model, {1.0, 0.8});
        CHECK(model.saved.size() == 1);
        CHECK(fs::exists(dir.path / "t.2.npz"));
        CHECK(out.str() == "Epoch 1: val_loss did not improve from 0.90000\n"
                           "Epoch 2: val_loss improved from 0.90000 to 0.80000, saving model to " +
                               (dir.path / "t.2.npz").string() + "\n");
    }
    SUBCASE("a missing monitor key warns once and skips") {
        ModelCheckpoint cp((dir.path / "m.npz").string(), {.save_best_only = true}, out);
        drive_epochs(cp, model, {1.0, 0.5}, "val_los");
        CHECK(model.saved.empty());
        CHECK(out.str() == "UserWarning: Can save best model only with val_loss available, skipping.\n");
    }
    SUBCASE("best is kept across fits, as Keras") {
        ModelCheckpoint cp((dir.path / "k.npz").string(), {.save_best_only = true}, out);
        drive_epochs(cp, model, {0.5});
        drive_epochs(cp, model, {0.7, 0.4});
        CHECK(model.saved.size() == 2);
        CHECK(saved_marker(dir.path / "k.npz") == 2.0f);
    }
    SUBCASE("auto mode needs a known metric only when monitoring") {
        CHECK_NOTHROW(ModelCheckpoint("x.npz", {.monitor = "score"}));
        CHECK_THROWS_AS(ModelCheckpoint("x.npz", {.monitor = "score", .save_best_only = true}), std::invalid_argument);
    }
}

TEST_CASE("ModelCheckpoint.save_freq_in_batches") {
    TempDir dir("ckpt_batches");
    FakeModel model;
    std::ostringstream out;
    ModelCheckpoint cp((dir.path / "{epoch}-{batch}.npz").string(), {.save_freq = 3}, out);
    cp.set_model(model);
    cp.on_train_begin(Logs{});
    // Two epochs of 4 batches: the count runs across the epoch boundary (Keras): saves after
    // batches 3 of epoch 1 and 2 of epoch 2 (1-based); epoch ends save nothing.
    for (std::size_t e = 0; e < 2; ++e) {
        cp.on_epoch_begin(e);
        for (std::size_t b = 0; b < 4; ++b) cp.on_train_batch_end(b, Logs{{"batch", double(b)}, {"loss", 0.5}});
        cp.on_epoch_end(e, Logs{{"loss", 0.5}, {"val_loss", 0.4}});
    }
    REQUIRE(model.saved.size() == 2);
    CHECK(model.saved[0] == dir.path / "1-3.npz");
    CHECK(model.saved[1] == dir.path / "2-2.npz");
    CHECK(fs::exists(dir.path / "1-3.npz"));
    CHECK(fs::exists(dir.path / "2-2.npz"));
}

TEST_CASE("ModelCheckpoint.save_freq_values") {
    CHECK(callbacks::SaveFrequency("epoch").per_epoch());
    CHECK(callbacks::SaveFrequency(5).batches == 5);
    CHECK_THROWS_WITH_AS(callbacks::SaveFrequency("batch"), doctest::Contains("\"batch\""), std::invalid_argument);
    CHECK_THROWS_AS(callbacks::SaveFrequency(0), std::invalid_argument);
    CHECK_THROWS_AS(callbacks::SaveFrequency(-2), std::invalid_argument);
}

TEST_CASE("ModelCheckpoint.real_fit") {
    TempDir dir("ckpt_fit");
    testing::TinyData d;
    SUBCASE("save_best_only on loss: a file exactly for each new minimum, holding that epoch's weights") {
        auto model = testing::make_tiny_model(0.5f);
        testing::WeightRecorder recorder;
        std::ostringstream out;
        ModelCheckpoint cp((dir.path / "e{epoch:02d}-{loss:.4f}.npz").string(), {.monitor = "loss", .save_best_only = true},
                           out);
        const History h = model.fit(d.x, d.y, {.epochs = 6, .batch_size = 5, .verbose = 0}, recorder, cp);
        const auto& loss = h.at("loss");
        double best = 1e300;
        std::size_t expected_saves = 0;
        for (std::size_t e = 0; e < loss.size(); ++e) {
            char name[64];
            std::snprintf(name, sizeof name, "e%02zu-%.4f.npz", e + 1, loss[e]);
            const fs::path p = dir.path / name;
            if (loss[e] < best) {
                best = loss[e];
                ++expected_saves;
                REQUIRE(fs::exists(p));
                CHECK(testing::same_values(io::load_npz(p), recorder.weights[e]));
            } else {
                CHECK_FALSE(fs::exists(p));
            }
        }
        CHECK(cp.saves() == expected_saves);
        CHECK(std::distance(fs::directory_iterator(dir.path), fs::directory_iterator{}) == std::ptrdiff_t(expected_saves));
        // What was saved loads back into the model.
        auto other = testing::make_tiny_model();
        other.load_weights(cp.last_saved());
        CHECK(testing::same_values(other.get_weights(), io::load_npz(cp.last_saved())));
    }
    SUBCASE("a misspelt field is reported before the first epoch") {
        auto model = testing::make_tiny_model();
        ModelCheckpoint cp((dir.path / "{val_los:.2f}.npz").string());
        CHECK_THROWS_WITH_AS(model.fit(d.x, d.y, {.epochs = 2, .validation_split = 0.2, .verbose = 0}, cp),
                             doctest::Contains("available fields: epoch, loss, accuracy, val_loss, val_accuracy"),
                             std::invalid_argument);
        CHECK(model.iterations() == 0);
    }
}

}  // namespace callbacks_test_model_checkpoint
