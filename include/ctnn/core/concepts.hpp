// ctnn/core/concepts.hpp — the contracts a layer, loss, optimizer and metric must meet, stated
// once and built from small named pieces so a failed check names the missing piece.
//
// A LAYER (see layers/dense.hpp for the model to copy) is a class with
//   static constexpr std::size_t input_size, output_size, param_count;
//   static constexpr std::string_view kind;        // Keras base name: "dense" -> dense, dense_1, ...
//   static constexpr std::string_view type_name;   // shown by summary(): "Dense"
//   void initialize(Rng&);                          // fresh weights
//   void forward(const float* x, float* y, const ForwardContext&);          // x (B, In) -> y (B, Out)
//   void backward(const float* x, const float* y, float* dy, float* dx,
//                 std::size_t batch, bool dy_is_preactivation);             // dy (B, Out) in, dx (B, In) out
//   template <class F> void visit_parameters(F&&);   // F(Parameter&) for each trainable array
// backward may overwrite dy; dx is nullptr for the first layer (no one needs it). Parameter
// gradients are overwritten (not accumulated) and are the gradient of the MEAN batch loss.
// Optional: void reserve(std::size_t max_batch) — allocate per-batch state once per fit.
//
// A LAYER SPEC that keeps its input size (Dropout<Rate>, Activation<Act>) instead provides
// `template <std::size_t N> using bind = <a Layer of size N>`; Sequential binds it to the output
// size of the layer before it.
#pragma once

#include <concepts>
#include <cstddef>
#include <string_view>

#include "ctnn/core/parameter.hpp"
#include "ctnn/core/phase.hpp"
#include "ctnn/core/random.hpp"

namespace ctnn {

namespace detail {
struct parameter_sink {
    void operator()(Parameter&) const noexcept {}
};
}  // namespace detail

template <class L>
concept HasLayerSizes = requires {
    { L::input_size } -> std::convertible_to<std::size_t>;
    { L::output_size } -> std::convertible_to<std::size_t>;
    { L::param_count } -> std::convertible_to<std::size_t>;
};

template <class L>
concept HasLayerNames = requires {
    { L::kind } -> std::convertible_to<std::string_view>;
    { L::type_name } -> std::convertible_to<std::string_view>;
};

template <class L>
concept HasForwardBackward = requires(L& layer, const float* in, float* out, const ForwardContext& ctx, Rng& rng) {
    layer.initialize(rng);
    layer.forward(in, out, ctx);
    layer.backward(in, in, out, out, std::size_t{}, bool{});
};

template <class L>
concept HasParameters = requires(L& layer) { layer.visit_parameters(detail::parameter_sink{}); };

template <class L>
concept Layer = HasLayerSizes<L> && HasLayerNames<L> && HasForwardBackward<L> && HasParameters<L>;

// Dropout<Rate>, Activation<Act>: sized by the layer before them.
template <class S>
concept ShapePreservingLayerSpec = requires { typename S::template bind<1>; } && Layer<typename S::template bind<1>>;

template <class S>
concept LayerSpec = Layer<S> || ShapePreservingLayerSpec<S>;

// An elementwise activation: forward and derivative (through the output) on floats.
template <class A>
concept ElementwiseActivation = A::elementwise && requires(float v) {
    { A::forward(v) } -> std::convertible_to<float>;
    { A::derivative_from_output(v) } -> std::convertible_to<float>;
};

template <class A>
concept ActivationPolicy = requires {
    { A::name } -> std::convertible_to<std::string_view>;
    { A::elementwise } -> std::convertible_to<bool>;
} && (!A::elementwise || ElementwiseActivation<A>);

// An optimizer: a learning rate users and callbacks may change, per-parameter state, an update.
template <class O>
concept Optimizer = std::copy_constructible<O> && requires(O& opt, Parameter& p, typename O::State& state) {
    { opt.learning_rate } -> std::convertible_to<float>;
    { opt.name } -> std::convertible_to<std::string_view>;
    { opt.make_state(p) } -> std::same_as<typename O::State>;
    opt.begin_step();
    opt.update(p, state);
};

}  // namespace ctnn
