// Conv1D: Keras's shapes, names and parameter layouts; hand-computed outputs and gradients for padding
// "valid", "same" and "causal", and every padding and stride against a loop written from Keras's
// definition; backward against central differences; a whole sequence model (summary, weight names,
// predict) and a BatchNormalization folded into a Conv1D.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <initializer_list>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "helpers.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace layers_test_conv1d {

using namespace ctnn;

TEST_CASE("Conv1D.shapes_and_parameters_are_keras") {
    static_assert(BindableLayerSpec<Conv1D<32, 3>>);
    using L = Conv1D<32, 3, Relu>::bind<Shape<100, 8>>;
    static_assert(Layer<L>);
    static_assert(std::is_same_v<L::output_shape, Shape<98, 32>>);
    static_assert(L::param_count == 800);  // keras: 3*8*32 + 32
    static_assert(L::kind == "conv1d" && L::type_name == "Conv1D");
    // Keras's defaults: activation None, padding "valid", strides 1.
    static_assert(std::is_same_v<Conv1D<4, 3>::bind<Shape<7, 2>>,
                                 Conv1D<4, 3, Linear, Padding1D::valid, 1>::bind<Shape<7, 2>>>);
    // valid: (steps - K) / stride + 1; same and causal: ceil(steps / stride).
    using In = Shape<7, 2>;
    static_assert(std::is_same_v<Conv1D<5, 3, Linear, Padding1D::valid, 2>::bind<In>::output_shape, Shape<3, 5>>);
    static_assert(std::is_same_v<Conv1D<5, 3, Linear, Padding1D::same>::bind<In>::output_shape, Shape<7, 5>>);
    static_assert(std::is_same_v<Conv1D<5, 4, Linear, Padding1D::same, 2>::bind<In>::output_shape, Shape<4, 5>>);
    static_assert(std::is_same_v<Conv1D<5, 3, Linear, Padding1D::causal>::bind<In>::output_shape, Shape<7, 5>>);
    static_assert(std::is_same_v<Conv1D<5, 3, Linear, Padding1D::causal, 2>::bind<In>::output_shape, Shape<4, 5>>);
    // A kernel longer than the sequence is fine once padded.
    static_assert(std::is_same_v<Conv1D<2, 5, Linear, Padding1D::same>::bind<Shape<3, 1>>::output_shape, Shape<3, 2>>);
    static_assert(std::is_same_v<Conv1D<2, 5, Linear, Padding1D::causal>::bind<Shape<3, 1>>::output_shape, Shape<3, 2>>);
    // The 2-D geometry underneath: same puts the odd zero after the sequence (TF), causal K - 1 before it.
    static_assert(Conv1D<5, 4, Linear, Padding1D::same>::bind<Shape<7, 2>>::geometry.pad_left == 1);
    static_assert(Conv1D<5, 4, Linear, Padding1D::causal>::bind<Shape<7, 2>>::geometry.pad_left == 3);
    L layer;
    CHECK(layer.kernel.dims() == std::vector<std::size_t>{3, 8, 32});  // (kernel_size, in_channels, filters)
    CHECK(layer.bias.dims() == std::vector<std::size_t>{32});
}

TEST_CASE("Conv1D.initializer_uses_kerass_fans") {
    // Glorot-uniform with fan_in = 3*4 = 12 and fan_out = 3*16 = 48: limit sqrt(6 / 60) = 0.316.
    Conv1D<16, 3>::bind<Shape<5, 4>> layer;
    Rng rng(3);
    layer.initialize(rng);
    float largest = 0.0f;
    for (float w : layer.kernel.value) largest = std::max(largest, std::fabs(w));
    CHECK(largest <= std::sqrt(0.1f));
    CHECK(largest > 0.3f);  // 192 draws: the largest is close to the limit
    for (float b : layer.bias.value) CHECK(b == 0.0f);
}

// One channel in, one filter out, kernel [1, 10] (or [1, 10, 100, 1000]) and bias 0.5 on the
// sequence 1, 2, 3, 4: each output's digits say which steps its window covered, 0 for padding.
template <class Spec>
std::vector<float> one_channel(std::initializer_list<float> kernel, std::initializer_list<float> x) {
    typename Spec::template bind<Shape<4, 1>> layer;
    std::copy(kernel.begin(), kernel.end(), layer.kernel.value.begin());
    layer.bias.value[0] = 0.5f;
    std::vector<float> y(decltype(layer)::output_shape::size);
    layer.forward(x.begin(), y.data(), {1, Phase::inference, nullptr});
    return y;
}

