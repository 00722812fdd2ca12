// BatchNormalization: Keras 3's names, defaults, parameter order and counts; the batch's statistics
// while training (at batch 1 too), the moving ones at inference; the batch statistics left for the
// model's moving update; backward against central differences in both phases, after Dense (a vector)
// and on an image (per channel over the batch and the positions).
#include <doctest/doctest.h>

#include <cmath>
#include <string_view>
#include <type_traits>
#include <vector>

#include <ctnn/layers/batch_normalization.hpp>

#include "helpers.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace layers_test_batch_normalization {

using namespace ctnn;

TEST_CASE("BatchNormalization.names_defaults_and_parameters_are_keras") {
    static_assert(BindableLayerSpec<BatchNormalization>);
    using L = BatchNormalization::bind<Shape<5, 4, 3>>;
    static_assert(Layer<L>);
    static_assert(std::is_same_v<L::output_shape, Shape<5, 4, 3>>);
    static_assert(L::param_count == 12);  // keras: 4 * channels (the last axis), moving statistics included
    static_assert(L::non_trainable_param_count == 6);
    static_assert(BatchNormalization::bind<Shape<7>>::param_count == 28);
    static_assert(L::kind == "batch_normalization" && L::type_name == "BatchNormalization");
    static_assert(L::momentum == 0.99 && L::epsilon == 1e-3);
    static_assert(BatchNormalizationWith<rate<9, 10>, rate<1, 100000>>::bind<Shape<2>>::momentum == 0.9);
    static_assert(BatchNormalizationWith<rate<9, 10>, rate<1, 100000>>::bind<Shape<2>>::epsilon == 1e-5);
#if CTNN_FLOAT_TEMPLATE_ARGS
    static_assert(std::is_same_v<L, BatchNormalizationWith<0.99, 1e-3>::bind<Shape<5, 4, 3>>>);
    static_assert(std::is_same_v<BatchNormalizationWith<0.9, 1e-5>::bind<Shape<2>>,
                                 BatchNormalizationWith<rate<9, 10>, rate<1, 100000>>::bind<Shape<2>>>);
#endif

    L layer;
    Rng rng(1);
    layer.initialize(rng);
    std::vector<std::string_view> names;
    std::vector<bool> trainable;
    layer.visit_parameters([&](Parameter& p) {
        names.push_back(p.name);
        trainable.push_back(p.trainable());
        CHECK(p.dims() == std::vector<std::size_t>{3});
    });
    CHECK(names == std::vector<std::string_view>{"gamma", "beta", "moving_mean", "moving_variance"});
    CHECK(trainable == std::vector<bool>{true, true, false, false});
    for (std::size_t c = 0; c < 3; ++c) {
        CHECK(layer.gamma.value[c] == 1.0f);
        CHECK(layer.beta.value[c] == 0.0f);
        CHECK(layer.moving_mean.value[c] == 0.0f);
        CHECK(layer.moving_variance.value[c] == 1.0f);
    }
    CHECK(layer.moving_mean.kind == ParameterKind::moving_statistic);
    CHECK(layer.moving_variance.momentum == 0.99f);
}

// Two samples of two features: x = [[1, 2], [3, 6]], mean (2, 4), biased variance (1, 4).
TEST_CASE("BatchNormalization.training_uses_the_batch_statistics") {
    BatchNormalization::bind<Shape<2>> layer;
    Rng rng(1);
    layer.initialize(rng);
    layer.gamma.value = {2.0f, 0.5f};
    layer.beta.value = {1.0f, -1.0f};
    const float x[4] = {1, 2, 3, 6};
    float y[4];
    ForwardContext ctx{2, Phase::training, &rng};
    ctx.batch_share = 0.25f;  // as one of four data-parallel shards
    layer.forward(x, y, ctx);
    const double s0 = 1.0 / std::sqrt(1.0 + 1e-3), s1 = 1.0 / std::sqrt(4.0 + 1e-3);
    CHECK(y[0] == doctest::Approx(2.0 * -1.0 * s0 + 1.0).epsilon(1e-6));
    CHECK(y[1] == doctest::Approx(0.5 * -2.0 * s1 - 1.0).epsilon(1e-6));
    CHECK(y[2] == doctest::Approx(2.0 * 1.0 * s0 + 1.0).epsilon(1e-6));
    CHECK(y[3] == doctest::Approx(0.5 * 2.0 * s1 - 1.0).epsilon(1e-6));
    // The batch statistics, weighted by the share, wait in the moving statistics' buffers; their values
    // are the model's to update.
    CHECK(layer.moving_mean.gradient[0] == 0.5f);
    CHECK(layer.moving_mean.gradient[1] == 1.0f);
    CHECK(layer.moving_variance.gradient[0] == 0.25f);
    CHECK(layer.moving_variance.gradient[1] == 1.0f);
    CHECK(layer.moving_mean.value[0] == 0.0f);
    CHECK(layer.moving_variance.value[0] == 1.0f);
    // Backward overwrites gamma's and beta's gradients only.
    float dy[4] = {1, 0, 3, 2}, dx[4];
    layer.gamma.gradient = {9.0f, 9.0f};
    layer.backward(x, y, dy, dx, 2, false);
    CHECK(layer.beta.gradient[0] == 4.0f);
    CHECK(layer.beta.gradient[1] == 2.0f);
    CHECK(layer.gamma.gradient[0] == doctest::Approx(2.0 * s0).epsilon(1e-6));  // Σ dy · xhat = (−1 + 3) · s0
    CHECK(layer.gamma.gradient[1] == doctest::Approx(4.0 * s1).epsilon(1e-6));  // (0 · −2 + 2 · 2) · s1
    CHECK(layer.moving_mean.gradient[1] == 1.0f);
    CHECK(layer.moving_variance.gradient[0] == 0.25f);
}

