// Sequential<...>: compile-time facts of the reference network, layer names, summary table; the same
// for networks with blocks and BatchNormalization (Keras's functional table, non-trainable counts),
// and BatchNormalization folded into the layer before it at inference.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <sstream>
#include <string_view>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "helpers.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace model_test_sequential {

using namespace ctnn;

namespace {
struct MnistMlp : Sequential<Dense<784, 1000, Relu>, Dense<1000, 500, Relu>, Dropout<0.9>, Dense<500, 10, Softmax>> {};
struct NotebookSecondForm : Sequential<Dense<784, 1000>, Activation<Relu>, Dense<1000, 500>, Activation<Relu>,
                                       Dropout<0.9>, Dense<500, 10>, Activation<Softmax>> {};
// A small ResNet v1: a stem, an identity block, a projection block with a normalized shortcut.
struct SmallResNet
    : Sequential<Input<8, 8, 1>, Conv2D<4, 3, 3, Linear, 1, Padding::same>, BatchNormalization, Activation<Relu>,
                 Residual<Conv2D<4, 3, 3, Linear, 1, Padding::same>, BatchNormalization, Activation<Relu>,
                          Conv2D<4, 3, 3, Linear, 1, Padding::same>, BatchNormalization>,
                 Activation<Relu>,
                 Residual<Conv2D<8, 3, 3, Linear, 2, Padding::same>, BatchNormalization, Activation<Relu>,
                          Conv2D<8, 3, 3, Linear, 1, Padding::same>, BatchNormalization,
                          Shortcut<Conv2D<8, 1, 1, Linear, 2>, BatchNormalization>>,
                 Activation<Relu>, GlobalAveragePooling2D, Dense<8, 3, Softmax>> {};
// Foldable pairs (Conv2D and Dense without activation, then BatchNormalization) and one that is not
// (a ReLU between them), at the start, inside a block and before the output.
struct FoldingNet
    : Sequential<Input<6, 6, 2>, Conv2D<3, 3, 3, Linear, 1, Padding::same>, BatchNormalization,
                 Conv2D<3, 3, 3, Relu, 1, Padding::same>, BatchNormalization,
                 Residual<Conv2D<3, 1, 1>, BatchNormalization, Activation<Tanh>>, Flatten, Dense<108, 5>,
                 BatchNormalization, Activation<Softmax>> {};
}  // namespace

static_assert(MnistMlp::input_size == 784);
static_assert(MnistMlp::non_trainable_param_count == 0 && MnistMlp::trainable_param_count == MnistMlp::param_count);
// Keras's counts: a BatchNormalization of C channels has 4C weights, 2C of them non-trainable.
static_assert(SmallResNet::param_count == (36 + 4) + 16 + 2 * (144 + 4 + 16) + (288 + 8) + 32 + (576 + 8) + 32 +
                                              (32 + 8) + 32 + (8 * 3 + 3));
static_assert(SmallResNet::non_trainable_param_count == 2 * (4 + 4 + 4 + 8 + 8 + 8));
static_assert(SmallResNet::layer_count == 9);  // the blocks are one entry each
static_assert(detail::FoldablePair<Conv2DLayer<Shape<6, 6, 2>, 3, 3, 3, Linear, 1, Padding::same>,
                                   BatchNormalization::bind<Shape<6, 6, 3>>>);
static_assert(!detail::FoldablePair<Conv2DLayer<Shape<6, 6, 2>, 3, 3, 3, Relu, 1, Padding::same>,
                                    BatchNormalization::bind<Shape<6, 6, 3>>>);
static_assert(detail::FoldablePair<Dense<108, 5>, BatchNormalization::bind<Shape<5>>>);
static_assert(MnistMlp::output_size == 10);
static_assert(MnistMlp::param_count == 1'290'510);
static_assert(MnistMlp::layer_count == 4);
static_assert(MnistMlp::max_width == 1000);
static_assert(std::is_same_v<MnistMlp::layer_type<2>, DropoutLayer<Shape<500>, 0.9>>);
static_assert(NotebookSecondForm::param_count == MnistMlp::param_count);
// A ReLU after BatchNormalization, a block or a Dense without activation writes over their output
// (their backward does not read it); after a Dense with its own activation (whose backward reads y)
// it keeps its own buffer, and Softmax (not elementwise) always does.
static_assert(detail::output_slot<SmallResNet::layer_tuple, 2>() == 1);  // conv2d, batch_normalization, activation
static_assert(detail::output_slot<SmallResNet::layer_tuple, 4>() == 3);  // residual, activation_1
static_assert(detail::output_slot<SmallResNet::layer_tuple, 5>() == 5);
static_assert(detail::output_slot<NotebookSecondForm::layer_tuple, 1>() == 0);
static_assert(detail::output_slot<NotebookSecondForm::layer_tuple, 6>() == 6);
static_assert(detail::output_slot<std::tuple<Dense<4, 3, Relu>, ActivationLayer<Shape<3>, Tanh>>, 1>() == 1);
static_assert(std::is_same_v<NotebookSecondForm::layer_type<6>, ActivationLayer<Shape<10>, Softmax>>);

