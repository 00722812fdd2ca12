// Optimizers: Keras defaults, and steps computed by hand from Keras's update rules.
#include <doctest/doctest.h>

#include <cmath>

#include <ctnn/core/concepts.hpp>
#include <ctnn/optimizers/adam.hpp>
#include <ctnn/optimizers/rmsprop.hpp>
#include <ctnn/optimizers/sgd.hpp>

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace optimizers_test_optimizers {

using namespace ctnn;

namespace {
Parameter make_parameter(std::initializer_list<float> values, std::initializer_list<float> grads) {
    Parameter p("kernel", values.size());
    std::copy(values.begin(), values.end(), p.value.begin());
    std::copy(grads.begin(), grads.end(), p.gradient.begin());
    return p;
}
}  // namespace

static_assert(Optimizer<optimizers::Adam> && Optimizer<optimizers::SGD> && Optimizer<optimizers::RMSprop>);

TEST_CASE("Optimizers.keras_defaults") {
    const optimizers::Adam adam;
    CHECK(adam.learning_rate == 0.001f);
    CHECK(adam.beta_1 == 0.9f);
    CHECK(adam.beta_2 == 0.999f);
    CHECK(adam.epsilon == 1e-7f);
    CHECK(optimizers::SGD{}.learning_rate == 0.01f);
    CHECK(optimizers::RMSprop{}.rho == 0.9f);
}

TEST_CASE("Optimizers.adam_two_steps_by_hand") {
    optimizers::Adam adam{.learning_rate = 0.1f};
    Parameter p = make_parameter({1.0f, -2.0f}, {0.5f, -1.0f});
    auto state = adam.make_state(p);
    adam.begin_step();
    adam.update(p, state);
    // t=1: m = 0.1 g, v = 0.001 g², alpha = 0.1 * sqrt(0.001) / 0.1 ; step = alpha * m / (sqrt v + eps) ≈ 0.1 * sign(g)
    CHECK(p.value[0] == doctest::Approx(0.9).epsilon(1e-5));
    CHECK(p.value[1] == doctest::Approx(-1.9).epsilon(1e-5));
    p.gradient = {0.5f, 1.0f};
    adam.begin_step();
    adam.update(p, state);
    // t=2, element 1: m = 0.9(-0.1) + 0.1(1) = 0.01, v = 0.999(0.001) + 0.001 = 0.001999
    const double alpha = 0.1 * std::sqrt(1 - 0.999 * 0.999) / (1 - 0.9 * 0.9);
    CHECK(p.value[1] == doctest::Approx(-1.9 - alpha * 0.01 / (std::sqrt(0.001999) + 1e-7)).epsilon(1e-5));
    CHECK(adam.iterations == 2);
}

TEST_CASE("Optimizers.sgd_plain_momentum_nesterov") {
    SUBCASE("plain") {
        optimizers::SGD sgd{.learning_rate = 0.5f};
        Parameter p = make_parameter({1.0f}, {2.0f});
        auto s = sgd.make_state(p);
        sgd.begin_step();
        sgd.update(p, s);
        CHECK(p.value[0] == doctest::Approx(0.0));
    }
    SUBCASE("momentum") {
        optimizers::SGD sgd{.learning_rate = 0.1f, .momentum = 0.9f};
        Parameter p = make_parameter({1.0f}, {1.0f});
        auto s = sgd.make_state(p);
        sgd.update(p, s);  // v = -0.1, w = 0.9
        sgd.update(p, s);  // v = -0.09 - 0.1 = -0.19, w = 0.71
        CHECK(p.value[0] == doctest::Approx(0.71));
    }
    SUBCASE("nesterov") {
        optimizers::SGD sgd{.learning_rate = 0.1f, .momentum = 0.9f, .nesterov = true};
        Parameter p = make_parameter({1.0f}, {1.0f});
        auto s = sgd.make_state(p);
        sgd.update(p, s);  // v = -0.1; w += 0.9(-0.1) - 0.1 = -0.19 -> 0.81
        CHECK(p.value[0] == doctest::Approx(0.81));
    }
}

TEST_CASE("Optimizers.rmsprop_by_hand") {
    optimizers::RMSprop rms{.learning_rate = 0.01f};
    Parameter p = make_parameter({1.0f}, {2.0f});
    auto s = rms.make_state(p);
    rms.update(p, s);
    // a = 0.1 * 4 = 0.4; w = 1 - 0.01 * 2 / sqrt(0.4 + 1e-7)
    CHECK(p.value[0] == doctest::Approx(1.0 - 0.02 / std::sqrt(0.4 + 1e-7)));
}

}  // namespace optimizers_test_optimizers