TEST_CASE("Conv1D.hand_computed_valid_same_causal") {
    using V = std::vector<float>;
    const auto x = {1.0f, 2.0f, 3.0f, 4.0f};
    CHECK(one_channel<Conv1D<1, 2>>({1, 10}, x) == V{21.5f, 32.5f, 43.5f});
    CHECK(one_channel<Conv1D<1, 2, Linear, Padding1D::same>>({1, 10}, x) == V{21.5f, 32.5f, 43.5f, 4.5f});
    CHECK(one_channel<Conv1D<1, 2, Linear, Padding1D::causal>>({1, 10}, x) == V{10.5f, 21.5f, 32.5f, 43.5f});
    // Stride 2: every other window.
    CHECK(one_channel<Conv1D<1, 2, Linear, Padding1D::valid, 2>>({1, 10}, x) == V{21.5f, 43.5f});
    CHECK(one_channel<Conv1D<1, 2, Linear, Padding1D::same, 2>>({1, 10}, x) == V{21.5f, 43.5f});  // no padding needed
    CHECK(one_channel<Conv1D<1, 2, Linear, Padding1D::causal, 2>>({1, 10}, x) == V{10.5f, 32.5f});
    // same with K = 4: 3 zeros, 1 before and 2 after (TF); causal: all 3 before.
    CHECK(one_channel<Conv1D<1, 4, Linear, Padding1D::same>>({1, 10, 100, 1000}, x) ==
          V{3210.5f, 4321.5f, 432.5f, 43.5f});
    CHECK(one_channel<Conv1D<1, 4, Linear, Padding1D::causal>>({1, 10, 100, 1000}, x) ==
          V{1000.5f, 2100.5f, 3210.5f, 4321.5f});
    // Padding1D::same, stride 2, K = 3: out 2, one zero, after the sequence.
    CHECK(one_channel<Conv1D<1, 3, Linear, Padding1D::same, 2>>({1, 10, 100}, x) == V{321.5f, 43.5f});
}

// Causal, kernel [1, 10], dy = 1 everywhere: x[s] feeds y[s + 1] through 1 and y[s] through 10, the
// last step only the latter; the leading zero is padding (no gradient), and dk sums the windows.
TEST_CASE("Conv1D.hand_computed_causal_gradients") {
    Conv1D<1, 2, Linear, Padding1D::causal>::bind<Shape<4, 1>> layer;
    layer.kernel.value[0] = 1.0f;
    layer.kernel.value[1] = 10.0f;
    const float x[4] = {1, 2, 3, 4};
    float y[4], dy[4] = {1, 1, 1, 1}, dx[4];
    layer.forward(x, y, {1, Phase::training, nullptr});
    layer.backward(x, y, dy, dx, 1, false);
    const float want_dx[4] = {11, 11, 11, 10};
    for (int s = 0; s < 4; ++s) CHECK(dx[s] == want_dx[s]);
    CHECK(layer.kernel.gradient[0] == 6.0f);   // 0 + 1 + 2 + 3
    CHECK(layer.kernel.gradient[1] == 10.0f);  // 1 + 2 + 3 + 4
    CHECK(layer.bias.gradient[0] == 4.0f);
}

// Keras's Conv1D by its definition: y[t][f] = Act(b[f] + Σ_k Σ_c w[k][c][f] · x[t·stride + k − left][c]),
// x read as 0 outside the sequence; left and the output length from Keras's formulas.
template <std::size_t Steps, std::size_t C, std::size_t F, std::size_t K, Padding1D Pad, std::size_t Stride, class Act>
std::vector<float> naive_conv1d(std::size_t batch, const std::vector<float>& x, const Parameter& kernel,
                                const Parameter& bias) {
    std::size_t out = (Steps + Stride - 1) / Stride, left = 0;
    if (Pad == Padding1D::valid) out = (Steps - K) / Stride + 1;
    if (Pad == Padding1D::same) left = ((out - 1) * Stride + K > Steps ? (out - 1) * Stride + K - Steps : 0) / 2;
    if (Pad == Padding1D::causal) left = K - 1;
    std::vector<float> y(batch * out * F);
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t t = 0; t < out; ++t)
            for (std::size_t f = 0; f < F; ++f) {
                double sum = bias.value[f];
                for (std::size_t k = 0; k < K; ++k) {
                    const std::ptrdiff_t s = std::ptrdiff_t(t * Stride + k) - std::ptrdiff_t(left);
                    if (s < 0 || s >= std::ptrdiff_t(Steps)) continue;
                    for (std::size_t c = 0; c < C; ++c)
                        sum += double(kernel.value[(k * C + c) * F + f]) * x[(b * Steps + std::size_t(s)) * C + c];
                }
                y[(b * out + t) * F + f] = Act::forward(float(sum));
            }
    return y;
}

