// ctnn/layers/input.hpp — Input<Dims...>: the shape of one sample, as Keras's `keras.Input(shape=...)`.
//
//   struct Convnet : Sequential<Input<28, 28, 1>, Conv2D<32, 3, 3, Relu>, ...> {};
//
// Not a layer (no output of its own, not listed by summary()): it only gives the first layer its
// input shape. A first Dense<784, ...> needs none; Conv2D, Flatten, Dropout first do.
#pragma once

#include <cstddef>

#include "ctnn/core/shape.hpp"

namespace ctnn {

template <std::size_t... Dims>
struct Input {
    using shape = Shape<Dims...>;
};

namespace detail {
template <class T> inline constexpr bool is_input = false;
template <std::size_t... Dims> inline constexpr bool is_input<Input<Dims...>> = true;
}  // namespace detail

}  // namespace ctnn
