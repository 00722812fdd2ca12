// ctnn/layers/dense.hpp — Dense<In, Out, Act>: y = Act(x · kernel + bias), as Keras's Dense.
//
// B = batch. kernel (In, Out) row-major (Keras layout, so weight files match), bias (Out).
// Forward and backward sit side by side and only call kernels/ (which can be tuned alone).
#pragma once

#include <cstddef>
#include <string_view>
#include <type_traits>

#include "ctnn/activations.hpp"
#include "ctnn/core/concepts.hpp"
#include "ctnn/core/parameter.hpp"
#include "ctnn/kernels/activation.hpp"
#include "ctnn/kernels/dense.hpp"
#include "ctnn/layers/initializers.hpp"

namespace ctnn {

template <std::size_t In, std::size_t Out, class Act = Linear>
class Dense {
    static_assert(In > 0 && Out > 0, "Dense<In, Out, Act>: In and Out must be > 0 (a layer needs at least one input and one unit)");
    static_assert(ActivationPolicy<Act>,
                  "Dense<In, Out, Act>: Act must be an activation policy such as ctnn::Relu, ctnn::Softmax or ctnn::Linear");

public:
    using input_shape = Shape<In>;  // a vector: after an image, put Flatten first (as in Keras)
    using output_shape = Shape<Out>;
    static constexpr std::size_t input_size = In;
    static constexpr std::size_t output_size = Out;
    static constexpr std::size_t param_count = In * Out + Out;
    static constexpr std::string_view kind = "dense";
    static constexpr std::string_view type_name = "Dense";
    using activation = Act;
    // After a Shape<Steps, In> Dense acts on the last axis, every step alike (Keras's Dense on 3-D input).
    static constexpr bool acts_on_last_axis = true;

    Parameter kernel{"kernel", In, Out};  // (In, Out)
    Parameter bias{"bias", Out};          // (Out)

    void initialize(Rng& rng) {
        initializers::glorot_uniform(kernel, In, Out, rng);
        initializers::zeros(bias);
    }

    // x (B, In) -> y (B, Out)
    void forward(const float* x, float* y, const ForwardContext& ctx) {
        forward_with(x, y, ctx, kernel.value.data(), bias.value.data());
    }
    // The same with other weights of the same shapes: a BatchNormalization folded into these.
    void forward_with(const float* x, float* y, const ForwardContext& ctx, const float* kernel_values,
                      const float* bias_values) {
        kernels::dense_forward<In, Out, Act>(ctx.batch, x, kernel_values, bias_values, y);
    }

    // dy (B, Out): gradient w.r.t. y, or w.r.t. the pre-activation z when the loss fused the
    // activation's gradient (softmax + cross-entropy). Overwritten with dz. dx (B, In) or nullptr.
    // Without an activation (Linear) y is not read, and nothing is done to dy.
    static constexpr bool backward_reads_output = !std::is_same_v<Act, Linear>;
    static constexpr bool backward_preserves_dy = std::is_same_v<Act, Linear>;
    void backward(const float* x, const float* y, float* dy, float* dx, std::size_t batch, bool dy_is_preactivation) {
        if constexpr (backward_reads_output)
            if (!dy_is_preactivation) kernels::activation_backward<Out, Act>(batch, y, dy);
        kernels::dense_backward<In, Out>(batch, x, dy, kernel.value.data(), kernel.gradient.data(),
                                         bias.gradient.data(), dx);
    }

    template <class F> void visit_parameters(F&& f) {
        f(kernel);
        f(bias);
    }
};

}  // namespace ctnn
