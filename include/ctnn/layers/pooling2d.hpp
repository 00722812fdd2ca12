// ctnn/layers/pooling2d.hpp — MaxPooling2D<PoolH, PoolW, Stride> and AveragePooling2D<...>: Keras's
// 2-D pooling with padding "valid" (the output size rounds down), channels last.
//
// B = batch. Input (B, H, W, C) from the layer before (Sequential binds it), output (B, OH, OW, C),
// OH = (H - PoolH) / StrideH + 1. Stride 0 (the default) means the window's own size, as Keras's
// strides=None. No parameters. Forward and backward sit side by side and only call kernels/pool.hpp.
#pragma once

#include <cstddef>
#include <string_view>

#include "ctnn/core/concepts.hpp"
#include "ctnn/core/shape.hpp"
#include "ctnn/kernels/pool.hpp"
#include "ctnn/layers/conv2d.hpp"  // the shared diagnostics and image_dim

namespace ctnn {

enum class Pooling { max, average };

template <ShapeType InputShape, Pooling Kind, std::size_t PoolH, std::size_t PoolW, std::size_t StrideH,
          std::size_t StrideW>
class Pooling2DLayer {
    static constexpr std::size_t H = detail::image_dim<InputShape>(0), W = detail::image_dim<InputShape>(1),
                                 C = detail::image_dim<InputShape>(2);
    static_assert(diagnostics::layer_input_is_an_image_shape_height_width_channels<InputShape>::value,
                  "MaxPooling2D / AveragePooling2D<PoolH, PoolW, Stride>: its input must be an image, Shape<Height, "
                  "Width, Channels> (the note names the shape it got; pooling after Flatten or Dense is a mistake)");
    static constexpr bool fits = PoolH <= H && PoolW <= W;
    static_assert(InputShape::rank != 3 || diagnostics::window_fits_in_input_image<PoolH, PoolW, H, W>::value,
                  "MaxPooling2D / AveragePooling2D<PoolH, PoolW, Stride>: the pooling window must fit in the input "
                  "image (the note reads <PoolH, PoolW, Height, Width>)");

public:
    // The kernels' geometry: a stand-in 1x1 one when the shape is wrong (already reported above).
    static constexpr bool valid = InputShape::rank == 3 && fits;
    static constexpr kernels::pool2d_geometry geometry = kernels::make_pool2d_geometry(
        H, W, C, valid ? PoolH : 1, valid ? PoolW : 1, StrideH, StrideW);

    using input_shape = InputShape;
    using output_shape = Shape<geometry.out_height, geometry.out_width, C>;
    static constexpr std::size_t param_count = 0;
    static constexpr std::string_view kind = Kind == Pooling::max ? "max_pooling2d" : "average_pooling2d";
    static constexpr std::string_view type_name = Kind == Pooling::max ? "MaxPooling2D" : "AveragePooling2D";

    void initialize(Rng&) {}

    // x (B, H, W, C) -> y (B, OH, OW, C)
    void forward(const float* x, float* y, const ForwardContext& ctx) {
        if constexpr (Kind == Pooling::max) kernels::max_pool2d_forward<geometry>(ctx.batch, x, y);
        else kernels::average_pool2d_forward<geometry>(ctx.batch, x, y);
    }
    // dy (B, OH, OW, C) -> dx (B, H, W, C), or nothing when this is the first layer (dx nullptr).
    void backward(const float* x, const float* y, float* dy, float* dx, std::size_t batch, bool) {
        if (dx == nullptr) return;
        if constexpr (Kind == Pooling::max) kernels::max_pool2d_backward<geometry>(batch, x, y, dy, dx);
        else kernels::average_pool2d_backward<geometry>(batch, dy, dx);
    }
    template <class F> void visit_parameters(F&&) {}
};

namespace detail {
template <Pooling Kind, std::size_t PoolH, std::size_t PoolW, std::size_t Stride>
struct pooling2d_spec {
    static_assert(PoolH > 0 && PoolW > 0, "MaxPooling2D / AveragePooling2D<PoolH, PoolW, Stride>: the window must be "
                                          "at least 1 x 1");
    template <ShapeType S>
    using bind = Pooling2DLayer<S, Kind, PoolH, PoolW, (Stride == 0 ? PoolH : Stride), (Stride == 0 ? PoolW : Stride)>;
};
}  // namespace detail

// MaxPooling2D<2, 2>: the maximum of every 2x2 window, stride 2 (keras.layers.MaxPooling2D((2, 2))).
template <std::size_t PoolH, std::size_t PoolW = PoolH, std::size_t Stride = 0>
struct MaxPooling2D : detail::pooling2d_spec<Pooling::max, PoolH, PoolW, Stride> {};

// AveragePooling2D<2, 2>: the mean of every 2x2 window, stride 2.
template <std::size_t PoolH, std::size_t PoolW = PoolH, std::size_t Stride = 0>
struct AveragePooling2D : detail::pooling2d_spec<Pooling::average, PoolH, PoolW, Stride> {};

}  // namespace ctnn
