// ctnn/core/shape.hpp — Shape<Dims...>: the shape of ONE sample as a type, channels last as Keras.
//
//   Shape<784>          a vector (Dense's input and output)
//   Shape<28, 28, 1>    an image: height, width, channels (Conv2D, MaxPooling2D)
//
// The batch is never part of a shape: it is the only size known at run time. Sequential compares
// whole shapes (types), so 26·26·32 inputs never silently match a Dense<21632, ...>.
#pragma once

#include <array>
#include <cstddef>
#include <string>
#include <type_traits>

namespace ctnn {

template <std::size_t... Dims>
struct Shape {
    static_assert(sizeof...(Dims) >= 1 && sizeof...(Dims) <= 4,
                  "Shape<Dims...>: a sample has 1 to 4 dimensions, e.g. Shape<784> or Shape<28, 28, 1>");
    static_assert(((Dims > 0) && ...), "Shape<Dims...>: every dimension must be > 0");

    static constexpr std::size_t rank = sizeof...(Dims);
    static constexpr std::size_t size = (std::size_t{1} * ... * Dims);  // floats per sample
    static constexpr std::array<std::size_t, rank> dims{Dims...};
};

// Image shapes are (height, width, channels).
template <std::size_t Height, std::size_t Width, std::size_t Channels>
using ImageShape = Shape<Height, Width, Channels>;

namespace detail {
template <class T> struct is_shape : std::false_type {};
template <std::size_t... Dims> struct is_shape<Shape<Dims...>> : std::true_type {};

// (steps, features) of S if it is a sequence Shape<Steps, Features>, else 1: the sequence layers'
// own static_asserts report a non-sequence; this keeps every other size computable so no second
// error follows.
template <class S> constexpr std::size_t sequence_extent(std::size_t axis) {
    if constexpr (S::rank == 2) return S::dims[axis];
    else return 1;
}
}  // namespace detail

template <class S>
concept ShapeType = detail::is_shape<S>::value;

// A rank-3 shape: (height, width, channels).
template <class S>
concept ImageShapeType = ShapeType<S> && S::rank == 3;

// Keras's text for a batch of this shape: "(None, 26, 26, 32)".
template <ShapeType S> std::string batch_shape_text() {
    std::string text = "(None";
    for (std::size_t d : S::dims) text += ", " + std::to_string(d);
    return text + ')';
}

}  // namespace ctnn
