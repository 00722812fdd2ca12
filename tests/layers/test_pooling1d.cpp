// MaxPooling1D, AveragePooling1D, GlobalAveragePooling1D and GlobalMaxPooling1D: Keras's output
// sizes (floor), defaults and names; hand-computed values and gradients (the first maximum takes
// the gradient, overlapping windows add up); backward against central differences.
#include <doctest/doctest.h>

#include <type_traits>

#include <ctnn/layers/pooling1d.hpp>

#include "helpers.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace layers_test_pooling1d {

using namespace ctnn;

TEST_CASE("Pooling1D.shapes_and_names_are_keras") {
    static_assert(BindableLayerSpec<MaxPooling1D<>> && BindableLayerSpec<GlobalAveragePooling1D> &&
                  BindableLayerSpec<GlobalMaxPooling1D>);
    // Keras's defaults: pool_size 2, strides = pool_size.
    static_assert(std::is_same_v<MaxPooling1D<>, MaxPooling1D<2, 2>>);
    static_assert(std::is_same_v<MaxPooling1D<3>, MaxPooling1D<3, 3>>);
    static_assert(std::is_same_v<MaxPooling1D<>::bind<Shape<16, 8>>::output_shape, Shape<8, 8>>);
    static_assert(std::is_same_v<MaxPooling1D<2>::bind<Shape<7, 3>>::output_shape, Shape<3, 3>>);  // floor
    static_assert(std::is_same_v<MaxPooling1D<3>::bind<Shape<10, 2>>::output_shape, Shape<3, 2>>);
    static_assert(std::is_same_v<MaxPooling1D<3, 1>::bind<Shape<10, 2>>::output_shape, Shape<8, 2>>);
    static_assert(std::is_same_v<AveragePooling1D<3, 2>::bind<Shape<9, 2>>::output_shape, Shape<4, 2>>);
    using Max = MaxPooling1D<2>::bind<Shape<6, 4>>;
    using Avg = AveragePooling1D<2>::bind<Shape<6, 4>>;
    static_assert(Layer<Max> && Layer<Avg> && Max::param_count == 0 && Avg::param_count == 0);
    static_assert(Max::kind == "max_pooling1d" && Max::type_name == "MaxPooling1D");
    static_assert(Avg::kind == "average_pooling1d" && Avg::type_name == "AveragePooling1D");

    using GAvg = GlobalAveragePooling1D::bind<Shape<5, 3>>;
    using GMax = GlobalMaxPooling1D::bind<Shape<7, 64>>;
    static_assert(Layer<GAvg> && Layer<GMax>);
    static_assert(std::is_same_v<GAvg::output_shape, Shape<3>> && std::is_same_v<GMax::output_shape, Shape<64>>);
    static_assert(GAvg::param_count == 0 && GMax::param_count == 0);
    static_assert(GAvg::kind == "global_average_pooling1d" && GAvg::type_name == "GlobalAveragePooling1D");
    static_assert(GMax::kind == "global_max_pooling1d" && GMax::type_name == "GlobalMaxPooling1D");
}

// Five steps of two channels: (1, −1), (3, −4), (2, 0), (2, 5), (9, 9). Windows of 2 at stride 2
// cover steps 0-1 and 2-3; the last step is dropped (floor), and gets no gradient.
TEST_CASE("MaxPooling1D.hand_computed") {
    MaxPooling1D<2>::bind<Shape<5, 2>> layer;
    const float x[10] = {1, -1, 3, -4, 2, 0, 2, 5, 9, 9};
    float y[4], dy[4] = {10, 20, 30, 40}, dx[10];
    layer.forward(x, y, {1, Phase::inference, nullptr});
    const float want_y[4] = {3, -1, 2, 5};
    for (int i = 0; i < 4; ++i) CHECK(y[i] == want_y[i]);
    layer.backward(x, y, dy, dx, 1, false);
    // Steps 2 and 3 tie at 2 in channel 0: the first takes the gradient.
    const float want_dx[10] = {0, 20, 10, 0, 30, 0, 0, 40, 0, 0};
    for (int i = 0; i < 10; ++i) CHECK(dx[i] == want_dx[i]);
}

