// The whole network's backward pass against central differences of its mean batch loss: every
// trainable parameter of small multi-layer Sequentials (Dense, Activation, Dropout; Conv2D, pooling,
// Flatten; residual, concatenating and nested blocks), through Sequential::backward's chaining, with
// the fused softmax + cross-entropy gradient and without it.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "helpers.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace model_test_model_gradient {

namespace {

using namespace ctnn;

// What the check feeds backward: the loss gradient w.r.t. the network's output (`unfused`), or w.r.t.
// the logits of a softmax output (`fused`, the softmax + cross-entropy shortcut the fit loop takes).
enum class output_gradient { unfused, fused };

// d(mean loss)/dθ from Sequential::backward against (L(θ + h) − L(θ − h)) / 2h for every parameter
// element, L the mean batch loss of a training-phase forward pass with a fixed dropout mask.
// A sequence output (Steps, Classes) is scored per step, as Model (and Keras) score it: the loss is
// the mean over batch · Steps rows of Classes. `inputs` replaces the random x (token ids for Embedding).
template <class Net, class Loss>
testing::GradientCheck check_network(Net& net, const Loss& loss, output_gradient mode, std::size_t batch,
                                     std::uint64_t seed, double tolerance = 1e-2, float step = 1e-3f,
                                     const std::vector<float>* inputs = nullptr) {
    constexpr std::size_t In = Net::input_size, Out = Net::output_shape::dims[Net::output_shape::rank - 1];
    const std::size_t rows = batch * (Net::output_size / Out);
    Rng rng(seed);
    net.initialize(rng);
    net.reserve(batch);
    net.visit_parameters([&](std::size_t, const std::string&, Parameter& p) {
        for (auto& v : p.value) v += rng.uniform(-0.1f, 0.1f);  // biases away from zero too
        if (!p.trainable())  // a moving variance stays positive
            for (auto& v : p.value) v = std::fabs(v) + 0.5f;
    });
    typename Net::Workspace ws;
    ws.reserve(batch);
    const std::vector<float> x = inputs ? *inputs : testing::random_vector(batch * In, rng);
    std::vector<float> t(rows * Out, 0.0f);  // one-hot targets (rows, Out)
    for (std::size_t r = 0; r < rows; ++r) t[r * Out + rng.next_u64() % Out] = 1.0f;
    const Rng dropout_rng = rng.split();

    auto mean_loss = [&]() {
        Rng r = dropout_rng;
        net.forward(x.data(), ws, ForwardContext{batch, Phase::training, &r});
        return loss.template sum<Out>(rows, ws.output(), t.data()) / double(rows);
    };

    // Analytic: the fit loop's own sequence (forward, loss gradient, backward).
    mean_loss();
    if (mode == output_gradient::fused) {
        if constexpr (requires { loss.template softmax_gradient<Out>(rows, ws.output(), t.data(), ws.gradient_in.data()); })
            loss.template softmax_gradient<Out>(rows, ws.output(), t.data(), ws.gradient_in.data());
    } else {
        loss.template gradient<Out>(rows, ws.output(), t.data(), ws.gradient_in.data());
    }
    net.backward(x.data(), ws, batch, mode == output_gradient::fused);
    std::vector<std::vector<float>> analytic;
    net.visit_parameters([&](std::size_t, const std::string&, Parameter& p) {
        analytic.emplace_back(p.gradient.begin(), p.gradient.end());
    });

    testing::GradientCheck result;
    std::size_t index = 0;
    net.visit_parameters([&](std::size_t, const std::string& layer, Parameter& p) {
        // A moving statistic has no gradient (its buffer holds the batch statistic); forward in
        // training mode does not read it either.
        for (std::size_t k = 0; p.trainable() && k < p.size(); ++k) {
            const float saved = p.value[k];
            const float h = step * std::max(1.0f, std::fabs(saved));
            p.value[k] = saved + h;
            const double up = mean_loss();
            p.value[k] = saved - h;
            const double down = mean_loss();
            p.value[k] = saved;
            const double numeric = (up - down) / (2.0 * double(h)), grad = analytic[index][k];
            const double err = std::fabs(numeric - grad) / std::max(1e-2, std::fabs(numeric) + std::fabs(grad));
            ++result.checked;
            if (err > tolerance) {
                result.ok = false;
                std::ostringstream s;
                s << layer << '/' << p.name << '[' << k << "]: backward " << grad << " vs numeric " << numeric << '\n';
                if (result.log.size() < 2000) result.log += s.str();
            }
        }
        ++index;
    });
    return result;
}

// Tanh and Sigmoid hidden layers (no kinks for the differences to straddle), a Dropout whose mask the
// check holds fixed, an Activation layer, and each kind of output.
struct SoftmaxNet : Sequential<Dense<5, 7, Tanh>, Dropout<0.3>, Dense<7, 6, Sigmoid>, Dense<6, 4, Softmax>> {};
struct SigmoidNet : Sequential<Dense<5, 6, Tanh>, Activation<Sigmoid>, Dense<6, 3, Sigmoid>> {};
struct LinearNet : Sequential<Dense<4, 8, Tanh>, Dropout<0.5>, Dense<8, 2>> {};
// Convnets: the chaining through convolutions (first-layer, stride, same padding), max and average
// pooling, Flatten and Dropout into a softmax Dense, as the MNIST convnet.
struct ConvNet : Sequential<Input<7, 7, 2>, Conv2D<3, 3, 3, Tanh>, MaxPooling2D<2, 2>, Conv2D<4, 1, 1, Sigmoid>, Flatten,
                            Dropout<0.3>, Dense<16, 4, Softmax>> {};
struct SamePaddedConvNet : Sequential<Input<6, 5, 1>, Conv2D<2, 3, 3, Tanh, 1, Padding::same>, AveragePooling2D<2, 2>,
                                      Conv2D<3, 2, 2, Sigmoid, 1, Padding::same>, Flatten, Dense<18, 3, Softmax>> {};

// Blocks: a residual block with a projection shortcut (stride 2), entered from a convolution; a
// Concatenate block as the first layer (no input gradient wanted) with a 1x1 branch, a 3x3 branch
// and the identity; a skip around a sub-network that holds a residual block, merged by
// Concatenate (a U-Net's nesting); and Dense residuals on vectors.
struct ResidualProjectionNet
    : Sequential<Input<6, 6, 2>, Conv2D<3, 3, 3, Tanh, 1, Padding::same>,
                 Residual<Conv2D<4, 3, 3, Tanh, 2, Padding::same>, Conv2D<4, 3, 3, Linear, 1, Padding::same>,
                          Shortcut<Conv2D<4, 1, 1, Linear, 2>>>,
                 Activation<Tanh>, Flatten, Dense<36, 3, Softmax>> {};
struct ConcatenateFirstNet
    : Sequential<Input<5, 5, 2>,
                 Branches<Concatenate, Sequential<Conv2D<2, 1, 1, Tanh>>,
                          Sequential<Conv2D<3, 3, 3, Tanh, 1, Padding::same>>, Identity>,
                 Flatten, Dense<175, 3, Softmax>> {};
struct NestedSkipNet
    : Sequential<Input<4, 4, 2>, Conv2D<3, 3, 3, Tanh, 1, Padding::same>,
                 Branches<Concatenate,
                          Sequential<Conv2D<3, 3, 3, Tanh, 1, Padding::same>,
                                     Residual<Conv2D<3, 3, 3, Tanh, 1, Padding::same>, Conv2D<3, 1, 1, Linear>>,
                                     Conv2D<2, 1, 1, Tanh>>,
                          Identity>,
                 Flatten, Dense<80, 3, Softmax>> {};
struct DenseResidualNet
    : Sequential<Dense<5, 6, Tanh>, Residual<Dense<6, 6, Tanh>, Dense<6, 6>>, Activation<Tanh>,
                 Residual<Dense<6, 4, Tanh>, Shortcut<Dense<6, 4>>>, Dense<4, 3, Softmax>> {};

// BatchNormalization in training mode (batch statistics, whose dependence on every sample the
// check differentiates through) after Dense and after Conv2D, in a ResNet-style block with a
// normalized projection, and the two global poolings.
struct NormalizedDenseNet
    : Sequential<Dense<5, 6>, BatchNormalization, Activation<Tanh>, Dense<6, 3, Softmax>> {};
struct NormalizedConvNet
    : Sequential<Input<5, 5, 2>, Conv2D<3, 3, 3, Linear, 1, Padding::same>, BatchNormalization, Activation<Tanh>,
                 GlobalAveragePooling2D, Dense<3, 3, Softmax>> {};
struct NormalizedResidualNet
    : Sequential<Input<6, 6, 2>, Conv2D<4, 3, 3, Linear, 1, Padding::same>, BatchNormalization, Activation<Tanh>,
                 Residual<Conv2D<4, 3, 3, Linear, 2, Padding::same>, BatchNormalization, Activation<Tanh>,
                          Conv2D<4, 3, 3, Linear, 1, Padding::same>, BatchNormalization,
                          Shortcut<Conv2D<4, 1, 1, Linear, 2>, BatchNormalization>>,
                 Activation<Tanh>, GlobalAveragePooling2D, Dense<4, 3, Softmax>> {};
struct GlobalMaxNet
    : Sequential<Input<4, 4, 2>, Conv2D<3, 3, 3, Tanh, 1, Padding::same>, GlobalMaxPooling2D, Dense<3, 3, Softmax>> {};

// Sequences: Keras's addition model in small (Embedding instead of one-hot input) — two LSTMs
// bridged by RepeatVector, Dense on every step, the loss averaged per step; and GRU into SimpleRNN.
struct StackedLstmNet : Sequential<Input<5>, Embedding<7, 3>, LSTM<4>, RepeatVector<3>, LSTM<4, return_sequences>,
                                   Dense<4, 3, Softmax>> {};
struct GruSimpleNet : Sequential<Input<4, 3>, GRU<4, return_sequences>, SimpleRNN<3>, Dense<3, 3, Softmax>> {};

// Mean squared error with its gradient off by a factor: what the check exists to catch.
struct HalvedGradientMse : losses::MeanSquaredError {
    template <std::size_t N> void gradient(std::size_t batch, const float* p, const float* t, float* dp) const {
        losses::MeanSquaredError::gradient<N>(batch, p, t, dp);
        for (std::size_t k = 0; k < batch * N; ++k) dp[k] *= 0.5f;
    }
};

}  // namespace

