// ctnn/layers/conv1d.hpp — Conv1D<Filters, KernelSize, Act, Padding1D, Stride>: Keras's Conv1D,
// y = Act(conv(x, kernel) + bias) over a sequence, channels last: (B, Steps, C) -> (B, OutSteps, F).
// A sequence (Steps, C) is the image (1, Steps, C) and the kernel (K, C, F) the same floats as a
// (1, K, C, F) one, so the layer runs kernels/conv.hpp's 2-D products (one tuned implementation); "causal"
// (Keras's _compute_causal_padding: K − 1 zeros first) is their left padding: no padded copy of the batch.
#pragma once

#include <cstddef>
#include <string_view>
#include <type_traits>

#include "ctnn/activations.hpp"
#include "ctnn/core/concepts.hpp"
#include "ctnn/core/parameter.hpp"
#include "ctnn/core/shape.hpp"
#include "ctnn/kernels/activation.hpp"
#include "ctnn/kernels/conv.hpp"
#include "ctnn/layers/initializers.hpp"

namespace ctnn {

// Keras's padding="valid", "same" (TensorFlow's: the odd extra zero after the sequence) or "causal"
// (K − 1 zeros before it: step t of the output sees steps up to t of the input, never later ones).
enum class Padding1D { valid, same, causal };

namespace diagnostics {
// Conv1D and the 1-D poolings take sequences: a Shape<Steps, Channels>. InputShape is what the layer
// before produced (a Shape<N> after Flatten or Dense, an image Shape<H, W, C> is Conv2D's).
template <class InputShape> struct layer_input_is_a_sequence_shape_steps_channels {
    static constexpr bool value = InputShape::rank == 2;
};
// The window (KernelSize for Conv1D with padding "valid", PoolSize for pooling) must fit in the input
// sequence of Steps steps.
template <std::size_t Window, std::size_t Steps> struct window_fits_in_input_sequence {
    static constexpr bool value = Window <= Steps;
};
}  // namespace diagnostics

namespace detail {
// The 2-D convolution over (1, Steps, C) with a (1, K) kernel that is Keras's Conv1D.
consteval kernels::conv2d_geometry conv1d_geometry(std::size_t steps, std::size_t channels, std::size_t kernel,
                                                   std::size_t filters, std::size_t stride, Padding1D pad) {
    if (pad != Padding1D::causal)
        return kernels::make_conv2d_geometry(1, steps, channels, 1, kernel, filters, 1, stride,
                                             pad == Padding1D::same ? kernels::padding::same : kernels::padding::valid);
    // Causal: "valid" over the sequence after K − 1 zeros, the same windows with the zeros as padding.
    kernels::conv2d_geometry g = kernels::make_conv2d_geometry(1, steps + kernel - 1, channels, 1, kernel, filters, 1,
                                                               stride, kernels::padding::valid);
    g.width = steps;
    g.pad_left = kernel - 1;
    return g;
}
}  // namespace detail

template <ShapeType InputShape, std::size_t Filters, std::size_t KernelSize, class Act, Padding1D Pad,
          std::size_t Stride>
class Conv1DLayer {
    static constexpr std::size_t Steps = detail::sequence_extent<InputShape>(0),
                                 C = detail::sequence_extent<InputShape>(1);
    static_assert(diagnostics::layer_input_is_a_sequence_shape_steps_channels<InputShape>::value,
                  "Conv1D<Filters, KernelSize, ...>: its input must be a sequence, Shape<Steps, Channels> (the note "
                  "names the shape it got; Conv1D after Flatten or Dense is a mistake, and an image takes Conv2D)");
    static constexpr bool fits = Pad != Padding1D::valid || KernelSize <= Steps;
    static_assert(InputShape::rank != 2 ||
                      diagnostics::window_fits_in_input_sequence<(Pad == Padding1D::valid ? KernelSize : 0),
                                                                 Steps>::value,
                  "Conv1D<Filters, KernelSize, ...>: with Padding1D::valid the kernel must fit in the input sequence "
                  "(the note reads <KernelSize, Steps>; Padding1D::same and Padding1D::causal pad the sequence)");

public:
    // The kernels' geometry: stand-in sizes of 1 when the shape or a size is wrong (already reported).
    static constexpr bool valid = InputShape::rank == 2 && fits;
    static constexpr kernels::conv2d_geometry geometry = detail::conv1d_geometry(
        Steps, C, valid && KernelSize > 0 ? KernelSize : 1, Filters, Stride > 0 ? Stride : 1, Pad);

