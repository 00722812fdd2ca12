// examples/control_charts.cpp — a time-series classifier built from the 1-D layers: Conv1D finds local
// shapes (a jump, a slope, a wave), MaxPooling1D halves the sequence, and a GRU reads what is left in
// order, on the synthetic control charts (examples/control_charts.hpp: six classes of 60-step process
// series generated from their published formulas, so nothing is downloaded).
//
// Network: (60, 1) -> Conv1D(16, 5, relu, causal) -> MaxPooling1D(2) -> Conv1D(32, 3, relu, same)
//          -> GRU(32) -> Dense(6, softmax); 8,198 parameters.
// Recipe:  Adam (Keras's defaults), categorical cross-entropy, batch 32, 6,000 training series (the last
//          10% validate, validation_split = 0.1) and 1,200 test series from another seed.
// Run:     build/examples/control_charts [--epochs 8] [--batch-size 32] [--seed 0] [--logdir DIR]
//                                        [--save-onnx FILE] [--save-predictions FILE.npy]  (test set, float32 rows)
//                                        [--backup-dir DIR] (a killed run started again resumes) [--save-weights FILE]
//          Prints the History, then `score = [<test loss>, <test accuracy>]` last. The PyTorch twin
//          (benchmarks/pytorch_control_charts.py) calibrates the accuracy: see benchmarks/README.md.
#include <cstdio>
#include <exception>
#include <iostream>
#include <string>

#include <ctnn/ctnn.hpp>

#include "cli.hpp"
#include "backup.hpp"
#include "export.hpp"
#include "control_charts.hpp"

using namespace ctnn;

namespace charts = examples::control_charts;

struct ControlChartNet : Sequential<Input<charts::steps, 1>,
                                    Conv1D<16, 5, Relu, Padding1D::causal>,
                                    MaxPooling1D<2>,
                                    Conv1D<32, 3, Relu, Padding1D::same>,
                                    GRU<32>,
                                    Dense<32, charts::classes, Softmax>> {};
// Conv1D 5·1·16 + 16 = 96 and 3·16·32 + 32 = 1,568; GRU 3·(32·(32 + 32) + 2·32) = 6,336; Dense 198.
static_assert(ControlChartNet::param_count == 96 + 1'568 + 6'336 + 198);

int main(int argc, char** argv) try {
    const examples::Options options(argc, argv, {{"epochs", "8"}, {"batch-size", "32"}, {"seed", "0"}, {"logdir", ""},
                                                 {"save-onnx", ""}, {"save-predictions", ""},  // test set: FILE.npy
                                                 {"backup-dir", ""}, {"save-weights", ""}});

    // 1. Data: 1,000 series of each class to train on (fit holds out the last 10%), 200 of each to test,
    //    generated from two different seeds.
    const std::uint64_t seed = options.number("seed");
    const auto train = charts::generate(1000, 2 * seed + 1);
    const auto test = charts::generate(200, 2 * seed + 2);

    // 2. Model.
    auto model = compile<ControlChartNet>(optimizers::Adam{}, losses::CategoricalCrossentropy{},
                                                    metrics::Accuracy{});
    model.initialize(seed);
    model.summary();

    // 3. Train (TensorBoard logs with --logdir).
    const FitOptions fit_options{.epochs = options.number("epochs"),
                                 .batch_size = options.number("batch-size"),
                                 .validation_split = 0.1,
                                 .seed = seed};
    const std::string logdir = options.text("logdir");
    examples::Backup backup(options);  // --backup-dir: a killed run started again resumes, bit for bit
    const History history = logdir.empty() ? model.fit(train.x, train.y, fit_options, backup)
                                           : model.fit(train.x, train.y, fit_options, backup,
                                                       callbacks::TensorBoard{{.log_dir = logdir, .histogram_freq = 1}});
    examples::save_weights(model, options);
    std::cout << "history = " << history << '\n';

    // 4. Test on series the model has never seen.
    const auto score = model.evaluate(test.x, test.y);
    examples::save_exports(model, options, test.x, options.number("batch-size"));
    std::printf("score = [%.4f, %.4f]\n", score[0], score[1]);
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "control_charts: %s\n", e.what());
    return 1;
}
