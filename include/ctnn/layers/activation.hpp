// ctnn/layers/activation.hpp — Activation<Act> as a layer of its own (Keras's
// `Activation('relu')` after a linear Dense). Its shape is that of the layer before it; Softmax
// normalizes over the last axis (the channels of an image), as Keras's does.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

#include "ctnn/activations.hpp"
#include "ctnn/core/concepts.hpp"
#include "ctnn/kernels/activation.hpp"

namespace ctnn {

template <ShapeType S, class Act>
class ActivationLayer {
    static constexpr std::size_t N = S::size;
    // Elementwise: the whole sample is one row. Softmax: every position's last axis is a row.
    static constexpr std::size_t row = Act::elementwise ? N : S::dims[S::rank - 1];
    static constexpr std::size_t rows_per_sample = N / row;

public:
    using input_shape = S;
    using output_shape = S;
    static constexpr std::size_t param_count = 0;
    static constexpr std::string_view kind = "activation";
    static constexpr std::string_view type_name = "Activation";
    using activation = Act;
    // An elementwise forward may write over its input, and its backward reads only y.
    static constexpr bool can_run_in_place = Act::elementwise;

    void initialize(Rng&) {}
    void forward(const float* x, float* y, const ForwardContext& ctx) {
        kernels::activation_forward<row, Act>(ctx.batch * rows_per_sample, x, y);
    }
    // dy (B, N) -> dx (B, N). With a fused loss gradient dy already is the pre-activation gradient.
    void backward(const float*, const float* y, float* dy, float* dx, std::size_t batch, bool dy_is_preactivation) {
        if constexpr (Act::elementwise) {
            if (!dy_is_preactivation && dx != nullptr) {  // straight into dx: no copy
                kernels::activation_backward<row, Act>(batch * rows_per_sample, y, dy, dx);
                return;
            }
        }
        if (!dy_is_preactivation) kernels::activation_backward<row, Act>(batch * rows_per_sample, y, dy);
        if (dx != nullptr && dx != dy) std::copy(dy, dy + batch * N, dx);
    }
    template <class F> void visit_parameters(F&&) {}
};

template <class Act>
struct Activation {
    static_assert(ActivationPolicy<Act>,
                  "Activation<Act>: Act must be an activation policy such as ctnn::Relu, ctnn::Tanh or ctnn::Softmax");
    template <ShapeType S> using bind = ActivationLayer<S, Act>;
};

}  // namespace ctnn