// Stride 1: windows overlap, and a step that is the maximum of two windows gets both gradients.
TEST_CASE("MaxPooling1D.overlapping_windows_add_their_gradients") {
    MaxPooling1D<2, 1>::bind<Shape<4, 1>> layer;
    const float x[4] = {1, 3, 2, 0};
    float y[3], dy[3] = {1, 2, 4}, dx[4];
    layer.forward(x, y, {1, Phase::inference, nullptr});
    CHECK(y[0] == 3.0f);
    CHECK(y[1] == 3.0f);
    CHECK(y[2] == 2.0f);
    layer.backward(x, y, dy, dx, 1, false);
    const float want[4] = {0, 3, 4, 0};
    for (int i = 0; i < 4; ++i) CHECK(dx[i] == want[i]);
}

TEST_CASE("AveragePooling1D.hand_computed") {
    AveragePooling1D<2>::bind<Shape<4, 1>> layer;
    const float x[4] = {1, 3, 2, 6};
    float y[2], dy[2] = {4, 8}, dx[4];
    layer.forward(x, y, {1, Phase::inference, nullptr});
    CHECK(y[0] == 2.0f);
    CHECK(y[1] == 4.0f);
    layer.backward(x, y, dy, dx, 1, false);
    const float want[4] = {2, 2, 4, 4};
    for (int i = 0; i < 4; ++i) CHECK(dx[i] == want[i]);
}

// Four steps of two channels: channel 0 is 1, 5, 2, 0; channel 1 is −1, −3, −2, −4.
TEST_CASE("GlobalPooling1D.hand_computed") {
    const float x[8] = {1, -1, 5, -3, 2, -2, 0, -4};
    float dy[2] = {10, 20}, y[2], dx[8];
    SUBCASE("average") {
        GlobalAveragePooling1D::bind<Shape<4, 2>> layer;
        layer.forward(x, y, {1, Phase::inference, nullptr});
        CHECK(y[0] == 2.0f);
        CHECK(y[1] == -2.5f);
        layer.backward(x, y, dy, dx, 1, false);
        for (int s = 0; s < 4; ++s) {
            CHECK(dx[2 * s] == 2.5f);  // dy / 4 on every step
            CHECK(dx[2 * s + 1] == 5.0f);
        }
    }
    SUBCASE("max") {
        GlobalMaxPooling1D::bind<Shape<4, 2>> layer;
        layer.forward(x, y, {1, Phase::inference, nullptr});
        CHECK(y[0] == 5.0f);
        CHECK(y[1] == -1.0f);
        layer.backward(x, y, dy, dx, 1, false);
        const float want[8] = {0, 20, 10, 0, 0, 0, 0, 0};
        for (int i = 0; i < 8; ++i) CHECK(dx[i] == want[i]);
    }
}

TEST_CASE_TEMPLATE("Pooling1D.gradients_match_finite_differences", L,
                   MaxPooling1D<2>::bind<Shape<7, 3>>,          // tiling windows, the last step dropped
                   MaxPooling1D<3, 1>::bind<Shape<6, 2>>,       // overlapping windows
                   MaxPooling1D<2>::bind<Shape<6, 17>>,         // a vector of channels and a tail
                   AveragePooling1D<2>::bind<Shape<5, 3>>,      // tiling
                   AveragePooling1D<3, 2>::bind<Shape<9, 2>>,   // overlapping
                   GlobalAveragePooling1D::bind<Shape<6, 17>>,
                   GlobalAveragePooling1D::bind<Shape<1, 3>>,   // one step: the identity
                   GlobalMaxPooling1D::bind<Shape<5, 3>>,
                   GlobalMaxPooling1D::bind<Shape<4, 20>>) {
    L layer;
    const auto check = testing::check_layer_gradients(layer, 3);
    INFO(check.log);
    CHECK(check.checked > 0);
    CHECK(check.ok);
}

}  // namespace layers_test_pooling1d
