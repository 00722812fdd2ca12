// Trains a tiny model with callbacks::TensorBoard (update_freq = batch, histogram_freq = 1, validation
// data) into <log_dir>, for tests/tensorboard/check_callback_logdir.py, which decodes the files with
// protoc-generated code. Prints what fit reported, one `name value...` line each, for the script to
// compare with: epoch log values (History), batch running-mean losses, iterations, weight sizes.
// Usage: write_callback_logdir <log_dir>
#include <cstdio>
#include <exception>
#include <string>
#include <vector>

#include <ctnn/callbacks/tensorboard.hpp>
#include <ctnn/ctnn.hpp>

using namespace ctnn;

namespace {
struct Net : Sequential<Dense<2, 4, Tanh>, Dense<4, 2, Softmax>> {};

struct BatchLosses {
    std::vector<double> loss;
    void on_train_batch_end(const Logs& logs) { loss.push_back(logs.at("loss")); }
};

void print_line(const std::string& name, const std::vector<double>& values) {
    std::printf("%s", name.c_str());
    for (double v : values) std::printf(" %.17g", v);
    std::printf("\n");
}
}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <log_dir>\n", argv[0]);
        return 2;
    }
    try {
        // 10 training samples in batches of 4, 4, 2 (3 steps per epoch), 4 validation samples.
        Matrix x = Matrix::from_shape({10, 2}), y = Matrix::from_shape({10, 2});
        Matrix vx = Matrix::from_shape({4, 2}), vy = Matrix::from_shape({4, 2});
        for (std::size_t i = 0; i < 10; ++i) {
            x(i, 0) = float(i) / 10.0f;
            x(i, 1) = 1.0f - float(i) / 7.0f;
            y(i, 0) = i % 3 == 0 ? 1.0f : 0.0f;
            y(i, 1) = 1.0f - y(i, 0);
        }
        for (std::size_t i = 0; i < 4; ++i) {
            vx(i, 0) = 0.3f * float(i);
            vx(i, 1) = 0.5f;
            vy(i, 0) = i % 2 == 0 ? 1.0f : 0.0f;
            vy(i, 1) = 1.0f - vy(i, 0);
        }
        auto model = compile<Net>(optimizers::Adam{.learning_rate = 0.01f}, losses::CategoricalCrossentropy{},
                                  metrics::Accuracy{});
        model.initialize(3);
        BatchLosses batches;
        const History history = model.fit(
            x, y, {.epochs = 3, .batch_size = 4, .validation_data = {vx, vy}, .verbose = 0},
            callbacks::TensorBoard{{.log_dir = argv[1], .update_freq = callbacks::UpdateFreq::batch, .histogram_freq = 1}},
            batches);
        for (const auto& [name, values] : history.history) print_line("history_" + name, values);
        print_line("batch_loss", batches.loss);
        print_line("learning_rate", {double(model.learning_rate())});
        print_line("iterations", {double(model.iterations())});
        for (const auto& weight : model.get_weights()) print_line("weight " + weight.name, {double(weight.values.size())});
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "write_callback_logdir: %s\n", e.what());
        return 1;
    }
}
