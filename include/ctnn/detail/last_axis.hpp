// ctnn/detail/last_axis.hpp — a vector layer applied to every position of a sequence: Keras's Dense
// on (batch, ..., features) acts on the last axis alone. Not public API: Sequential binds Dense<In, Out>
// after a Shape<Steps, In> to this, so users write Dense as Keras users do (no TimeDistributed).
//
// Samples are row-major, so B samples of Shape<Steps, In> are B·Steps rows of In: the layer runs
// unchanged on Steps times the rows, and its weight gradients sum over every position.
#pragma once

#include <cstddef>
#include <utility>

#include "ctnn/core/concepts.hpp"
#include "ctnn/core/shape.hpp"

namespace ctnn::detail {

// Shape<D..., Last> with Last replaced by N.
template <class S, std::size_t N> struct replace_last_dim;
template <std::size_t... D, std::size_t N> struct replace_last_dim<Shape<D...>, N> {
    static constexpr std::size_t rank = sizeof...(D);
    template <std::size_t... I>
    static auto make(std::index_sequence<I...>) -> Shape<(I + 1 < rank ? Shape<D...>::dims[I] : N)...>;
    using type = decltype(make(std::make_index_sequence<rank>{}));
};

// Whether Sequential binds layer L after shape In to LastAxisLayer: L opts in (Dense) and In's last
// axis is L's input vector.
template <class In, class L>
concept AppliesToLastAxis = Layer<L> && ShapeType<In> && requires { L::acts_on_last_axis; } &&
                            L::acts_on_last_axis && In::rank >= 2 && L::input_shape::rank == 1 &&
                            In::dims[In::rank - 1] == L::input_shape::size;

template <class In, class L>
class LastAxisLayer : public L {
    static constexpr std::size_t positions = In::size / In::dims[In::rank - 1];

public:
    using input_shape = In;
    using output_shape = typename replace_last_dim<In, L::output_shape::size>::type;
    static constexpr std::size_t input_size = In::size;
    static constexpr std::size_t output_size = output_shape::size;

    void forward(const float* x, float* y, const ForwardContext& ctx) { L::forward(x, y, rows_of(ctx)); }
    // A BatchNormalization after it folds into it at inference, as after a plain Dense.
    void forward_with(const float* x, float* y, const ForwardContext& ctx, const float* kernel_values,
                      const float* bias_values)
        requires requires(L& l, const float* in, float* out, const ForwardContext& c) { l.forward_with(in, out, c, in, in); }
    {
        L::forward_with(x, y, rows_of(ctx), kernel_values, bias_values);
    }
    void backward(const float* x, const float* y, float* dy, float* dx, std::size_t batch, bool dy_is_preactivation) {
        L::backward(x, y, dy, dx, batch * positions, dy_is_preactivation);
    }
    void reserve(std::size_t max_batch)
        requires requires(L& l, std::size_t n) { l.reserve(n); }
    {
        L::reserve(max_batch * positions);
    }

private:
    static ForwardContext rows_of(ForwardContext ctx) {
        ctx.batch *= positions;
        return ctx;
    }
};

}  // namespace ctnn::detail