// An image (1, 2, 2): two positions of two channels per sample, two samples: each channel's statistics
// are over the four (sample, position) rows.
TEST_CASE("BatchNormalization.statistics_are_per_channel_over_the_batch_and_the_positions") {
    BatchNormalization::bind<Shape<1, 2, 2>> layer;
    Rng rng(1);
    layer.initialize(rng);
    // channel 0: 1, 2, 3, 6 (mean 3, variance (4 + 1 + 0 + 9) / 4 = 3.5); channel 1: 10 everywhere.
    const float x[8] = {1, 10, 2, 10, 3, 10, 6, 10};
    float y[8];
    layer.forward(x, y, {2, Phase::training, &rng});
    CHECK(layer.moving_mean.gradient[0] == 3.0f);
    CHECK(layer.moving_variance.gradient[0] == 3.5f);
    CHECK(layer.moving_mean.gradient[1] == 10.0f);
    CHECK(layer.moving_variance.gradient[1] == 0.0f);
    const double s = 1.0 / std::sqrt(3.5 + 1e-3);
    const double want0[4] = {-2 * s, -1 * s, 0, 3 * s};
    for (int r = 0; r < 4; ++r) {
        CHECK(y[2 * r] == doctest::Approx(want0[r]).epsilon(1e-6));
        CHECK(y[2 * r + 1] == 0.0f);  // a constant channel: x − mean = 0, beta 0
    }
}

// Keras: inference uses the moving statistics at any batch, training always the batch's own (at
// batch 1 every feature equals its mean, so y = beta).
TEST_CASE("BatchNormalization.inference_uses_the_moving_statistics_even_at_batch_1") {
    BatchNormalization::bind<Shape<2>> layer;
    Rng rng(1);
    layer.initialize(rng);
    layer.gamma.value = {2.0f, 0.5f};
    layer.beta.value = {1.0f, -1.0f};
    layer.moving_mean.value = {1.0f, -2.0f};
    layer.moving_variance.value = {4.0f, 0.25f};
    const float x[2] = {3, 0};
    float y[2];
    layer.forward(x, y, {1, Phase::inference, nullptr});
    CHECK(y[0] == doctest::Approx(2.0 * (3.0 - 1.0) / std::sqrt(4.0 + 1e-3) + 1.0).epsilon(1e-6));
    CHECK(y[1] == doctest::Approx(0.5 * (0.0 + 2.0) / std::sqrt(0.25 + 1e-3) - 1.0).epsilon(1e-6));
    // Inference leaves the moving statistics' buffers alone.
    layer.moving_mean.gradient = {7.0f, 7.0f};
    layer.forward(x, y, {1, Phase::inference, nullptr});
    CHECK(layer.moving_mean.gradient[0] == 7.0f);

    layer.forward(x, y, {1, Phase::training, &rng});
    CHECK(y[0] == 1.0f);
    CHECK(y[1] == -1.0f);
    CHECK(layer.moving_mean.gradient[0] == 3.0f);
    CHECK(layer.moving_variance.gradient[0] == 0.0f);
}

TEST_CASE_TEMPLATE("BatchNormalization.gradients_match_finite_differences", L,
                   BatchNormalization::bind<Shape<7>>,        // after Dense: one row per sample
                   BatchNormalization::bind<Shape<5, 4, 3>>,  // an image: rows are every position
                   BatchNormalization::bind<Shape<2, 65>>) {  // a full tile of channels and one more
    for (const Phase phase : {Phase::training, Phase::inference})
        for (const std::size_t batch : {1, 5}) {
            INFO("phase " << (phase == Phase::training ? "training" : "inference") << ", batch " << batch);
            L layer;
            const auto check = testing::check_layer_gradients(layer, batch, phase);
            INFO(check.log);
            CHECK(check.checked > 0);
            CHECK(check.ok);
        }
}

}  // namespace layers_test_batch_normalization