TEST_CASE("ModelGradient.softmax_crossentropy_fused_matches_finite_differences") {
    SoftmaxNet net;
    const auto check = check_network(net, losses::CategoricalCrossentropy{}, output_gradient::fused, 6, 11);
    INFO(check.log);
    CHECK(check.checked == SoftmaxNet::param_count);
    CHECK(static_cast<bool>(check));
}

TEST_CASE("ModelGradient.softmax_crossentropy_unfused_matches_finite_differences") {
    // The same network with the loss gradient taken w.r.t. the probabilities and sent back through
    // the softmax layer's own backward: the path a softmax output takes with any other loss.
    SoftmaxNet net;
    const auto check = check_network(net, losses::CategoricalCrossentropy{}, output_gradient::unfused, 6, 12);
    INFO(check.log);
    CHECK(static_cast<bool>(check));
}

TEST_CASE("ModelGradient.sigmoid_binary_crossentropy_and_linear_mse_match_finite_differences") {
    SigmoidNet sigmoid_net;
    const auto bce = check_network(sigmoid_net, losses::BinaryCrossentropy{}, output_gradient::unfused, 5, 13);
    INFO(bce.log);
    CHECK(bce.checked == SigmoidNet::param_count);
    CHECK(static_cast<bool>(bce));
    LinearNet linear_net;
    const auto mse = check_network(linear_net, losses::MeanSquaredError{}, output_gradient::unfused, 7, 14);
    INFO(mse.log);
    CHECK(static_cast<bool>(mse));
}

