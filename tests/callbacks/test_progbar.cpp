// ProgbarLogger: Keras-style lines, no carriage returns when the stream is not a terminal.
#include <doctest/doctest.h>

#include <sstream>

#include <ctnn/callbacks/progbar.hpp>

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace callbacks_test_progbar {

using namespace ctnn;

TEST_CASE("Progbar.not_a_terminal_prints_one_line_per_epoch") {
    std::ostringstream out;
    callbacks::ProgbarLogger bar(1, out, false);
    bar.set_params(FitParams{.batch_size = 10, .epochs = 2, .samples = 30, .steps = 3});
    bar.on_epoch_begin(0, {});
    for (std::size_t b = 0; b < 3; ++b) bar.on_train_batch_end(b, Logs{{"loss", 0.5}, {"accuracy", 0.75}, {"size", 10}});
    bar.on_epoch_end(0, Logs{{"loss", 0.5}, {"accuracy", 0.75}, {"val_loss", 0.00012}, {"val_accuracy", 0.8}});
    const std::string s = out.str();
    CHECK(s.find('\r') == std::string::npos);
    CHECK(s.rfind("Epoch 1/2\n3/3 [==============================] - ", 0) == 0);
    CHECK(s.find("/step - loss: 0.5000 - accuracy: 0.7500 - val_loss: 1.2000e-04 - val_accuracy: 0.8000\n") !=
          std::string::npos);
    CHECK(s.find("size") == std::string::npos);
    CHECK(std::count(s.begin(), s.end(), '\n') == 2);
}

TEST_CASE("Progbar.terminal_redraws_in_place") {
    std::ostringstream out;
    callbacks::ProgbarLogger bar(1, out, true);
    bar.set_params(FitParams{.epochs = 1, .steps = 4});
    bar.on_epoch_begin(0, {});
    bar.start(4);
    bar.update(2, Logs{{"loss", 1.0}}, true);
    CHECK(out.str().find("\r2/4 [==============>...............]") != std::string::npos);
}

TEST_CASE("Progbar.verbose_2_and_0") {
    std::ostringstream two, zero;
    callbacks::ProgbarLogger bar2(2, two, true), bar0(0, zero, true);
    for (auto* bar : {&bar2, &bar0}) {
        bar->set_params(FitParams{.epochs = 1, .steps = 2});
        bar->on_epoch_begin(0, {});
        bar->on_train_batch_end(0, Logs{{"loss", 1.0}});
        bar->on_train_batch_end(1, Logs{{"loss", 1.0}});
        bar->on_epoch_end(0, Logs{{"loss", 1.0}});
    }
    CHECK(two.str().rfind("2/2 - ", 0) == 0);
    CHECK(two.str().find('[') == std::string::npos);
    CHECK(two.str().find('\r') == std::string::npos);
    CHECK(zero.str().empty());
}

}  // namespace callbacks_test_progbar