template <std::size_t Steps, std::size_t C, std::size_t F, std::size_t K, Padding1D Pad, std::size_t Stride,
          class Act = Linear>
struct Case {
    using layer = typename Conv1D<F, K, Act, Pad, Stride>::template bind<Shape<Steps, C>>;
    static std::vector<float> naive(std::size_t batch, const std::vector<float>& x, const layer& l) {
        return naive_conv1d<Steps, C, F, K, Pad, Stride, Act>(batch, x, l.kernel, l.bias);
    }
};

TEST_CASE_TEMPLATE("Conv1D.forward_matches_kerass_definition", T,
                   Case<9, 3, 2, 3, Padding1D::valid, 1>, Case<9, 3, 2, 3, Padding1D::valid, 2>,
                   Case<8, 3, 2, 4, Padding1D::same, 1>, Case<8, 3, 2, 4, Padding1D::same, 3>,
                   Case<9, 3, 2, 3, Padding1D::causal, 1>, Case<9, 3, 2, 3, Padding1D::causal, 2, Relu>,
                   Case<10, 16, 5, 3, Padding1D::causal, 1, Tanh>,  // 16 channels: the direct products
                   Case<10, 16, 5, 4, Padding1D::same, 1>, Case<10, 16, 5, 3, Padding1D::valid, 1>) {
    typename T::layer layer;
    Rng rng(5);
    layer.initialize(rng);
    for (auto& b : layer.bias.value) b = rng.uniform(-0.5f, 0.5f);
    constexpr std::size_t batch = 3;
    const std::vector<float> x = testing::random_vector(batch * T::layer::input_shape::size, rng);
    std::vector<float> y(batch * T::layer::output_shape::size);
    layer.forward(x.data(), y.data(), {batch, Phase::inference, nullptr});
    const std::vector<float> want = T::naive(batch, x, layer);
    REQUIRE(want.size() == y.size());
    for (std::size_t k = 0; k < y.size(); ++k) CHECK(y[k] == doctest::Approx(want[k]).epsilon(1e-5));
}