TEST_CASE("ModelGradient.convnet_softmax_crossentropy_matches_finite_differences") {
    for (const output_gradient mode : {output_gradient::fused, output_gradient::unfused}) {
        // Max pooling has kinks where a window's two largest inputs tie: a seed whose windows keep them
        // further apart than the step moves them (seed 21 has two 1.3e-4 apart, and its check fails).
        ConvNet conv;
        const auto check = check_network(conv, losses::CategoricalCrossentropy{}, mode, 5, 23);
        INFO(check.log);
        CHECK(check.checked == ConvNet::param_count);
        CHECK(static_cast<bool>(check));
        SamePaddedConvNet same;
        const auto same_check = check_network(same, losses::CategoricalCrossentropy{}, mode, 4, 22);
        INFO(same_check.log);
        CHECK(same_check.checked == SamePaddedConvNet::param_count);
        CHECK(static_cast<bool>(same_check));
    }
}

// The block networks are smooth (Tanh, Sigmoid, Linear, averages: no kinks), and deep enough that
// some parameters' gradients are ~1e-4, where float rounding in a 1e-3 step's difference is of the
// same size: a 1e-2 step keeps the rounding ten times smaller, and the truncation error of central
// differences (h²) stays far below the tolerance.
constexpr float smooth_step = 1e-2f;

