// ctnn/layers/pooling1d.hpp — MaxPooling1D<PoolSize, Stride>, AveragePooling1D<...> (padding "valid",
// the output size rounds down), GlobalAveragePooling1D and GlobalMaxPooling1D ((Steps, C) -> (C)):
// Keras's 1-D poolings, channels last. A sequence (Steps, C) is the image (1, Steps, C) in memory, so
// each is the 2-D pooling layer of that image under its 1-D shapes and Keras names: the same
// kernels/pool.hpp calls, the same rule on ties (the first maximum takes the gradient).
#pragma once

#include <cstddef>
#include <string_view>

#include "ctnn/core/concepts.hpp"
#include "ctnn/core/shape.hpp"
#include "ctnn/layers/conv1d.hpp"  // the shared diagnostics
#include "ctnn/layers/global_pooling2d.hpp"
#include "ctnn/layers/pooling2d.hpp"

namespace ctnn {

namespace detail {
// The 2-D pooling layers of the image (1, Steps, C); stand-ins of 1 for a wrong shape, window or
// stride (Pooling1DLayer and the spec report them), so that these report nothing more.
template <class S> using sequence_as_image = Shape<1, sequence_extent<S>(0), sequence_extent<S>(1)>;
template <class S, Pooling Kind, std::size_t PoolSize, std::size_t Stride>
using pooling1d_image_layer =
    Pooling2DLayer<sequence_as_image<S>, Kind, 1, (S::rank == 2 && PoolSize <= sequence_extent<S>(0) ? PoolSize : 1),
                   1, (Stride > 0 ? Stride : 1)>;
template <class S, Pooling Kind> using global_pooling1d_image_layer = GlobalPooling2DLayer<sequence_as_image<S>, Kind>;
}  // namespace detail

template <ShapeType InputShape, Pooling Kind, std::size_t PoolSize, std::size_t Stride>
class Pooling1DLayer : detail::pooling1d_image_layer<InputShape, Kind, PoolSize, Stride> {
    static constexpr std::size_t Steps = detail::sequence_extent<InputShape>(0),
                                 C = detail::sequence_extent<InputShape>(1);
    static_assert(diagnostics::layer_input_is_a_sequence_shape_steps_channels<InputShape>::value,
                  "MaxPooling1D / AveragePooling1D<PoolSize, Stride>: its input must be a sequence, Shape<Steps, "
                  "Channels> (the note names the shape it got; pooling after Flatten or Dense is a mistake, and an "
                  "image takes MaxPooling2D)");
    static_assert(InputShape::rank != 2 || diagnostics::window_fits_in_input_sequence<PoolSize, Steps>::value,
                  "MaxPooling1D / AveragePooling1D<PoolSize, Stride>: the pooling window must fit in the input "
                  "sequence (the note reads <PoolSize, Steps>)");
    using image_layer = detail::pooling1d_image_layer<InputShape, Kind, PoolSize, Stride>;

public:
    using input_shape = InputShape;
    using output_shape = Shape<image_layer::output_shape::dims[1], C>;
    static constexpr std::size_t param_count = 0;
    static constexpr std::string_view kind = Kind == Pooling::max ? "max_pooling1d" : "average_pooling1d";
    static constexpr std::string_view type_name = Kind == Pooling::max ? "MaxPooling1D" : "AveragePooling1D";

    // x (B, Steps, C) -> y (B, OutSteps, C); dy -> dx (B, Steps, C): the 2-D layer's, on the same floats.
    using image_layer::initialize;
    using image_layer::forward;
    using image_layer::backward;
    using image_layer::visit_parameters;
};

template <ShapeType InputShape, Pooling Kind>
class GlobalPooling1DLayer : detail::global_pooling1d_image_layer<InputShape, Kind> {
    static_assert(diagnostics::layer_input_is_a_sequence_shape_steps_channels<InputShape>::value,
                  "GlobalAveragePooling1D / GlobalMaxPooling1D: its input must be a sequence, Shape<Steps, Channels> "
                  "(the note names the shape it got; global pooling after Flatten or Dense is a mistake: its output "
                  "is already a vector, and an image takes GlobalAveragePooling2D)");
    using image_layer = detail::global_pooling1d_image_layer<InputShape, Kind>;

public:
    using input_shape = InputShape;
    using output_shape = Shape<detail::sequence_extent<InputShape>(1)>;
    static constexpr std::size_t param_count = 0;
    static constexpr std::string_view kind =
        Kind == Pooling::max ? "global_max_pooling1d" : "global_average_pooling1d";
    static constexpr std::string_view type_name =
        Kind == Pooling::max ? "GlobalMaxPooling1D" : "GlobalAveragePooling1D";

    // x (B, Steps, C) -> y (B, C); dy -> dx (B, Steps, C): the 2-D layer's, on the same floats.
    using image_layer::initialize;
    using image_layer::forward;
    using image_layer::backward;
    using image_layer::visit_parameters;
};

namespace detail {
template <Pooling Kind, std::size_t PoolSize, std::size_t Stride>
struct pooling1d_spec {
    static_assert(PoolSize > 0 && Stride > 0,
                  "MaxPooling1D / AveragePooling1D<PoolSize, Stride>: PoolSize and Stride must be > 0");
    template <ShapeType S> using bind = Pooling1DLayer<S, Kind, PoolSize, Stride>;
};
}  // namespace detail

// MaxPooling1D<2>: the maximum of every 2 steps, stride 2 (keras.layers.MaxPooling1D(2); its default
// pool_size is 2, strides=None means the pool size).
template <std::size_t PoolSize = 2, std::size_t Stride = PoolSize>
struct MaxPooling1D : detail::pooling1d_spec<Pooling::max, PoolSize, Stride> {};

// AveragePooling1D<2>: the mean of every 2 steps, stride 2.
template <std::size_t PoolSize = 2, std::size_t Stride = PoolSize>
struct AveragePooling1D : detail::pooling1d_spec<Pooling::average, PoolSize, Stride> {};

// GlobalAveragePooling1D: keras.layers.GlobalAveragePooling1D(), (Steps, C) -> (C).
struct GlobalAveragePooling1D {
    template <ShapeType S> using bind = GlobalPooling1DLayer<S, Pooling::average>;
};

// GlobalMaxPooling1D: keras.layers.GlobalMaxPooling1D(), (Steps, C) -> (C).
struct GlobalMaxPooling1D {
    template <ShapeType S> using bind = GlobalPooling1DLayer<S, Pooling::max>;
};

}  // namespace ctnn