TEST_CASE_TEMPLATE("Conv1D.gradients_match_finite_differences", L,
                   Conv1D<3, 3, Tanh>::bind<Shape<8, 2>>,                                 // valid
                   Conv1D<4, 3, Linear, Padding1D::valid, 2>::bind<Shape<9, 3>>,          // Padding1D::valid, stride 2
                   Conv1D<4, 4, Sigmoid, Padding1D::same>::bind<Shape<7, 3>>,             // Padding1D::same, uneven pad
                   Conv1D<4, 4, Tanh, Padding1D::same, 2>::bind<Shape<7, 3>>,             // Padding1D::same, stride 2
                   Conv1D<3, 3, Tanh, Padding1D::causal>::bind<Shape<6, 2>>,              // causal
                   Conv1D<3, 3, Tanh, Padding1D::causal, 2>::bind<Shape<8, 2>>,           // Padding1D::causal, stride 2
                   Conv1D<5, 3, Tanh, Padding1D::causal>::bind<Shape<9, 16>>,             // direct / transposed
                   Conv1D<4, 5, Sigmoid, Padding1D::same>::bind<Shape<6, 16>>,
                   Conv1D<6, 1, Tanh>::bind<Shape<5, 4>>) {                               // pointwise (no im2col)
    L layer;
    const auto check = testing::check_layer_gradients(layer, 3);
    INFO(check.log);
    CHECK(check.checked > 0);
    CHECK(check.ok);
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

// (16, 3) -> causal conv (16, 8) -> pool (8, 8) -> same conv (8, 4) -> mean over steps (4) -> (2).
struct SequenceNet : Sequential<Input<16, 3>, Conv1D<8, 3, Relu, Padding1D::causal>, MaxPooling1D<2>, Conv1D<4, 3, Relu, Padding1D::same>,
                                GlobalAveragePooling1D, Dense<4, 2, Softmax>> {};
static_assert(std::is_same_v<SequenceNet::output_shape, Shape<2>> && SequenceNet::input_size == 48);
static_assert(SequenceNet::param_count == (3 * 3 * 8 + 8) + (3 * 8 * 4 + 4) + (4 * 2 + 2));  // 80 + 100 + 10 = 190

TEST_CASE("Conv1D.sequence_model_summary_weights_and_predict") {
    std::ostringstream out;
    SequenceNet::summary(out);
    const std::string s = out.str();
    INFO(s);
    CHECK(has_row(s, {" conv1d (Conv1D)", "(None, 16, 8)", "80"}));
    CHECK(has_row(s, {" max_pooling1d (MaxPooling1D)", "(None, 8, 8)", "0"}));
    CHECK(has_row(s, {" conv1d_1 (Conv1D)", "(None, 8, 4)", "100"}));
    CHECK(has_row(s, {" global_average_pooling1d (GlobalAveragePooling1D)", "(None, 4)", "0"}));
    CHECK(has_row(s, {" dense (Dense)", "(None, 2)", "10"}));
    CHECK(s.find("Total params: 190 (") != std::string::npos);

    auto model = compile<SequenceNet>(optimizers::Adam{}, losses::CategoricalCrossentropy{});
    std::vector<std::string> names;
    std::vector<std::vector<std::size_t>> shapes;
    for (const NamedArray& a : model.get_weights()) {
        names.push_back(a.name);
        shapes.push_back(a.shape);
    }
    CHECK(names == std::vector<std::string>{"conv1d/kernel", "conv1d/bias", "conv1d_1/kernel", "conv1d_1/bias",
                                            "dense/kernel", "dense/bias"});
    CHECK(shapes == std::vector<std::vector<std::size_t>>{{3, 3, 8}, {8}, {3, 8, 4}, {4}, {4, 2}, {2}});

    Matrix x = Matrix::from_shape({5, SequenceNet::input_size});
    Rng rng(2);
    for (auto& v : x) v = rng.uniform(-1.0f, 1.0f);
    const Matrix p = model.predict(x);
    REQUIRE(p.shape(0) == 5);
    REQUIRE(p.shape(1) == 2);
    for (std::size_t r = 0; r < 5; ++r) CHECK(p(r, 0) + p(r, 1) == doctest::Approx(1.0));
}

// A BatchNormalization after a Conv1D without activation folds into it at inference, as after Conv2D.
struct FoldingSequenceNet
    : Sequential<Input<7, 3>, Conv1D<4, 3, Linear, Padding1D::causal>, BatchNormalization, Activation<Relu>> {};
static_assert(detail::folds_with_next<FoldingSequenceNet::layer_tuple, 0>);

TEST_CASE("Conv1D.batch_normalization_folds_into_it_at_inference") {
    FoldingSequenceNet net;
    Rng rng(7);
    net.initialize(rng);
    net.visit_parameters([&](std::size_t, const std::string&, Parameter& p) {
        for (auto& v : p.value) v += rng.uniform(-0.5f, 0.5f);
        if (p.name == "moving_variance")
            for (auto& v : p.value) v = std::fabs(v) + 0.25f;
    });
    constexpr std::size_t batch = 3;
    net.reserve(batch);
    FoldingSequenceNet::Workspace plain, folded;
    plain.reserve(batch);
    folded.reserve(batch);
    const std::vector<float> x = testing::random_vector(batch * FoldingSequenceNet::input_size, rng);
    net.forward(x.data(), plain, ForwardContext{.batch = batch, .phase = Phase::inference, .rng = nullptr});
    net.fold_batch_normalization();
    net.forward(x.data(), folded,
                ForwardContext{.batch = batch, .phase = Phase::inference, .rng = nullptr, .folded = true});
    for (std::size_t k = 0; k < batch * FoldingSequenceNet::output_size; ++k)
        CHECK(folded.output()[k] == doctest::Approx(plain.output()[k]).epsilon(1e-5));
}

}  // namespace layers_test_conv1d
