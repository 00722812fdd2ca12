// Activation<Act> as a layer: sizes come from the layer before; gradients by finite differences.
#include <doctest/doctest.h>

#include <ctnn/layers/activation.hpp>

#include "helpers.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace layers_test_activation {

using namespace ctnn;

TEST_CASE_TEMPLATE("Activation.gradients_match_finite_differences", Act, Linear, Relu, Sigmoid, Tanh, Softmax) {
    using L = Activation<Act>::template bind<19>;
    static_assert(L::input_size == 19 && L::output_size == 19 && L::param_count == 0);
    L layer;
    const auto check = testing::check_layer_gradients(layer, 4);
    INFO(check.log);
    CHECK(check.ok);
}

TEST_CASE("Activation.softmax_rows_sum_to_one") {
    Activation<Softmax>::bind<3> layer;
    const float x[6] = {1, 2, 3, 1000, 1000, 1000};  // the second row would overflow without max-subtraction
    float y[6];
    layer.forward(x, y, {2, Phase::inference, nullptr});
    // softmax([1,2,3]) = [0.09003057, 0.24472847, 0.66524096]
    CHECK(y[0] == doctest::Approx(0.09003057));
    CHECK(y[1] == doctest::Approx(0.24472847));
    CHECK(y[2] == doctest::Approx(0.66524096));
    for (int c = 3; c < 6; ++c) CHECK(y[c] == doctest::Approx(1.0 / 3.0));
}

}  // namespace layers_test_activation
