// ctnn/layers/recurrent.hpp — SimpleRNN<Units>, LSTM<Units>, GRU<Units>: Keras 3's recurrent layers
// over a sequence Shape<Steps, Features>, unrolled over the compile-time Steps.
//
//   Sequential<Input<7, 12>, LSTM<128>, RepeatVector<4>, LSTM<128, return_sequences>, Dense<128, 12, Softmax>>
//
// Keras's defaults: tanh and sigmoid, Glorot-uniform kernels, orthogonal recurrent kernels, zero
// biases (LSTM's forget gate starts at 1: unit_forget_bias), GRU with reset_after = true, a zero
// initial state. Weights in Keras's layouts and names (lstm/kernel (F, 4U), lstm/recurrent_kernel
// (U, 4U), lstm/bias (4U); gru/bias (2, 3U)). The second argument says what the layer returns: the
// last state Shape<Units> (Keras's default) or, given `return_sequences`, every step's Shape<Steps, Units>.
// Forward and backpropagation through time are kernels/recurrent.hpp.
#pragma once

#include <cstddef>
#include <initializer_list>
#include <string_view>
#include <type_traits>

#include "ctnn/core/concepts.hpp"
#include "ctnn/core/parameter.hpp"
#include "ctnn/core/shape.hpp"
#include "ctnn/kernels/recurrent.hpp"
#include "ctnn/layers/initializers.hpp"

namespace ctnn {

// LSTM<128, return_sequences>: Keras's return_sequences=True (every step's state, not only the last).
inline constexpr bool return_sequences = true;

namespace diagnostics {
// A recurrent layer reads a sequence: Shape<Steps, Features>. InputShape is what the layer before
// produced: a Shape<N> (after Dense or an LSTM without return_sequences) needs RepeatVector<Steps>,
// an Embedding, or Input<Steps, Features>; an image needs a reshape that ctnn does not have.
template <class InputShape> struct recurrent_layer_input_is_a_sequence_shape_steps_features {
    static constexpr bool value = InputShape::rank == 2;
};
}  // namespace diagnostics

namespace detail {
template <class Cell> struct recurrent_names;
template <> struct recurrent_names<kernels::SimpleRnnCell> {
    static constexpr std::string_view kind = "simple_rnn", type_name = "SimpleRNN";
};
template <> struct recurrent_names<kernels::LstmCell> {
    static constexpr std::string_view kind = "lstm", type_name = "LSTM";
};
template <> struct recurrent_names<kernels::GruCell> {
    static constexpr std::string_view kind = "gru", type_name = "GRU";
};
}  // namespace detail

template <class Cell, ShapeType InputShape, std::size_t Units, bool Sequences>
class RecurrentLayer {
    static_assert(diagnostics::recurrent_layer_input_is_a_sequence_shape_steps_features<InputShape>::value,
                  "SimpleRNN / LSTM / GRU: its input must be a sequence, Shape<Steps, Features> (the note names the "
                  "shape it got; after Dense or a recurrent layer without return_sequences, put RepeatVector<Steps> "
                  "between them, or give the earlier recurrent layer return_sequences)");
    static constexpr std::size_t T = detail::sequence_extent<InputShape>(0), F = detail::sequence_extent<InputShape>(1);
    static constexpr std::size_t U = Units, GU = Cell::gates * Units;
    static constexpr std::size_t bias_size = Cell::recurrent_bias ? 2 * GU : GU;

public:
    using input_shape = InputShape;
    using output_shape = std::conditional_t<Sequences, Shape<T, Units>, Shape<Units>>;
    static constexpr std::size_t param_count = F * GU + U * GU + bias_size;
    static constexpr std::string_view kind = detail::recurrent_names<Cell>::kind;
    static constexpr std::string_view type_name = detail::recurrent_names<Cell>::type_name;
    static constexpr bool backward_reads_output = false;  // it reads its own saved states

    Parameter kernel{"kernel", F, GU};
    Parameter recurrent_kernel{"recurrent_kernel", U, GU};
    Parameter bias = Cell::recurrent_bias ? Parameter{"bias", 2, GU} : Parameter{"bias", GU};

    void initialize(Rng& rng) {
        initializers::glorot_uniform(kernel, F, GU, rng);
        initializers::orthogonal(recurrent_kernel, U, GU, rng);
        initializers::zeros(bias);
        if constexpr (std::is_same_v<Cell, kernels::LstmCell>)  // unit_forget_bias: gates i, f, c, o
            for (std::size_t j = U; j < 2 * U; ++j) bias.value[j] = 1.0f;
    }
    void reserve(std::size_t max_batch) { workspace_.reserve(max_batch); }

    // x (B, T, F) -> y (B, T, U) or (B, U)
    void forward(const float* x, float* y, const ForwardContext& ctx) {
        workspace_.reserve(ctx.batch);
        kernels::recurrent_forward<Cell, T, F, U, Sequences>(ctx.batch, x, kernel.value.data(),
                                                              recurrent_kernel.value.data(), bias.value.data(),
                                                              workspace_, y);
    }
    // dy as y -> dx (B, T, F) or nothing (dx nullptr); the weight gradients of the whole sequence.
    void backward(const float*, const float*, float* dy, float* dx, std::size_t batch, bool) {
        kernels::recurrent_backward<Cell, T, F, U, Sequences>(batch, dy, kernel.value.data(),
                                                               recurrent_kernel.value.data(), workspace_,
                                                               kernel.gradient.data(), recurrent_kernel.gradient.data(),
                                                               bias.gradient.data(), dx);
    }

    template <class Fn> void visit_parameters(Fn&& f) {
        f(kernel);
        f(recurrent_kernel);
        f(bias);
    }

private:
    kernels::recurrent_workspace<Cell, T, F, U> workspace_;
};

namespace detail {
template <class Cell, std::size_t Units, bool Sequences> struct recurrent_spec {
    static_assert(Units > 0, "SimpleRNN / LSTM / GRU<Units>: Units must be > 0");
    template <ShapeType S> using bind = RecurrentLayer<Cell, S, Units, Sequences>;
};
}  // namespace detail

// keras.layers.SimpleRNN(units): h = tanh(x·kernel + h·recurrent_kernel + bias).
template <std::size_t Units, bool ReturnSequences = false>
struct SimpleRNN : detail::recurrent_spec<kernels::SimpleRnnCell, Units, ReturnSequences> {};

// keras.layers.LSTM(units): gates i, f, c, o; c = f·c + i·tanh(·); h = o·tanh(c).
template <std::size_t Units, bool ReturnSequences = false>
struct LSTM : detail::recurrent_spec<kernels::LstmCell, Units, ReturnSequences> {};

// keras.layers.GRU(units) with reset_after = true: gates z, r, h; h = z·h + (1 − z)·h̃.
template <std::size_t Units, bool ReturnSequences = false>
struct GRU : detail::recurrent_spec<kernels::GruCell, Units, ReturnSequences> {};

}  // namespace ctnn
