// Sequential<...>: compile-time facts of the reference network, layer names, summary table.
#include <doctest/doctest.h>

#include <sstream>

#include <ctnn/ctnn.hpp>

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace model_test_sequential {

using namespace ctnn;

namespace {
struct MnistMlp : Sequential<Dense<784, 1000, Relu>, Dense<1000, 500, Relu>, Dropout<0.9>, Dense<500, 10, Softmax>> {};
struct NotebookSecondForm : Sequential<Dense<784, 1000>, Activation<Relu>, Dense<1000, 500>, Activation<Relu>,
                                       Dropout<0.9>, Dense<500, 10>, Activation<Softmax>> {};
}  // namespace

static_assert(MnistMlp::input_size == 784);
static_assert(MnistMlp::output_size == 10);
static_assert(MnistMlp::param_count == 1'290'510);
static_assert(MnistMlp::layer_count == 4);
static_assert(MnistMlp::max_width == 1000);
static_assert(std::is_same_v<MnistMlp::layer_type<2>, DropoutLayer<Shape<500>, 0.9>>);
static_assert(NotebookSecondForm::param_count == MnistMlp::param_count);
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

}  // namespace model_test_sequential
