// Dense<In, Out, Act>: sizes, initialisation, forward against hand-computed values, and
// finite-difference gradients for every activation.
#include <doctest/doctest.h>

#include <ctnn/layers/dense.hpp>

#include "helpers.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace layers_test_dense {

using namespace ctnn;

TEST_CASE("Dense.compile_time_facts") {
    using D = Dense<784, 1000, Relu>;
    static_assert(D::input_size == 784 && D::output_size == 1000);
    static_assert(D::param_count == 785'000);
    static_assert(Layer<D>);
    D layer;
    CHECK(layer.kernel.shape[0] == 784);
    CHECK(layer.kernel.shape[1] == 1000);
    CHECK(layer.bias.size() == 1000);
}

TEST_CASE("Dense.glorot_uniform_initialisation") {
    Dense<300, 200, Linear> layer;
    Rng rng(7);
    layer.initialize(rng);
    const float limit = std::sqrt(6.0f / 500.0f);
    double sum = 0, sum_sq = 0;
    for (float w : layer.kernel.value) {
        REQUIRE(std::fabs(w) <= limit);
        sum += w;
        sum_sq += double(w) * w;
    }
    const double n = double(layer.kernel.size());
    CHECK(std::fabs(sum / n) < 0.01 * limit);
    // U(-a, a) has variance a²/3.
    CHECK(sum_sq / n == doctest::Approx(limit * limit / 3.0).epsilon(0.03));
    for (float b : layer.bias.value) CHECK(b == 0.0f);

    Dense<300, 200, Linear> same;
    Rng rng2(7);
    same.initialize(rng2);
    CHECK(same.kernel.value == layer.kernel.value);
}

TEST_CASE("Dense.forward_hand_computed") {
    Dense<2, 3, Relu> layer;
    // kernel (2, 3) row-major, bias (3)
    layer.kernel.value = {1, -1, 0.5f, 2, 1, -3};
    layer.bias.value = {0.5f, 0, 1};
    const float x[2 * 2] = {1, 2, -1, 0};
    float y[2 * 3];
    layer.forward(x, y, {2, Phase::inference, nullptr});
    // row 0: [1+4+0.5, -1+2+0, 0.5-6+1] = [5.5, 1, -4.5] -> relu
    CHECK(y[0] == doctest::Approx(5.5f));
    CHECK(y[1] == doctest::Approx(1.0f));
    CHECK(y[2] == 0.0f);
    // row 1: [-1+0+0.5, 1+0, -0.5+1] = [-0.5, 1, 0.5] -> relu
    CHECK(y[3] == 0.0f);
    CHECK(y[4] == doctest::Approx(1.0f));
    CHECK(y[5] == doctest::Approx(0.5f));
}

TEST_CASE_TEMPLATE("Dense.gradients_match_finite_differences", Act, Linear, Relu, Sigmoid, Tanh, Softmax) {
    SUBCASE("small") {
        Dense<5, 7, Act> layer;
        const auto check = testing::check_layer_gradients(layer, 3);
        INFO(check.log);
        CHECK(check.ok);
        CHECK(check.checked > 40);
    }
    SUBCASE("SIMD remainders") {
        Dense<17, 33, Act> layer;
        const auto check = testing::check_layer_gradients(layer, 6);
        INFO(check.log);
        CHECK(check.ok);
    }
}

// A mostly-zero upstream gradient (a ReLU or Dropout after the layer) sends backward through the
// sparse products of kernels/sparse.hpp (4% nonzeros: well under kernels::sparse_max_density).
// Smooth activations: with this many rows a weight's finite difference would cross some ReLU's kink.
TEST_CASE_TEMPLATE("Dense.sparse_backward_gradients_match_finite_differences", Act, Linear, Tanh) {
    Dense<12, 20, Act> layer;  // small: the check runs ~300 forward passes
    const auto check = testing::check_layer_gradients(layer, 64, Phase::training, 3, 2e-2, 0.04);
    INFO(check.log);
    CHECK(check.ok);
    CHECK(check.checked > 100);
}

TEST_CASE("Dense.gradient_check_can_fail") {
    // The checker must catch a wrong gradient: corrupt one analytic kernel gradient on purpose.
    struct Broken : Dense<3, 2, Linear> {
        void backward(const float* x, const float* y, float* dy, float* dx, std::size_t batch, bool pre) {
            Dense<3, 2, Linear>::backward(x, y, dy, dx, batch, pre);
            kernel.gradient[1] += 0.5f;
        }
    };
    Broken layer;
    CHECK_FALSE(testing::check_layer_gradients(layer, 2).ok);
}

}  // namespace layers_test_dense
