// ctnn/layers/global_pooling2d.hpp — GlobalAveragePooling2D and GlobalMaxPooling2D: Keras's, the mean
// or the maximum of each channel over the whole image (keepdims=False), channels last.
//
// B = batch. Input (B, H, W, C) from the layer before (Sequential binds it), output (B, C). No
// parameters. A global pooling is a pooling whose one window is the whole image, so forward and
// backward call kernels/pool.hpp with that window: the output (B, 1, 1, C) is (B, C) in memory, and
// the max's gradient goes to each channel's first maximum in row-major order, as MaxPooling2D's.
#pragma once

#include <cstddef>
#include <string_view>

#include "ctnn/core/concepts.hpp"
#include "ctnn/core/shape.hpp"
#include "ctnn/kernels/pool.hpp"
#include "ctnn/layers/conv2d.hpp"     // the shared diagnostics and image_dim
#include "ctnn/layers/pooling2d.hpp"  // Pooling

namespace ctnn {

template <ShapeType InputShape, Pooling Kind>
class GlobalPooling2DLayer {
    static constexpr std::size_t H = detail::image_dim<InputShape>(0), W = detail::image_dim<InputShape>(1),
                                 C = detail::image_dim<InputShape>(2);
    static_assert(diagnostics::layer_input_is_an_image_shape_height_width_channels<InputShape>::value,
                  "GlobalAveragePooling2D / GlobalMaxPooling2D: its input must be an image, Shape<Height, Width, "
                  "Channels> (the note names the shape it got; global pooling after Flatten or Dense is a mistake: "
                  "its output is already a vector)");

public:
    // One window of H x W at stride H x W: output (1, 1, C).
    static constexpr kernels::pool2d_geometry geometry = kernels::make_pool2d_geometry(H, W, C, H, W, H, W);

    using input_shape = InputShape;
    using output_shape = Shape<C>;
    static constexpr std::size_t param_count = 0;
    static constexpr std::string_view kind =
        Kind == Pooling::max ? "global_max_pooling2d" : "global_average_pooling2d";
    static constexpr std::string_view type_name =
        Kind == Pooling::max ? "GlobalMaxPooling2D" : "GlobalAveragePooling2D";

    void initialize(Rng&) {}

    // x (B, H, W, C) -> y (B, C)
    void forward(const float* x, float* y, const ForwardContext& ctx) {
        if constexpr (Kind == Pooling::max) kernels::max_pool2d_forward<geometry>(ctx.batch, x, y);
        else kernels::average_pool2d_forward<geometry>(ctx.batch, x, y);
    }
    // dy (B, C) -> dx (B, H, W, C), or nothing when this is the first layer (dx nullptr).
    void backward(const float* x, const float* y, float* dy, float* dx, std::size_t batch, bool) {
        if (dx == nullptr) return;
        if constexpr (Kind == Pooling::max) kernels::max_pool2d_backward<geometry>(batch, x, y, dy, dx);
        else kernels::average_pool2d_backward<geometry>(batch, dy, dx);
    }
    template <class F> void visit_parameters(F&&) {}
};

// GlobalAveragePooling2D: keras.layers.GlobalAveragePooling2D(), (H, W, C) -> (C).
struct GlobalAveragePooling2D {
    template <ShapeType S> using bind = GlobalPooling2DLayer<S, Pooling::average>;
};

// GlobalMaxPooling2D: keras.layers.GlobalMaxPooling2D(), (H, W, C) -> (C).
struct GlobalMaxPooling2D {
    template <ShapeType S> using bind = GlobalPooling2DLayer<S, Pooling::max>;
};

}  // namespace ctnn
