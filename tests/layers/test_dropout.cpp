// Dropout<Rate>: Keras meaning (Rate = fraction dropped), inverted scaling, identity at inference,
// gradient through the same mask.
#include <doctest/doctest.h>

#include <ratio>
#include <type_traits>
#include <vector>

#include <ctnn/layers/dropout.hpp>

#include "helpers.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace layers_test_dropout {

using namespace ctnn;

TEST_CASE("Dropout.keras_rate_means_fraction_dropped") {
    using L = Dropout<0.9>::bind<Shape<500>>;
    static_assert(L::param_count == 0 && std::is_same_v<L::input_shape, Shape<500>>);
    L layer;
    constexpr std::size_t batch = 200;
    layer.reserve(batch);
    std::vector<float> x(batch * 500, 1.0f), y(batch * 500);
    Rng rng(3);
    layer.forward(x.data(), y.data(), {batch, Phase::training, &rng});
    std::size_t kept = 0;
    for (float v : y) {
        if (v != 0.0f) {
            ++kept;
            REQUIRE(v == doctest::Approx(10.0f));  // 1 / (1 - 0.9)
        }
    }
    // 100,000 units, keep probability 0.1: mean 10,000, sd ~95.
    CHECK(kept > 9'500);
    CHECK(kept < 10'500);
}

TEST_CASE("Dropout.identity_at_inference") {
    Dropout<0.5>::bind<Shape<7>> layer;
    std::vector<float> x(3 * 7), y(3 * 7);
    Rng rng(1);
    for (auto& v : x) v = rng.uniform(-1, 1);
    layer.forward(x.data(), y.data(), {3, Phase::inference, nullptr});
    CHECK(x == y);
}

TEST_CASE("Dropout.gradients_match_finite_differences") {
    Dropout<0.3>::bind<Shape<23>> layer;
    const auto check = testing::check_layer_gradients(layer, 5, Phase::training);
    INFO(check.log);
    CHECK(check.ok);
}

// The portable spelling (compilers without floating-point template arguments): the same layer.
TEST_CASE("Dropout.ratio_rate_is_the_same_layer") {
    using L = Dropout<rate<9, 10>>::bind<Shape<50>>;
    CHECK(L::rate == 0.9);
    CHECK(L::scale == doctest::Approx(10.0f));
    constexpr std::size_t batch = 40;
    std::vector<float> x(batch * 50, 1.0f), y(batch * 50), y_std(batch * 50);
    L layer;
    Rng rng(11);
    layer.forward(x.data(), y.data(), {batch, Phase::training, &rng});
    Dropout<std::ratio<9, 10>{}>::bind<Shape<50>> same;
    Rng rng_std(11);
    same.forward(x.data(), y_std.data(), {batch, Phase::training, &rng_std});
    CHECK(y == y_std);
    CHECK(layer.mask() == same.mask());
#if CTNN_FLOAT_TEMPLATE_ARGS
    static_assert(std::is_same_v<L, Dropout<0.9>::bind<Shape<50>>>);
#endif
    const auto check = testing::check_layer_gradients(layer, 5, Phase::training);
    INFO(check.log);
    CHECK(check.ok);
}

}  // namespace layers_test_dropout