TEST_CASE("Sequential.keras_layer_names") {
    CHECK(MnistMlp::layer_name(0) == "dense");
    CHECK(MnistMlp::layer_name(1) == "dense_1");
    CHECK(MnistMlp::layer_name(2) == "dropout");
    CHECK(MnistMlp::layer_name(3) == "dense_2");
    CHECK(NotebookSecondForm::layer_name(1) == "activation");
    CHECK(NotebookSecondForm::layer_name(3) == "activation_1");
    CHECK(NotebookSecondForm::layer_name(6) == "activation_2");
}

TEST_CASE("Sequential.summary_table") {
    std::ostringstream out;
    MnistMlp::summary(out);
    const std::string s = out.str();
    CHECK(s.find("Model: \"sequential\"") != std::string::npos);
    CHECK(s.find(" dense (Dense)               (None, 1000)              785,000") != std::string::npos);
    CHECK(s.find(" dense_1 (Dense)             (None, 500)               500,500") != std::string::npos);
    CHECK(s.find(" dropout (Dropout)           (None, 500)               0") != std::string::npos);
    CHECK(s.find(" dense_2 (Dense)             (None, 10)                5,010") != std::string::npos);
    CHECK(s.find("Total params: 1,290,510 (4.92 MB)") != std::string::npos);
}

TEST_CASE("Sequential.forward_equals_layer_by_layer") {
    struct Small : Sequential<Dense<3, 4, Tanh>, Dropout<0.5>, Dense<4, 2, Softmax>> {};
    Small net;
    Rng rng(9);
    net.initialize(rng);
    Small::Workspace ws;
    ws.reserve(2);
    const float x[6] = {0.1f, -0.2f, 0.3f, 1.0f, 0.5f, -1.0f};
    net.forward(x, ws, {2, Phase::inference, nullptr});
    float h[8], y[4];
    net.layer<0>().forward(x, h, {2, Phase::inference, nullptr});
    net.layer<2>().forward(h, y, {2, Phase::inference, nullptr});
    for (int k = 0; k < 4; ++k) CHECK(ws.output()[k] == doctest::Approx(y[k]));
    CHECK(ws.output()[0] + ws.output()[1] == doctest::Approx(1.0));
}

TEST_CASE("Sequential.visit_parameters_names_and_order") {
    MnistMlp net;
    std::vector<std::string> names;
    std::size_t total = 0;
    net.visit_parameters([&](std::size_t, const std::string& layer, Parameter& p) {
        names.push_back(layer + "/" + std::string(p.name));
        total += p.size();
    });
    CHECK(names == std::vector<std::string>{"dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias",
                                            "dense_2/kernel", "dense_2/bias"});
    CHECK(total == MnistMlp::param_count);
}

// A line of `table` holding every piece, in order.
bool has_row(const std::string& table, std::initializer_list<std::string_view> pieces) {
    std::istringstream lines(table);
    for (std::string line; std::getline(lines, line);) {
        std::size_t at = 0;
        bool all = true;
        for (std::string_view piece : pieces) {
            at = line.find(piece, at);
            if (at == std::string::npos) {
                all = false;
                break;
            }
            at += piece.size();
        }
        if (all) return true;
    }
    return false;
}

TEST_CASE("Sequential.blocks_name_layers_across_the_model_as_keras") {
    std::vector<std::string> names;
    SmallResNet net;
    net.visit_parameters([&](std::size_t, const std::string& layer, Parameter& p) {
        names.push_back(layer + '/' + std::string(p.name));
    });
    // Body before shortcut, numbered across the whole model; the moving statistics under Keras's names.
    CHECK(names.front() == "conv2d/kernel");
    CHECK(names[2] == "batch_normalization/gamma");
    CHECK(names[5] == "batch_normalization/moving_variance");
    CHECK(std::find(names.begin(), names.end(), "conv2d_5/kernel") != names.end());        // the projection
    CHECK(std::find(names.begin(), names.end(), "batch_normalization_5/moving_mean") != names.end());
    CHECK(names.back() == "dense/bias");
    CHECK(SmallResNet::layer_name(3) == "residual");
    CHECK(SmallResNet::layer_name(4) == "activation_2");  // after the one inside the first block
    CHECK(SmallResNet::layer_name(5) == "residual_1");
}

