// ctnn/layers/conv2d.hpp — Conv2D<Filters, KernelH, KernelW, Act, Stride, Padding>: Keras's Conv2D,
// y = Act(conv(x, kernel) + bias), channels last.
//
// B = batch. Input (B, H, W, C) from the layer before (Sequential binds it), output (B, OH, OW, F).
// kernel (KH, KW, C, F) and bias (F) in Keras's layouts, so weight files match. Padding::valid
// (the default) or Padding::same, with TensorFlow's sizes. Forward and backward sit side by side and
// only call kernels/conv.hpp.
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

using Padding = kernels::padding;  // Padding::valid, Padding::same

namespace diagnostics {
// Conv2D and pooling take images: a Shape<Height, Width, Channels>. InputShape is what the layer
// before produced (a Shape<N> after Flatten or Dense): convolve before flattening.
template <class InputShape> struct layer_input_is_an_image_shape_height_width_channels {
    static constexpr bool value = InputShape::rank == 3;
};
// The window (KernelH x KernelW for Conv2D, PoolH x PoolW for pooling) must fit in the input image
// (Height x Width) with padding "valid": use a smaller window, or Padding::same for Conv2D.
template <std::size_t WindowH, std::size_t WindowW, std::size_t Height, std::size_t Width>
struct window_fits_in_input_image {
    static constexpr bool value = WindowH <= Height && WindowW <= Width;
};
}  // namespace diagnostics

namespace detail {
// (height, width, channels) of S if it is an image, else (1, 1, 1): the layers' own static_asserts
// report a non-image; these keep every other size computable so no second error follows.
template <class S> constexpr std::size_t image_dim(std::size_t axis) {
    if constexpr (S::rank == 3) return S::dims[axis];
    else return 1;
}
}  // namespace detail

template <ShapeType InputShape, std::size_t Filters, std::size_t KernelH, std::size_t KernelW, class Act,
          std::size_t Stride, Padding Pad>
class Conv2DLayer {
    static constexpr std::size_t H = detail::image_dim<InputShape>(0), W = detail::image_dim<InputShape>(1),
                                 C = detail::image_dim<InputShape>(2);
    static_assert(diagnostics::layer_input_is_an_image_shape_height_width_channels<InputShape>::value,
                  "Conv2D<Filters, KernelH, KernelW, ...>: its input must be an image, Shape<Height, Width, "
                  "Channels> (the note names the shape it got; Conv2D after Flatten or Dense is a mistake)");
    static constexpr bool fits = Pad == Padding::same || (KernelH <= H && KernelW <= W);
    static_assert(InputShape::rank != 3 ||
                      diagnostics::window_fits_in_input_image<(Pad == Padding::same ? 0 : KernelH),
                                                              (Pad == Padding::same ? 0 : KernelW), H, W>::value,
                  "Conv2D<Filters, KernelH, KernelW, ...>: with Padding::valid the kernel must fit in the input "
                  "image (the note reads <KernelH, KernelW, Height, Width>)");

public:
    // The kernels' geometry: a stand-in 1x1 one when the shape is wrong (already reported above).
    static constexpr bool valid = InputShape::rank == 3 && fits;
    static constexpr kernels::conv2d_geometry geometry = kernels::make_conv2d_geometry(
        valid ? H : 1, valid ? W : 1, C, valid ? KernelH : 1, valid ? KernelW : 1, Filters, Stride, Stride, Pad);

    using input_shape = InputShape;
    using output_shape = Shape<geometry.out_height, geometry.out_width, Filters>;
    static constexpr std::size_t param_count = KernelH * KernelW * C * Filters + Filters;
    static constexpr std::string_view kind = "conv2d";
    static constexpr std::string_view type_name = "Conv2D";
    using activation = Act;

    Parameter kernel{"kernel", {KernelH, KernelW, C, Filters}};  // (KH, KW, C, F)
    Parameter bias{"bias", Filters};                            // (F)

    void initialize(Rng& rng) {
        // Keras's fans for a convolution: the receptive field times the channels in / out.
        initializers::glorot_uniform(kernel, KernelH * KernelW * C, KernelH * KernelW * Filters, rng);
        initializers::zeros(bias);
    }

    // x (B, H, W, C) -> y (B, OH, OW, F)
    void forward(const float* x, float* y, const ForwardContext& ctx) {
        forward_with(x, y, ctx, kernel.value.data(), bias.value.data());
    }
    // The same with other weights of the same shapes: a BatchNormalization folded into these.
    void forward_with(const float* x, float* y, const ForwardContext& ctx, const float* kernel_values,
                      const float* bias_values) {
        kernels::conv2d_forward<geometry, Act>(ctx.batch, x, kernel_values, bias_values, y);
    }

    // dy (B, OH, OW, F): gradient w.r.t. y (overwritten with the pre-activation gradient dz).
    // dx (B, H, W, C) or nullptr (first layer: the data-gradient product is skipped).
    // Without an activation (Linear) y is not read, and nothing is done to dy.
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

// Conv2D<32, 3, 3, Relu>: 32 filters of 3x3, stride 1, padding valid, as keras.layers.Conv2D(32, (3, 3),
// activation="relu"). Its input shape comes from the layer before it (or Input<H, W, C>).
template <std::size_t Filters, std::size_t KernelH, std::size_t KernelW, class Act = Linear, std::size_t Stride = 1,
          Padding Pad = Padding::valid>
struct Conv2D {
    static_assert(Filters > 0 && KernelH > 0 && KernelW > 0,
                  "Conv2D<Filters, KernelH, KernelW, ...>: Filters, KernelH and KernelW must be > 0");
    static_assert(Stride > 0, "Conv2D<Filters, KernelH, KernelW, Act, Stride, Padding>: Stride must be > 0");
    static_assert(ActivationPolicy<Act> && Act::elementwise,
                  "Conv2D<Filters, KernelH, KernelW, Act>: Act must be an elementwise activation such as ctnn::Relu or "
                  "ctnn::Linear (for a softmax over the channels, add Activation<Softmax> after it)");
    template <ShapeType S> using bind = Conv2DLayer<S, Filters, KernelH, KernelW, Act, Stride, Pad>;
};

}  // namespace ctnn
