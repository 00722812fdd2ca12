// ctnn/layers/activation.hpp — Activation<Act> as a layer of its own (Keras's
// `Activation('relu')` after a linear Dense). Its size is that of the layer before it.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

#include "ctnn/activations.hpp"
#include "ctnn/core/concepts.hpp"
#include "ctnn/kernels/activation.hpp"

namespace ctnn {

template <std::size_t N, class Act>
class ActivationLayer {
public:
    static constexpr std::size_t input_size = N;
    static constexpr std::size_t output_size = N;
    static constexpr std::size_t param_count = 0;
    static constexpr std::string_view kind = "activation";
    static constexpr std::string_view type_name = "Activation";
    using activation = Act;

    void initialize(Rng&) {}
    void forward(const float* x, float* y, const ForwardContext& ctx) {
        kernels::activation_forward<N, Act>(ctx.batch, x, y);
    }
    // dy (B, N) -> dx (B, N). With a fused loss gradient dy already is the pre-activation gradient.
    void backward(const float*, const float* y, float* dy, float* dx, std::size_t batch, bool dy_is_preactivation) {
        if (!dy_is_preactivation) kernels::activation_backward<N, Act>(batch, y, dy);
        if (dx != nullptr) std::copy(dy, dy + batch * N, dx);
    }
    template <class F> void visit_parameters(F&&) {}
};

template <class Act>
struct Activation {
    static_assert(ActivationPolicy<Act>,
                  "Activation<Act>: Act must be an activation policy such as ctnn::Relu, ctnn::Tanh or ctnn::Softmax");
    template <std::size_t N> using bind = ActivationLayer<N, Act>;
};

}  // namespace ctnn
