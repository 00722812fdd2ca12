// GlobalAveragePooling2D and GlobalMaxPooling2D: an image to a vector of its channels, Keras's names;
// hand-computed means, maxima and gradients (the first maximum takes the gradient); backward against
// central differences.
#include <doctest/doctest.h>

#include <type_traits>

#include <ctnn/layers/global_pooling2d.hpp>

#include "helpers.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace layers_test_global_pooling2d {

using namespace ctnn;

TEST_CASE("GlobalPooling2D.shapes_and_names_are_keras") {
    static_assert(BindableLayerSpec<GlobalAveragePooling2D> && BindableLayerSpec<GlobalMaxPooling2D>);
    using Avg = GlobalAveragePooling2D::bind<Shape<5, 4, 3>>;
    using Max = GlobalMaxPooling2D::bind<Shape<7, 7, 64>>;
    static_assert(Layer<Avg> && Layer<Max>);
    static_assert(std::is_same_v<Avg::output_shape, Shape<3>> && std::is_same_v<Max::output_shape, Shape<64>>);
    static_assert(Avg::param_count == 0 && Max::param_count == 0);
    static_assert(Avg::kind == "global_average_pooling2d" && Avg::type_name == "GlobalAveragePooling2D");
    static_assert(Max::kind == "global_max_pooling2d" && Max::type_name == "GlobalMaxPooling2D");
}

// A 2x2 image of two channels, positions in row-major order: channel 0 is 1, 5, 2, 0; channel 1 is
// −1, −3, −2, −4 (its maximum at position 0).
TEST_CASE("GlobalPooling2D.hand_computed") {
    const float x[8] = {1, -1, 5, -3, 2, -2, 0, -4};
    float dy[2] = {10, 20}, y[2], dx[8];
    SUBCASE("average") {
        GlobalAveragePooling2D::bind<Shape<2, 2, 2>> layer;
        layer.forward(x, y, {1, Phase::inference, nullptr});
        CHECK(y[0] == 2.0f);
        CHECK(y[1] == -2.5f);
        layer.backward(x, y, dy, dx, 1, false);
        for (int p = 0; p < 4; ++p) {
            CHECK(dx[2 * p] == 2.5f);  // dy / 4 on every position
            CHECK(dx[2 * p + 1] == 5.0f);
        }
    }
    SUBCASE("max") {
        GlobalMaxPooling2D::bind<Shape<2, 2, 2>> layer;
        layer.forward(x, y, {1, Phase::inference, nullptr});
        CHECK(y[0] == 5.0f);
        CHECK(y[1] == -1.0f);
        layer.backward(x, y, dy, dx, 1, false);
        const float want[8] = {0, 20, 10, 0, 0, 0, 0, 0};
        for (int i = 0; i < 8; ++i) CHECK(dx[i] == want[i]);
    }
}

// As MaxPooling2D: of equal maxima, the first in row-major order takes all of dy.
TEST_CASE("GlobalMaxPooling2D.ties_go_to_the_first_maximum") {
    GlobalMaxPooling2D::bind<Shape<2, 3, 1>> layer;
    const float x[6] = {1, 4, 2, 4, 0, 4};
    float y[1], dy[1] = {3}, dx[6];
    layer.forward(x, y, {1, Phase::inference, nullptr});
    CHECK(y[0] == 4.0f);
    layer.backward(x, y, dy, dx, 1, false);
    const float want[6] = {0, 3, 0, 0, 0, 0};
    for (int i = 0; i < 6; ++i) CHECK(dx[i] == want[i]);
}

TEST_CASE_TEMPLATE("GlobalPooling2D.gradients_match_finite_differences", L,
                   GlobalAveragePooling2D::bind<Shape<4, 5, 17>>,  // a vector of channels and a tail
                   GlobalAveragePooling2D::bind<Shape<1, 1, 3>>,   // one position: the identity
                   GlobalMaxPooling2D::bind<Shape<5, 6, 3>>,
                   GlobalMaxPooling2D::bind<Shape<3, 3, 20>>) {
    L layer;
    const auto check = testing::check_layer_gradients(layer, 3);
    INFO(check.log);
    CHECK(check.checked > 0);
    CHECK(check.ok);
}

}  // namespace layers_test_global_pooling2d
