// Conv2D: shapes and parameter layouts as Keras's, and backward against central differences for
// every kind of geometry (padding, stride, activation), through the layer's own forward.
#include <doctest/doctest.h>

#include <type_traits>

#include <ctnn/layers/conv2d.hpp>

#include "helpers.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace layers_test_conv2d {

using namespace ctnn;

TEST_CASE("Conv2D.shapes_and_parameters_are_keras") {
    using L = Conv2D<32, 3, 3, Relu>::bind<Shape<28, 28, 1>>;
    static_assert(std::is_same_v<L::output_shape, Shape<26, 26, 32>>);
    static_assert(L::param_count == 320);  // keras: 3*3*1*32 + 32
    using Second = Conv2D<64, 3, 3, Relu>::bind<Shape<13, 13, 32>>;
    static_assert(std::is_same_v<Second::output_shape, Shape<11, 11, 64>> && Second::param_count == 18'496);
    // Padding::same keeps ceil(in / stride); stride 2 of a 7-wide input gives 4.
    static_assert(std::is_same_v<Conv2D<5, 3, 3, Linear, 2, Padding::same>::bind<Shape<7, 8, 3>>::output_shape,
                                 Shape<4, 4, 5>>);
    static_assert(std::is_same_v<Conv2D<5, 3, 2, Linear, 2>::bind<Shape<7, 8, 3>>::output_shape, Shape<3, 4, 5>>);
    L layer;
    CHECK(layer.kernel.dims() == std::vector<std::size_t>{3, 3, 1, 32});
    CHECK(layer.bias.dims() == std::vector<std::size_t>{32});
}

TEST_CASE("Conv2D.initializer_uses_kerass_fans") {
    // Glorot-uniform with fan_in = 3*3*2 = 18 and fan_out = 3*3*4 = 36: limit sqrt(6 / 54) = 1/3.
    Conv2D<4, 3, 3>::bind<Shape<5, 5, 2>> layer;
    Rng rng(3);
    layer.initialize(rng);
    float largest = 0.0f;
    for (float w : layer.kernel.value) largest = std::max(largest, std::fabs(w));
    CHECK(largest <= 1.0f / 3.0f);
    CHECK(largest > 0.3f);  // 288 draws: the largest is close to the limit
    for (float b : layer.bias.value) CHECK(b == 0.0f);
}

TEST_CASE_TEMPLATE("Conv2D.gradients_match_finite_differences", L,
                   Conv2D<3, 3, 3, Tanh>::bind<Shape<6, 5, 2>>,                       // valid
                   Conv2D<4, 3, 2, Sigmoid, 2, Padding::same>::bind<Shape<7, 6, 3>>,  // same, stride 2, uneven pad
                   Conv2D<5, 1, 1, Linear>::bind<Shape<3, 4, 6>>,                     // pointwise (no im2col)
                   Conv2D<8, 3, 3, Tanh>::bind<Shape<5, 5, 1>>) {                     // one channel (small patch)
    L layer;
    const auto check = testing::check_layer_gradients(layer, 3);
    INFO(check.log);
    CHECK(check.checked > 0);
    CHECK(check.ok);
}

}  // namespace layers_test_conv2d