// Every trainable parameter of a fresh Net under categorical cross-entropy (all of them for nets
// without BatchNormalization).
template <class Net> void check_trainable(std::size_t batch, std::uint64_t seed, output_gradient mode, float step) {
    Net net;
    const auto check = check_network(net, losses::CategoricalCrossentropy{}, mode, batch, seed, 1e-2, step);
    INFO(check.log);
    CHECK(check.checked == Net::trainable_param_count);
    CHECK(static_cast<bool>(check));
}

TEST_CASE("ModelGradient.blocks_match_finite_differences") {
    for (const output_gradient mode : {output_gradient::fused, output_gradient::unfused}) {
        check_trainable<ResidualProjectionNet>(4, 31, mode, smooth_step);
        check_trainable<ConcatenateFirstNet>(3, 32, mode, smooth_step);
        check_trainable<NestedSkipNet>(3, 33, mode, smooth_step);
        check_trainable<DenseResidualNet>(5, 34, mode, smooth_step);
    }
}

TEST_CASE("ModelGradient.batch_normalization_and_global_pooling_match_finite_differences") {
    for (const output_gradient mode : {output_gradient::fused, output_gradient::unfused}) {
        check_trainable<NormalizedDenseNet>(6, 51, mode, smooth_step);
        check_trainable<NormalizedConvNet>(3, 52, mode, smooth_step);
        check_trainable<NormalizedResidualNet>(3, 53, mode, smooth_step);
        check_trainable<GlobalMaxNet>(4, 54, mode, 1e-3f);  // a max: the small step stays off its kinks
    }
    static_assert(NormalizedDenseNet::non_trainable_param_count == 2 * 6);
    static_assert(NormalizedResidualNet::non_trainable_param_count == 2 * (4 + 4 + 4 + 4));
}

TEST_CASE("ModelGradient.sequences_match_finite_differences") {
    for (const output_gradient mode : {output_gradient::fused, output_gradient::unfused}) {
        constexpr std::size_t batch = 3;
        std::vector<float> ids(batch * 5);
        Rng rng(61);
        for (auto& id : ids) id = float(rng.next_u64() % 7);
        StackedLstmNet stacked;
        const auto check = check_network(stacked, losses::CategoricalCrossentropy{}, mode, batch, 61, 1e-2, smooth_step, &ids);
        INFO(check.log);
        CHECK(check.checked == StackedLstmNet::param_count);
        CHECK(static_cast<bool>(check));
        check_trainable<GruSimpleNet>(4, 62, mode, smooth_step);
    }
}

TEST_CASE("ModelGradient.check_fails_on_a_wrong_gradient") {
    // A loss whose gradient is off by a factor: the checker must reject it, or it could not catch
    // a broken chain either.
    LinearNet net;
    CHECK_FALSE(static_cast<bool>(check_network(net, HalvedGradientMse{}, output_gradient::unfused, 7, 14)));
    CHECK(static_cast<bool>(check_network(net, losses::MeanSquaredError{}, output_gradient::unfused, 7, 14)));
}

}  // namespace model_test_model_gradient
