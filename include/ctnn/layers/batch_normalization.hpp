// ctnn/layers/batch_normalization.hpp — BatchNormalization: Keras 3's, over the last axis (the
// channels of an image, the features after Dense), momentum 0.99, epsilon 1e-3.
//
// B = batch. Input and output (B, S...) for any shape S; C = its last dimension, and every position
// of every sample is one of the R = B·(S::size / C) rows that the statistics are taken over.
// Training: each channel is normalized by the batch's own mean and biased variance (also at batch
// 1, as Keras), y = gamma · (x − mean) / sqrt(var + epsilon) + beta; the batch's mean and variance are
// left in the moving statistics' `gradient` buffers, weighted by ctx.batch_share, and the model folds
// them in after the step (moving = momentum · moving + (1 − momentum) · batch, core/parameter.hpp).
// Inference: the same with moving_mean and moving_variance, whatever the batch.
// Parameters in Keras's order and names: gamma (ones), beta (zeros), moving_mean (zeros),
// moving_variance (ones), each (C); the last two are non-trainable, and param_count counts all four
// as Keras's summary does. Forward and backward sit side by side and only call kernels/batch_norm.hpp.
//
// Two spellings of other constants, as Dropout's rate (layers/dropout.hpp):
//   BatchNormalizationWith<0.9, 1e-5>                       floating-point template arguments
//   BatchNormalizationWith<rate<9, 10>, rate<1, 100000>>    ratios, for clang++ before 18
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>
#include <type_traits>

#include "ctnn/activations.hpp"
#include "ctnn/core/concepts.hpp"
#include "ctnn/core/parameter.hpp"
#include "ctnn/core/shape.hpp"
#include "ctnn/core/tensor.hpp"
#include "ctnn/kernels/batch_norm.hpp"
#include "ctnn/layers/dropout.hpp"  // rate<Num, Den> and the spellings of a number as a template argument

namespace ctnn {

namespace detail {

// Momentum in [0, 1] and epsilon > 0, compared exactly (a ratio by its integers).
template <auto M> consteval bool momentum_in_range() {
    using T = decltype(M);
    if constexpr (ratio_like<T>) return T::den > 0 && T::num >= 0 && T::num <= T::den;
    else if constexpr (is_rate<M>()) return M >= 0 && M <= 1;
    else return true;  // not a number at all: is_rate's message says so
}
template <auto E> consteval bool epsilon_in_range() {
    using T = decltype(E);
    if constexpr (ratio_like<T>) return T::den > 0 && T::num > 0;
    else if constexpr (is_rate<E>()) return E > 0;
    else return true;
}
// One template argument per value whatever its spelling (see canonical_valid_rate); a value out of
// range binds as Keras's default, so that only BatchNormalizationWith's own message is printed.
template <auto M> consteval auto canonical_momentum() {
    if constexpr (is_rate<M>() && momentum_in_range<M>()) return canonical_valid_rate<M>();
    else return canonical_valid_rate<rate<99, 100>>();
}
template <auto E> consteval auto canonical_epsilon() {
    if constexpr (is_rate<E>() && epsilon_in_range<E>()) return canonical_valid_rate<E>();
    else return canonical_valid_rate<rate<1, 1000>>();
}

}  // namespace detail

// Use it through BatchNormalization::bind<S> (Sequential does).
template <ShapeType S, auto Momentum, auto Epsilon>
class BatchNormalizationLayer {
    static_assert(detail::is_rate<Momentum>() && detail::momentum_in_range<Momentum>(),
                  "BatchNormalizationLayer<Shape, Momentum, Epsilon>: Momentum must be a number in [0, 1]");
    static_assert(detail::is_rate<Epsilon>() && detail::epsilon_in_range<Epsilon>(),
                  "BatchNormalizationLayer<Shape, Momentum, Epsilon>: Epsilon must be a number > 0");
    static constexpr std::size_t C = S::dims[S::rank - 1];  // channels: the last axis
    static constexpr std::size_t positions = S::size / C;   // rows per sample

public:
    using input_shape = S;
    using output_shape = S;
    static constexpr std::size_t param_count = 4 * C;                // gamma, beta and the moving statistics
    static constexpr std::size_t non_trainable_param_count = 2 * C;  // moving_mean, moving_variance
    static constexpr std::string_view kind = "batch_normalization";
    static constexpr std::string_view type_name = "BatchNormalization";
    static constexpr double momentum = detail::rate_as_double<Momentum>();
    static constexpr double epsilon = detail::rate_as_double<Epsilon>();

    Parameter gamma{"gamma", C};                                                                  // (C)
    Parameter beta{"beta", C};                                                                    // (C)
    Parameter moving_mean = Parameter::moving_statistic("moving_mean", C, float(momentum));      // (C)
    Parameter moving_variance = Parameter::moving_statistic("moving_variance", C, float(momentum));  // (C)

    void initialize(Rng&) {
        std::fill(gamma.value.begin(), gamma.value.end(), 1.0f);
        std::fill(beta.value.begin(), beta.value.end(), 0.0f);
        std::fill(moving_mean.value.begin(), moving_mean.value.end(), 0.0f);
        std::fill(moving_variance.value.begin(), moving_variance.value.end(), 1.0f);
    }

