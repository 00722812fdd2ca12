// Tests of layers/block.hpp and layers/merge.hpp: hand-computed Add and Concatenate merges, the
// bound shapes and parameter counts of blocks, and every block's backward (its input gradient
// included, summed over the branches) against central differences.
#include <doctest/doctest.h>

#include <cstddef>
#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "helpers.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace layers_test_block {

namespace {

using namespace ctnn;

template <class Spec, class S> using bound = typename Spec::template bind<S>;

// x + 2x through Residual<Dense-free identity-like body>: a body of Activation<Linear> doubles
// nothing, so y = x + x.
using Doubling = bound<Residual<Activation<Linear>>, Shape<2, 2, 3>>;
// [1x1 conv (2 filters) | identity (3 channels)] joined along the channels.
using Joined = bound<Branches<Concatenate, Sequential<Conv2D<2, 1, 1>>, Identity>, Shape<2, 2, 3>>;

using Projection = bound<Residual<Conv2D<4, 3, 3, Tanh, 2, Padding::same>, Conv2D<4, 3, 3, Linear, 1, Padding::same>,
                                  Shortcut<Conv2D<4, 1, 1, Linear, 2>>>,
                         Shape<6, 6, 2>>;
using Inception = bound<Branches<Concatenate, Sequential<Conv2D<2, 1, 1, Tanh>>,
                                 Sequential<Conv2D<3, 3, 3, Sigmoid, 1, Padding::same>>, Identity>,
                        Shape<5, 5, 2>>;
using Nested = bound<Branches<Concatenate,
                              Sequential<Conv2D<3, 3, 3, Tanh, 1, Padding::same>,
                                         Residual<Conv2D<3, 3, 3, Tanh, 1, Padding::same>, Conv2D<3, 1, 1, Linear>>,
                                         Conv2D<2, 1, 1, Tanh>>,
                              Identity>,
                     Shape<4, 4, 3>>;
using ThreeWayAdd = bound<Branches<Add, Sequential<Dense<5, 4, Tanh>>, Dense<5, 4, Sigmoid>, Sequential<Dense<5, 4>>>, Shape<5>>;

static_assert(Layer<Projection> && Layer<Inception> && Layer<Nested>);
static_assert(std::is_same_v<Projection::output_shape, Shape<3, 3, 4>>);
static_assert(Projection::param_count == (3 * 3 * 2 * 4 + 4) + (3 * 3 * 4 * 4 + 4) + (2 * 4 + 4));
static_assert(std::is_same_v<Inception::output_shape, Shape<5, 5, 7>>);
static_assert(Inception::param_count == (2 * 2 + 2) + (3 * 3 * 2 * 3 + 3));
static_assert(std::is_same_v<Nested::output_shape, Shape<4, 4, 5>>);
static_assert(std::is_same_v<ThreeWayAdd::output_shape, Shape<4>>);
static_assert(ThreeWayAdd::param_count == 3 * (5 * 4 + 4));

template <class L> void check_block_gradients(std::size_t batch, std::uint64_t seed) {
    L layer;
    const auto check = testing::check_layer_gradients(layer, batch, Phase::training, seed);
    INFO(check.log);
    CHECK(check.checked > 0);
    CHECK(static_cast<bool>(check));
}

}  // namespace

TEST_CASE("Block.residual_identity_adds_the_input") {
    Doubling block;
    Rng rng(1);
    block.initialize(rng);
    block.reserve(2);
    std::vector<float> x(2 * 12), y(2 * 12);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i) - 7.5f;
    block.forward(x.data(), y.data(), ForwardContext{2, Phase::training, &rng});
    for (std::size_t i = 0; i < x.size(); ++i) CHECK(y[i] == 2 * x[i]);
    // dx = dy through both branches.
    std::vector<float> dy(2 * 12, 0.5f), dx(2 * 12, -1.0f);
    block.backward(x.data(), y.data(), dy.data(), dx.data(), 2, false);
    for (float g : dx) CHECK(g == 1.0f);
}

TEST_CASE("Block.concatenate_joins_channels_position_by_position") {
    Joined block;
    Rng rng(2);
    block.initialize(rng);
    block.reserve(1);
    // The 1x1 convolution: filter 0 sums the channels, filter 1 takes channel 2; bias 0.
    auto& conv = block.branch<0>().layer<0>();
    std::vector<float> kernel{1, 0, 1, 0, 1, 1};  // (1, 1, C=3, F=2) row-major
    std::copy(kernel.begin(), kernel.end(), conv.kernel.value.begin());
    std::fill(conv.bias.value.begin(), conv.bias.value.end(), 0.0f);
    std::vector<float> x(12), y(4 * 5);
    for (std::size_t i = 0; i < x.size(); ++i) x[i] = float(i + 1);
    block.forward(x.data(), y.data(), ForwardContext{1, Phase::inference, nullptr});
    for (std::size_t p = 0; p < 4; ++p) {
        const float a = x[p * 3], b = x[p * 3 + 1], c = x[p * 3 + 2];
        CHECK(y[p * 5 + 0] == a + b + c);
        CHECK(y[p * 5 + 1] == c);
        CHECK(y[p * 5 + 2] == a);
        CHECK(y[p * 5 + 3] == b);
        CHECK(y[p * 5 + 4] == c);
    }
}

TEST_CASE("Block.backward_matches_finite_differences") {
    check_block_gradients<Projection>(3, 41);
    check_block_gradients<Inception>(3, 42);
    check_block_gradients<Nested>(2, 43);
    check_block_gradients<ThreeWayAdd>(4, 44);
}

}  // namespace layers_test_block