    using input_shape = InputShape;
    using output_shape = Shape<geometry.out_width, Filters>;
    static constexpr std::size_t param_count = KernelSize * C * Filters + Filters;
    static constexpr std::string_view kind = "conv1d";
    static constexpr std::string_view type_name = "Conv1D";
    using activation = Act;

    Parameter kernel{"kernel", {KernelSize, C, Filters}};  // (K, C, F), Keras's shape (weight files match)
    Parameter bias{"bias", Filters};                      // (F)

    void initialize(Rng& rng) {
        // Keras's fans for a convolution: the receptive field times the channels in / out.
        initializers::glorot_uniform(kernel, KernelSize * C, KernelSize * Filters, rng);
        initializers::zeros(bias);
    }

    // x (B, Steps, C) -> y (B, OutSteps, F)
    void forward(const float* x, float* y, const ForwardContext& ctx) {
        forward_with(x, y, ctx, kernel.value.data(), bias.value.data());
    }
    // The same with other weights of the same shapes: a BatchNormalization folded into these.
    void forward_with(const float* x, float* y, const ForwardContext& ctx, const float* kernel_values,
                      const float* bias_values) {
        kernels::conv2d_forward<geometry, Act>(ctx.batch, x, kernel_values, bias_values, y);
    }

    // dy (B, OutSteps, F): gradient w.r.t. y (overwritten with the pre-activation gradient dz).
    // dx (B, Steps, C) or nullptr (first layer: the data-gradient product is skipped); the causal
    // zeros are padding, so no gradient is kept for them. Without an activation y is not read.
    static constexpr bool backward_reads_output = !std::is_same_v<Act, Linear>;
    static constexpr bool backward_preserves_dy = std::is_same_v<Act, Linear>;
    void backward(const float* x, const float* y, float* dy, float* dx, std::size_t batch, bool dy_is_preactivation) {
        if constexpr (backward_reads_output)
            if (!dy_is_preactivation) kernels::activation_backward<output_shape::size, Act>(batch, y, dy);
        kernels::conv2d_backward_weights<geometry>(batch, x, dy, kernel.gradient.data(), bias.gradient.data());
        if (dx != nullptr) kernels::conv2d_backward_data<geometry>(batch, dy, kernel.value.data(), dx);
    }

    template <class F> void visit_parameters(F&& f) {
        f(kernel);
        f(bias);
    }
};

// Conv1D<64, 3, Relu, Padding1D::causal>: 64 filters of width 3, as keras.layers.Conv1D(64, 3,
// activation="relu", padding="causal"); stride 1 and padding "valid" by default. Its input shape
// comes from the layer before it (or Input<Steps, Channels>).
template <std::size_t Filters, std::size_t KernelSize, class Act = Linear, Padding1D Pad = Padding1D::valid,
          std::size_t Stride = 1>
struct Conv1D {
    static_assert(Filters > 0 && KernelSize > 0,
                  "Conv1D<Filters, KernelSize, ...>: Filters and KernelSize must be > 0");
    static_assert(Stride > 0, "Conv1D<Filters, KernelSize, Act, Padding1D, Stride>: Stride must be > 0");
    static_assert(ActivationPolicy<Act> && Act::elementwise,
                  "Conv1D<Filters, KernelSize, Act>: Act must be an elementwise activation such as ctnn::Relu or "
                  "ctnn::Linear (for a softmax over the channels, add Activation<Softmax> after it)");
    template <ShapeType S> using bind = Conv1DLayer<S, Filters, KernelSize, Act, Pad, Stride>;
};

}  // namespace ctnn