    // x (B, S...) -> y (B, S...), normalized per channel (the last axis).
    void forward(const float* x, float* y, const ForwardContext& ctx) {
        const std::size_t rows = ctx.batch * positions;
        if (rows == 0) return;
        batch_statistics_ = ctx.phase == Phase::training;
        if (batch_statistics_) {
            kernels::batch_norm_statistics<C>(rows, x, mean_.data(), variance_.data());
            for (std::size_t c = 0; c < C; ++c) {  // this step's statistics, for the model's moving update
                moving_mean.gradient[c] = ctx.batch_share * mean_[c];
                moving_variance.gradient[c] = ctx.batch_share * variance_[c];
            }
        } else {
            std::copy(moving_mean.value.begin(), moving_mean.value.end(), mean_.begin());
            std::copy(moving_variance.value.begin(), moving_variance.value.end(), variance_.begin());
        }
        kernels::batch_norm_inverse_std<C>(variance_.data(), epsilon, inv_std_.data());
        kernels::batch_norm_forward<C>(rows, x, mean_.data(), inv_std_.data(), gamma.value.data(), beta.value.data(), y);
    }

    // dy (B, S...) -> dgamma, dbeta (C) and dx (B, S...) or nothing (dx nullptr), through the
    // statistics the last forward used: a training forward's depend on x, the moving ones do not.
    // The moving statistics' buffers keep the batch statistics forward left there.
    static constexpr bool backward_reads_output = false;  // (x and the batch statistics suffice)
    static constexpr bool backward_preserves_dy = true;
    void backward(const float* x, const float*, float* dy, float* dx, std::size_t batch, bool) {
        kernels::batch_norm_backward<C>(batch * positions, x, dy, mean_.data(), inv_std_.data(), gamma.value.data(),
                                        batch_statistics_, gamma.gradient.data(), beta.gradient.data(), dx);
    }

    template <class F> void visit_parameters(F&& f) {
        f(gamma);
        f(beta);
        f(moving_mean);
        f(moving_variance);
    }

    // Inference folds this layer into a Dense or Conv2D before it that has no activation of its own
    // (as dlib's affine layer): its kernel scaled per output channel by s = gamma / sqrt(moving_variance
    // + epsilon) and its bias by b' = (b - moving_mean)·s + beta give this layer's output in one pass.
    // Sequential calls fold_from at the start of predict and evaluate, then runs the layer before with
    // folded_kernel() and folded_bias() and skips this one.
    template <class Previous>
        requires std::is_same_v<typename Previous::output_shape, S> && std::is_same_v<typename Previous::activation, Linear> &&
                 requires(const Previous& p) { p.kernel.value; p.bias.value; }
    void fold_from(const Previous& previous) {
        const Buffer& kernel = previous.kernel.value;  // (..., C): the output channel is the last axis
        folded_kernel_.resize(kernel.size());
        folded_bias_.resize(C);
        Buffer scale(C);
        kernels::batch_norm_inverse_std<C>(moving_variance.value.data(), epsilon, scale.data());
        for (std::size_t c = 0; c < C; ++c) {
            scale[c] *= gamma.value[c];
            folded_bias_[c] = (previous.bias.value[c] - moving_mean.value[c]) * scale[c] + beta.value[c];
        }
        for (std::size_t k = 0; k < kernel.size(); k += C)
            for (std::size_t c = 0; c < C; ++c) folded_kernel_[k + c] = kernel[k + c] * scale[c];
    }
    const float* folded_kernel() const noexcept { return folded_kernel_.data(); }
    const float* folded_bias() const noexcept { return folded_bias_.data(); }

private:
    // The statistics of the last forward pass (the batch's, or the moving ones), kept for backward.
    Buffer mean_ = Buffer(C), variance_ = Buffer(C), inv_std_ = Buffer(C);  // (C)
    bool batch_statistics_ = false;
    Buffer folded_kernel_, folded_bias_;  // the layer before's weights with this one folded in
};

// BatchNormalizationWith<0.9, 1e-5>: keras.layers.BatchNormalization(momentum=0.9, epsilon=1e-5).
// Momentum and Epsilon are numbers or ratios (rate<9, 10>); its input shape comes from the layer before.
template <auto Momentum, auto Epsilon>
struct BatchNormalizationWith {
    static_assert(detail::is_rate<Momentum>(),
                  "BatchNormalizationWith<Momentum, Epsilon>: Momentum must be a number such as 0.99 or a ratio such "
                  "as ctnn::rate<99, 100>");
    static_assert(detail::momentum_in_range<Momentum>(),
                  "BatchNormalizationWith<Momentum, Epsilon>: Momentum must be in [0, 1] (the moving statistics keep "
                  "that fraction of themselves at every step; Keras's default is 0.99)");
    static_assert(detail::is_rate<Epsilon>(),
                  "BatchNormalizationWith<Momentum, Epsilon>: Epsilon must be a number such as 1e-3 or a ratio such "
                  "as ctnn::rate<1, 1000>");
    static_assert(detail::epsilon_in_range<Epsilon>(),
                  "BatchNormalizationWith<Momentum, Epsilon>: Epsilon must be > 0 (it is added to the variance "
                  "before the square root; Keras's default is 1e-3)");
    static constexpr double momentum = detail::rate_as_double<Momentum>();
    static constexpr double epsilon = detail::rate_as_double<Epsilon>();
    template <ShapeType S>
    using bind = BatchNormalizationLayer<S, detail::canonical_momentum<Momentum>(), detail::canonical_epsilon<Epsilon>()>;
};

// BatchNormalization: keras.layers.BatchNormalization() — momentum 0.99, epsilon 1e-3, the last axis.
// (Written as ratios so that it compiles everywhere; it binds to the same layer as
// BatchNormalizationWith<0.99, 1e-3>.)
struct BatchNormalization : BatchNormalizationWith<rate<99, 100>, rate<1, 1000>> {};

}  // namespace ctnn
