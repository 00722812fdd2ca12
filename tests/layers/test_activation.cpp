// Activation<Act> as a layer: sizes come from the layer before; gradients by finite differences.
#include <doctest/doctest.h>

#include <ctnn/layers/activation.hpp>
#include <ctnn/layers/flatten.hpp>

#include "helpers.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace layers_test_activation {

using namespace ctnn;

TEST_CASE_TEMPLATE("Activation.gradients_match_finite_differences", Act, Linear, Relu, Sigmoid, Tanh, Softmax) {
    using L = Activation<Act>::template bind<Shape<19>>;
    static_assert(std::is_same_v<typename L::input_shape, Shape<19>> &&
                  std::is_same_v<typename L::output_shape, Shape<19>> && L::param_count == 0);
    L layer;
    const auto check = testing::check_layer_gradients(layer, 4);
    INFO(check.log);
    CHECK(check.ok);
}

TEST_CASE("Activation.softmax_rows_sum_to_one") {
    Activation<Softmax>::bind<Shape<3>> layer;
    const float x[6] = {1, 2, 3, 1000, 1000, 1000};  // the second row would overflow without max-subtraction
    float y[6];
    layer.forward(x, y, {2, Phase::inference, nullptr});
    // softmax([1,2,3]) = [0.09003057, 0.24472847, 0.66524096]
    CHECK(y[0] == doctest::Approx(0.09003057));
    CHECK(y[1] == doctest::Approx(0.24472847));
    CHECK(y[2] == doctest::Approx(0.66524096));
    for (int c = 3; c < 6; ++c) CHECK(y[c] == doctest::Approx(1.0 / 3.0));
}

// On an image, Keras's softmax normalizes the last axis: every pixel's channels, not the whole sample.
TEST_CASE("Activation.softmax_on_an_image_normalizes_each_position_over_channels") {
    Activation<Softmax>::bind<Shape<1, 2, 3>> layer;
    const float x[6] = {1, 2, 3, 0, 0, 0};  // position (0,0): 1, 2, 3; position (0,1): 0, 0, 0
    float y[6];
    layer.forward(x, y, {1, Phase::inference, nullptr});
    CHECK(y[0] == doctest::Approx(0.09003057));
    CHECK(y[2] == doctest::Approx(0.66524096));
    for (int c = 3; c < 6; ++c) CHECK(y[c] == doctest::Approx(1.0 / 3.0));
    Activation<Softmax>::bind<Shape<2, 2, 3>> checked;
    const auto check = testing::check_layer_gradients(checked, 3);
    INFO(check.log);
    CHECK(check.ok);
}

TEST_CASE("Flatten.is_the_identity_on_the_samples_floats") {
    Flatten::bind<Shape<2, 3, 4>> layer;
    static_assert(std::is_same_v<decltype(layer)::output_shape, Shape<24>>);
    const auto check = testing::check_layer_gradients(layer, 3);
    INFO(check.log);
    CHECK(check.ok);
}

}  // namespace layers_test_activation
