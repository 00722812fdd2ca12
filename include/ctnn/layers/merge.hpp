// ctnn/layers/merge.hpp — Add and Concatenate: how a block (Branches, Residual) joins the outputs of
// its branches, as Keras's merge layers. They are the first argument of Branches<Merge, ...>.
//
//   Add          every branch has the same shape; y = Σ branch outputs (ResNet's shortcut sum)
//   Concatenate  every branch has the same shape but for the last axis (channels), joined along it
//                (Inception, a U-Net's skips); Keras's default axis=-1
//
// A merge provides the merged shape (checked whole at compile time), forward, and the part of the
// merged gradient that belongs to branch I.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "ctnn/core/shape.hpp"
#include "ctnn/kernels/merge.hpp"

namespace ctnn {

namespace diagnostics {
// Branches<Add, ...> or Residual<...> (Block, as written) adds the outputs of its branches: branch
// number BranchNumber (from 1, the shortcut last) produces ThisBranchShape, but the first branch
// produces FirstBranchShape. Make them equal: a Residual whose body changes the channels or the
// size needs a projection, Shortcut<Conv2D<Filters, 1, 1, Linear, Stride>>.
template <class Block, std::size_t BranchNumber, class FirstBranchShape, class ThisBranchShape>
struct add_branch_output_shape_equals_first_branch_output_shape {
    static constexpr bool value = std::is_same_v<FirstBranchShape, ThisBranchShape>;
};
// Branches<Concatenate, ...> (Block, as written) joins its branches along the channels: branch
// number BranchNumber produces ThisBranchShape, the first branch FirstBranchShape. All but the last
// axis must be equal (the same height and width for images): pad, pool or stride them alike.
template <class Block, std::size_t BranchNumber, class FirstBranchShape, class ThisBranchShape>
struct concatenate_branch_shape_equals_first_branch_shape_but_channels {
    static constexpr bool value = [] {
        if constexpr (FirstBranchShape::rank != ThisBranchShape::rank) {
            return false;
        } else {
            for (std::size_t axis = 0; axis + 1 < FirstBranchShape::rank; ++axis)
                if (FirstBranchShape::dims[axis] != ThisBranchShape::dims[axis]) return false;
            return true;
        }
    }();
};
}  // namespace diagnostics

namespace detail {
// S with its last axis replaced by Last: Shape<28, 28, 16> -> Shape<28, 28, Last>.
template <class S, std::size_t Last, class = std::make_index_sequence<S::rank - 1>> struct with_last_axis;
template <class S, std::size_t Last, std::size_t... Axis> struct with_last_axis<S, Last, std::index_sequence<Axis...>> {
    using type = Shape<S::dims[Axis]..., Last>;
};
template <class S> inline constexpr std::size_t last_axis = S::dims[S::rank - 1];
template <std::size_t N> constexpr std::size_t sum_of_first(const std::array<std::size_t, N>& values, std::size_t count) {
    std::size_t sum = 0;
    for (std::size_t i = 0; i < count; ++i) sum += values[i];
    return sum;
}

}  // namespace detail

struct Add {
    static constexpr std::string_view kind = "add";
    static constexpr std::string_view type_name = "Add";
    // The gradient of every branch is dy itself: the last branch may take dy in place.
    static constexpr bool gradient_is_dy = true;

    template <class First, class This> static constexpr bool compatible = std::is_same_v<First, This>;
    template <class... BranchShapes> using output_shape = std::tuple_element_t<0, std::tuple<BranchShapes...>>;

    // in[i] (B, branch i's shape) -> y (B, Out)
    template <class Out, class... BranchShapes>
    static void forward(std::size_t batch, const std::array<const float*, sizeof...(BranchShapes)>& in, float* y) {
        kernels::add_forward<Out::size>(batch, in, y);
    }
    // dy (B, Out) -> dy_i (B, branch I's shape): a copy.
    template <std::size_t I, class Out, class... BranchShapes>
    static void branch_gradient(std::size_t batch, const float* dy, float* dy_i) {
        std::copy(dy, dy + batch * Out::size, dy_i);
    }
};

struct Concatenate {
    static constexpr std::string_view kind = "concatenate";
    static constexpr std::string_view type_name = "Concatenate";
    static constexpr bool gradient_is_dy = false;

    template <class First, class This>
    static constexpr bool compatible =
        diagnostics::concatenate_branch_shape_equals_first_branch_shape_but_channels<void, 0, First, This>::value;
    template <class... BranchShapes>
    using output_shape = typename detail::with_last_axis<std::tuple_element_t<0, std::tuple<BranchShapes...>>,
                                                         (detail::last_axis<BranchShapes> + ...)>::type;

    template <class Out, class... BranchShapes>
    static void forward(std::size_t batch, const std::array<const float*, sizeof...(BranchShapes)>& in, float* y) {
        kernels::concatenate_forward<Out::size / detail::last_axis<Out>, detail::last_axis<BranchShapes>...>(batch, in, y);
    }
    template <std::size_t I, class Out, class... BranchShapes>
    static void branch_gradient(std::size_t batch, const float* dy, float* dy_i) {
        constexpr std::array<std::size_t, sizeof...(BranchShapes)> channels{detail::last_axis<BranchShapes>...};
        constexpr std::size_t offset = detail::sum_of_first(channels, I);
        kernels::concatenate_backward<Out::size / detail::last_axis<Out>, offset, channels[I], detail::last_axis<Out>>(
            batch, dy, dy_i);
    }
};

namespace detail {
template <class M> inline constexpr bool is_merge = std::is_same_v<M, Add> || std::is_same_v<M, Concatenate>;
}  // namespace detail

}  // namespace ctnn