TEST_CASE("Sequential.summary_with_blocks_is_keras_functional_table") {
    std::ostringstream out;
    SmallResNet::summary(out);
    const std::string s = out.str();
    INFO(s);
    CHECK(s.find("Connected to") != std::string::npos);
    CHECK(has_row(s, {" input_layer (InputLayer) ", "(None, 8, 8, 1) ", " 0 ", " -"}));
    CHECK(has_row(s, {" conv2d (Conv2D) ", "(None, 8, 8, 4) ", " 40 ", " input_layer[0][0]"}));
    // The identity block's sum: its body's last layer and the block's input.
    CHECK(has_row(s, {" add (Add) ", "(None, 8, 8, 4) ", " 0 ", " batch_normalization_2[0][0], activation[0][0]"}));
    // The projection block's sum: its body's and its shortcut's last layers.
    CHECK(has_row(s, {" add_1 (Add) ", "(None, 4, 4, 8) ", " 0 ", " batch_normalization_4[0][0], batch_normalization_5[0][0]"}));
    CHECK(has_row(s, {" conv2d_5 (Conv2D) ", "(None, 4, 4, 8) ", " 40 ", " activation_2[0][0]"}));
    CHECK(s.find("Total params: 1,427 (5.57 KB)") != std::string::npos);
    CHECK(s.find("Trainable params: 1,355 (5.29 KB)") != std::string::npos);
    CHECK(s.find("Non-trainable params: 72 (288.00 Byte)") != std::string::npos);
    static_assert(SmallResNet::param_count == 1'427);
}

TEST_CASE("Sequential.activation_after_batch_normalization_runs_in_place") {
    SmallResNet net;
    Rng rng(3);
    net.initialize(rng);
    constexpr std::size_t batch = 2;
    net.reserve(batch);
    SmallResNet::Workspace ws;
    ws.reserve(batch);
    CHECK(ws.outputs[2].empty());  // the ReLU's output is in the BatchNormalization's buffer
    CHECK(ws.outputs[4].empty());
    CHECK(ws.outputs[1].size() == batch * 8 * 8 * 4);
    const std::vector<float> x = testing::random_vector(batch * SmallResNet::input_size, rng);
    const ForwardContext ctx{.batch = batch, .phase = Phase::training, .rng = nullptr};
    net.forward(x.data(), ws, ctx);
    // The shared buffer holds the ReLU of the normalization: the layers one by one, each with its own.
    std::vector<float> conv(batch * 8 * 8 * 4), norm(conv.size()), relu(conv.size());
    net.layer<0>().forward(x.data(), conv.data(), ctx);
    net.layer<1>().forward(conv.data(), norm.data(), ctx);
    net.layer<2>().forward(norm.data(), relu.data(), ctx);
    for (std::size_t k = 0; k < relu.size(); ++k) CHECK(ws.outputs[1][k] == relu[k]);
    CHECK(std::any_of(relu.begin(), relu.end(), [](float v) { return v == 0.0f; }));
}

TEST_CASE("Sequential.batch_normalization_folds_into_the_layer_before_at_inference") {
    FoldingNet net;
    Rng rng(7);
    net.initialize(rng);
    // Weights, scales, shifts and moving statistics away from their initial values.
    net.visit_parameters([&](std::size_t, const std::string&, Parameter& p) {
        for (auto& v : p.value) v += rng.uniform(-0.5f, 0.5f);
        if (p.name == "moving_variance")
            for (auto& v : p.value) v = std::fabs(v) + 0.25f;
    });
    constexpr std::size_t batch = 3;
    net.reserve(batch);
    FoldingNet::Workspace plain, folded;
    plain.reserve(batch);
    folded.reserve(batch);
    const std::vector<float> x = testing::random_vector(batch * FoldingNet::input_size, rng);
    net.forward(x.data(), plain, ForwardContext{.batch = batch, .phase = Phase::inference, .rng = nullptr});
    net.fold_batch_normalization();
    net.forward(x.data(), folded, ForwardContext{.batch = batch, .phase = Phase::inference, .rng = nullptr, .folded = true});
    double worst = 0;
    for (std::size_t k = 0; k < batch * FoldingNet::output_size; ++k)
        worst = std::max(worst, double(std::fabs(plain.output()[k] - folded.output()[k])));
    CHECK(worst <= 1e-5);
    // The folded pass ran the convolution straight into the normalization's output: the
    // convolution's own output buffer was never written.
    CHECK(std::all_of(folded.outputs[0].begin(), folded.outputs[0].end(), [](float v) { return v == 0.0f; }));
    CHECK(std::any_of(plain.outputs[0].begin(), plain.outputs[0].end(), [](float v) { return v != 0.0f; }));
}

}  // namespace model_test_sequential
