// ZeroPadding2D: Keras's three spellings of the padding and its default, the output shape, a
// hand-computed image and gradient, backward against central differences.
#include <doctest/doctest.h>

#include <type_traits>

#include <ctnn/layers/zero_padding2d.hpp>

#include "helpers.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace layers_test_zero_padding2d {

using namespace ctnn;

template <class Spec, std::size_t Top, std::size_t Bottom, std::size_t Left, std::size_t Right>
constexpr bool pads = Spec::top == Top && Spec::bottom == Bottom && Spec::left == Left && Spec::right == Right;

TEST_CASE("ZeroPadding2D.spellings_are_kerass") {
    static_assert(BindableLayerSpec<ZeroPadding2D<>>);
    static_assert(pads<ZeroPadding2D<>, 1, 1, 1, 1>);           // padding=(1, 1), the default
    static_assert(pads<ZeroPadding2D<2>, 2, 2, 2, 2>);          // padding=2
    static_assert(pads<ZeroPadding2D<1, 3>, 1, 1, 3, 3>);       // padding=(1, 3): rows, then columns
    static_assert(pads<ZeroPadding2D<1, 2, 3, 4>, 1, 2, 3, 4>); // padding=((1, 2), (3, 4))
    static_assert(std::is_same_v<ZeroPadding2D<>::bind<Shape<28, 28, 1>>::output_shape, Shape<30, 30, 1>>);
    static_assert(std::is_same_v<ZeroPadding2D<1, 3>::bind<Shape<5, 4, 3>>::output_shape, Shape<7, 10, 3>>);
    static_assert(std::is_same_v<ZeroPadding2D<1, 2, 3, 4>::bind<Shape<5, 4, 3>>::output_shape, Shape<8, 11, 3>>);
    static_assert(std::is_same_v<ZeroPadding2D<0>::bind<Shape<5, 4, 3>>::output_shape, Shape<5, 4, 3>>);
    using L = ZeroPadding2D<2>::bind<Shape<3, 3, 2>>;
    static_assert(Layer<L> && L::param_count == 0);
    static_assert(L::kind == "zero_padding2d" && L::type_name == "ZeroPadding2D");
    // One layer type per padding, whatever the spelling.
    static_assert(std::is_same_v<L, ZeroPadding2D<2, 2, 2, 2>::bind<Shape<3, 3, 2>>>);
}

// A 2x2 image of two channels, one row above and one column right:
//   channel 0 [[1, 2], [3, 4]] -> [[0, 0, 0], [1, 2, 0], [3, 4, 0]], channel 1 likewise with 10s.
TEST_CASE("ZeroPadding2D.hand_computed") {
    ZeroPadding2D<1, 0, 0, 1>::bind<Shape<2, 2, 2>> layer;
    static_assert(std::is_same_v<decltype(layer)::output_shape, Shape<3, 3, 2>>);
    const float x[8] = {1, 10, 2, 20, 3, 30, 4, 40};
    float y[18];
    layer.forward(x, y, {1, Phase::inference, nullptr});
    const float want[18] = {0, 0, 0, 0, 0, 0,  //
                            1, 10, 2, 20, 0, 0,  //
                            3, 30, 4, 40, 0, 0};
    for (int i = 0; i < 18; ++i) CHECK(y[i] == want[i]);
    float dy[18], dx[8];
    for (int i = 0; i < 18; ++i) dy[i] = float(i);
    layer.backward(x, y, dy, dx, 1, false);
    const float want_dx[8] = {6, 7, 8, 9, 12, 13, 14, 15};  // dy at rows 1-2, columns 0-1
    for (int i = 0; i < 8; ++i) CHECK(dx[i] == want_dx[i]);
}

TEST_CASE_TEMPLATE("ZeroPadding2D.gradients_match_finite_differences", L,
                   ZeroPadding2D<1, 2, 0, 3>::bind<Shape<3, 4, 2>>,
                   ZeroPadding2D<>::bind<Shape<5, 5, 17>>) {
    L layer;
    const auto check = testing::check_layer_gradients(layer, 2);
    INFO(check.log);
    CHECK(check.checked > 0);
    CHECK(check.ok);
}

}  // namespace layers_test_zero_padding2d
