// Losses: values against hand-computed numbers, gradients against finite differences of the mean
// loss, and the fused softmax + cross-entropy gradient against the chain rule through softmax.
#include <doctest/doctest.h>

#include <cmath>
#include <vector>

#include <ctnn/kernels/activation.hpp>
#include <ctnn/losses/losses.hpp>

#include "helpers.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace losses_test_losses {

using namespace ctnn;

namespace {

// Probabilities rows (B, N) from random logits.
std::vector<float> random_probabilities(std::size_t batch, std::size_t n, Rng& rng) {
    std::vector<float> p = testing::random_vector(batch * n, rng, -2.0f, 2.0f);
    for (std::size_t r = 0; r < batch; ++r) {
        double s = 0;
        for (std::size_t c = 0; c < n; ++c) s += std::exp(p[r * n + c]);
        for (std::size_t c = 0; c < n; ++c) p[r * n + c] = float(std::exp(p[r * n + c]) / s);
    }
    return p;
}

template <std::size_t N, class LossT, class T>
void check_gradient(const LossT& loss, std::size_t batch, std::vector<float> p, const std::vector<T>& t) {
    std::vector<float> grad(batch * N);
    loss.template gradient<N>(batch, p.data(), t.data(), grad.data());
    for (std::size_t k = 0; k < p.size(); ++k) {
        const float saved = p[k];
        const float h = 1e-3f * std::max(1e-2f, saved);
        p[k] = saved + h;
        const double up = loss.template sum<N>(batch, p.data(), t.data()) / double(batch);
        p[k] = saved - h;
        const double down = loss.template sum<N>(batch, p.data(), t.data()) / double(batch);
        p[k] = saved;
        const double numeric = (up - down) / (2.0 * h);
        INFO(LossT::name, " element ", k);
        CHECK(grad[k] == doctest::Approx(numeric).epsilon(2e-2).scale(1.0));
    }
}

}  // namespace

TEST_CASE("Losses.categorical_crossentropy_value") {
    losses::CategoricalCrossentropy ce;
    const float p[6] = {0.7f, 0.2f, 0.1f, 0.1f, 0.1f, 0.8f};
    const float t[6] = {1, 0, 0, 0, 1, 0};
    // -(log 0.7 + log 0.1)
    CHECK(ce.sum<3>(2, p, t) == doctest::Approx(-(std::log(0.7) + std::log(0.1))));
    // Unnormalised rows are renormalised and zeros clipped to 1e-7, as Keras does.
    const float q[3] = {2.0f, 0.0f, 2.0f};
    const float u[3] = {0, 1, 0};
    CHECK(ce.sum<3>(1, q, u) == doctest::Approx(-std::log(1e-7)).epsilon(1e-4));
}

TEST_CASE("Losses.sparse_equals_one_hot") {
    Rng rng(5);
    const auto p = random_probabilities(7, 10, rng);
    std::vector<float> onehot(70, 0.0f);
    std::vector<std::int32_t> labels(7);
    for (int r = 0; r < 7; ++r) {
        labels[r] = (r * 3) % 10;
        onehot[r * 10 + labels[r]] = 1.0f;
    }
    losses::CategoricalCrossentropy ce;
    losses::SparseCategoricalCrossentropy sce;
    CHECK(sce.sum<10>(7, p.data(), labels.data()) == doctest::Approx(ce.sum<10>(7, p.data(), onehot.data())));
    std::vector<float> g1(70), g2(70);
    ce.softmax_gradient<10>(7, p.data(), onehot.data(), g1.data());
    sce.softmax_gradient<10>(7, p.data(), labels.data(), g2.data());
    for (int k = 0; k < 70; ++k) CHECK(g1[k] == doctest::Approx(g2[k]));
    check_gradient<10>(sce, 7, p, labels);
}

TEST_CASE("Losses.mean_squared_error_and_binary_crossentropy_values") {
    const float p[4] = {0.5f, 1.0f, 0.25f, 0.0f};
    const float t[4] = {1.0f, 1.0f, 0.0f, 0.0f};
    // MSE rows: mean(0.25, 0) = 0.125 ; mean(0.0625, 0) = 0.03125
    CHECK(losses::MeanSquaredError{}.sum<2>(2, p, t) == doctest::Approx(0.15625));
    // BCE rows: mean(-log .5, -log(1-1e-7)) ; mean(-log .75, -log(1-1e-7))
    const double expected = (-std::log(0.5) - std::log1p(-1e-7)) / 2 + (-std::log(0.75) - std::log1p(-1e-7)) / 2;
    CHECK(losses::BinaryCrossentropy{}.sum<2>(2, p, t) == doctest::Approx(expected).epsilon(1e-5));
}

TEST_CASE("Losses.gradients_match_finite_differences") {
    Rng rng(11);
    const std::size_t batch = 4;
    const auto p = random_probabilities(batch, 5, rng);
    std::vector<float> onehot(batch * 5, 0.0f), soft(batch * 5), binary(batch * 5);
    for (std::size_t r = 0; r < batch; ++r) onehot[r * 5 + (r % 5)] = 1.0f;
    for (auto& v : soft) v = rng.uniform(0, 1);
    for (auto& v : binary) v = rng.uniform(0, 1) > 0.5f ? 1.0f : 0.0f;
    SUBCASE("categorical") { check_gradient<5>(losses::CategoricalCrossentropy{}, batch, p, onehot); }
    SUBCASE("categorical, soft targets") { check_gradient<5>(losses::CategoricalCrossentropy{}, batch, p, soft); }
    SUBCASE("mse") { check_gradient<5>(losses::MeanSquaredError{}, batch, p, soft); }
    SUBCASE("binary") { check_gradient<5>(losses::BinaryCrossentropy{}, batch, p, binary); }
}

TEST_CASE("Losses.fused_softmax_gradient_equals_chain_rule") {
    // d(mean CE)/dz computed as (p − t)/B must equal the loss gradient pushed through the softmax Jacobian.
    Rng rng(2);
    constexpr std::size_t batch = 3, n = 17;
    auto z = testing::random_vector(batch * n, rng, -3, 3);
    std::vector<float> p(batch * n);
    kernels::activation_forward<n, Softmax>(batch, z.data(), p.data());
    std::vector<float> t(batch * n, 0.0f);
    for (std::size_t r = 0; r < batch; ++r) t[r * n + (5 * r) % n] = 1.0f;
    losses::CategoricalCrossentropy ce;
    std::vector<float> fused(batch * n), chained(batch * n);
    ce.softmax_gradient<n>(batch, p.data(), t.data(), fused.data());
    ce.gradient<n>(batch, p.data(), t.data(), chained.data());
    kernels::activation_backward<n, Softmax>(batch, p.data(), chained.data());
    for (std::size_t k = 0; k < fused.size(); ++k) CHECK(fused[k] == doctest::Approx(chained[k]).epsilon(1e-4).scale(1e-3));
}

}  // namespace losses_test_losses
