// ctnn/layers/zero_padding2d.hpp — ZeroPadding2D<...>: Keras's ZeroPadding2D, rows of zeros above and
// below an image and columns of zeros left and right of it, channels last.
//
// Keras's three spellings of `padding`, as template arguments:
//   ZeroPadding2D<>                          padding=(1, 1), Keras's default: 1 on every side
//   ZeroPadding2D<P>                         padding=P: P on every side
//   ZeroPadding2D<PH, PW>                    padding=(PH, PW): PH rows above and below, PW columns left and right
//   ZeroPadding2D<Top, Bottom, Left, Right>  padding=((Top, Bottom), (Left, Right))
// B = batch. Input (B, H, W, C) from the layer before (Sequential binds it), output
// (B, Top + H + Bottom, Left + W + Right, C). No parameters. Forward and backward sit side by side and
// only call kernels/pad.hpp.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "ctnn/core/concepts.hpp"
#include "ctnn/core/shape.hpp"
#include "ctnn/kernels/pad.hpp"
#include "ctnn/layers/conv2d.hpp"  // the shared diagnostics and image_dim

namespace ctnn {

template <ShapeType InputShape, std::size_t Top, std::size_t Bottom, std::size_t Left, std::size_t Right>
class ZeroPadding2DLayer {
    static constexpr std::size_t H = detail::image_dim<InputShape>(0), W = detail::image_dim<InputShape>(1),
                                 C = detail::image_dim<InputShape>(2);
    static_assert(diagnostics::layer_input_is_an_image_shape_height_width_channels<InputShape>::value,
                  "ZeroPadding2D<...>: its input must be an image, Shape<Height, Width, Channels> (the note names the "
                  "shape it got; padding after Flatten or Dense is a mistake)");

public:
    static constexpr kernels::pad2d_geometry geometry = kernels::make_pad2d_geometry(H, W, C, Top, Bottom, Left, Right);

    using input_shape = InputShape;
    using output_shape = Shape<geometry.out_height, geometry.out_width, C>;
    static constexpr std::size_t param_count = 0;
    static constexpr std::string_view kind = "zero_padding2d";
    static constexpr std::string_view type_name = "ZeroPadding2D";

    void initialize(Rng&) {}

    // x (B, H, W, C) -> y (B, Top + H + Bottom, Left + W + Right, C)
    void forward(const float* x, float* y, const ForwardContext& ctx) {
        kernels::zero_pad2d_forward<geometry>(ctx.batch, x, y);
    }
    // dy (B, OH, OW, C) -> dx (B, H, W, C): the part over the input, or nothing when dx is nullptr.
    void backward(const float*, const float*, float* dy, float* dx, std::size_t batch, bool) {
        if (dx != nullptr) kernels::zero_pad2d_backward<geometry>(batch, dy, dx);
    }
    template <class F> void visit_parameters(F&&) {}
};

namespace detail {
// (top, bottom, left, right) of ZeroPadding2D's 0, 1, 2 or 4 values.
template <std::size_t... Padding> constexpr std::array<std::size_t, 4> zero_padding2d_sides() {
    constexpr std::array<std::size_t, sizeof...(Padding)> p{Padding...};
    if constexpr (p.size() == 0) return {1, 1, 1, 1};
    else if constexpr (p.size() == 1) return {p[0], p[0], p[0], p[0]};
    else if constexpr (p.size() == 2) return {p[0], p[0], p[1], p[1]};
    else if constexpr (p.size() == 4) return {p[0], p[1], p[2], p[3]};
    else return {0, 0, 0, 0};  // reported by ZeroPadding2D's static_assert
}
}  // namespace detail

// ZeroPadding2D<1>, ZeroPadding2D<PH, PW> or ZeroPadding2D<Top, Bottom, Left, Right> (see the top of
// this file); its input shape comes from the layer before it (or Input<H, W, C>).
template <std::size_t... Padding>
struct ZeroPadding2D {
    static_assert(sizeof...(Padding) <= 2 || sizeof...(Padding) == 4,
                  "ZeroPadding2D<...>: give 1 value (every side), 2 (ZeroPadding2D<PH, PW>: PH rows above and below, "
                  "PW columns left and right) or 4 (ZeroPadding2D<Top, Bottom, Left, Right>), as Keras's padding");
    static constexpr std::size_t top = detail::zero_padding2d_sides<Padding...>()[0];
    static constexpr std::size_t bottom = detail::zero_padding2d_sides<Padding...>()[1];
    static constexpr std::size_t left = detail::zero_padding2d_sides<Padding...>()[2];
    static constexpr std::size_t right = detail::zero_padding2d_sides<Padding...>()[3];
    template <ShapeType S> using bind = ZeroPadding2DLayer<S, top, bottom, left, right>;
};

}  // namespace ctnn
