// MaxPooling2D and AveragePooling2D: Keras's output sizes (floor), backward against central differences.
#include <doctest/doctest.h>

#include <type_traits>

#include <ctnn/layers/pooling2d.hpp>

#include "helpers.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace layers_test_pooling2d {

using namespace ctnn;

TEST_CASE("Pooling2D.output_shapes_round_down_as_keras") {
    static_assert(std::is_same_v<MaxPooling2D<2, 2>::bind<Shape<26, 26, 32>>::output_shape, Shape<13, 13, 32>>);
    static_assert(std::is_same_v<MaxPooling2D<2, 2>::bind<Shape<11, 11, 64>>::output_shape, Shape<5, 5, 64>>);
    static_assert(std::is_same_v<MaxPooling2D<3, 3, 1>::bind<Shape<5, 6, 2>>::output_shape, Shape<3, 4, 2>>);
    static_assert(std::is_same_v<AveragePooling2D<2, 3>::bind<Shape<5, 7, 1>>::output_shape, Shape<2, 2, 1>>);
    static_assert(MaxPooling2D<2, 2>::bind<Shape<4, 4, 1>>::param_count == 0);
    static_assert(MaxPooling2D<2>::bind<Shape<4, 4, 1>>::kind == "max_pooling2d");
}

TEST_CASE("MaxPooling2D.forward_takes_each_windows_maximum") {
    MaxPooling2D<2, 2>::bind<Shape<2, 4, 1>> layer;
    const float x[8] = {1, 5, 2, 0,  //
                        3, 4, 7, 6};
    float y[2];
    layer.forward(x, y, {1, Phase::inference, nullptr});
    CHECK(y[0] == 5.0f);
    CHECK(y[1] == 7.0f);
}

TEST_CASE_TEMPLATE("Pooling2D.gradients_match_finite_differences", L,
                   MaxPooling2D<2, 2>::bind<Shape<5, 6, 3>>,       // tiling windows, a row and column dropped
                   MaxPooling2D<3, 2, 1>::bind<Shape<5, 4, 2>>,    // overlapping windows
                   AveragePooling2D<2, 2>::bind<Shape<4, 5, 3>>,   // tiling
                   AveragePooling2D<3, 3, 2>::bind<Shape<7, 7, 2>>) {  // overlapping
    L layer;
    const auto check = testing::check_layer_gradients(layer, 2);
    INFO(check.log);
    CHECK(check.checked > 0);
    CHECK(check.ok);
}

}  // namespace layers_test_pooling2d
