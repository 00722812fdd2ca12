// ctnn/core/concepts.hpp — the contracts a layer, activation, loss, optimizer and metric must meet,
// stated once and built from small named pieces so a failed check names the missing piece.
//
// A LAYER (see layers/dense.hpp for the model to copy) is a class with
//   using input_shape = Shape<...>, output_shape = Shape<...>;   // one sample, channels last
//   static constexpr std::size_t param_count;
//   static constexpr std::string_view kind;        // Keras base name: "dense" -> dense, dense_1, ...
//   static constexpr std::string_view type_name;   // shown by summary(): "Dense"
//   void initialize(Rng&);                          // fresh weights
//   void forward(const float* x, float* y, const ForwardContext&);          // x (B, In) -> y (B, Out)
//   void backward(const float* x, const float* y, float* dy, float* dx,
//                 std::size_t batch, bool dy_is_preactivation);             // dy (B, Out) in, dx (B, In) out
//   template <class F> void visit_parameters(F&&);   // F(Parameter&) for each trainable array
// In = input_shape::size, Out = output_shape::size: a batch is B samples stored one after the other,
// each sample row-major in its shape (NHWC for images). backward may overwrite dy; dx is nullptr for
// the first layer (no one needs it). Parameter gradients are overwritten (not accumulated) and are the
// gradient of the MEAN batch loss.
// Optional: void reserve(std::size_t max_batch) — allocate per-batch state once per fit.
//
// A LAYER SPEC takes its input shape from the layer before it (Dropout<Rate>, Activation<Act>,
// Flatten, Conv2D<...>, MaxPooling2D<...>): it provides `template <class InputShape> using bind =
// <the Layer for that input shape>`, and Sequential binds it. Input<Dims...> as the first entry of a
// Sequential gives the first spec its shape.
//
// A LOSS (see losses/categorical_crossentropy.hpp) provides `name`, `sparse_targets` (true: one int32
// class per sample; false: N floats), `target_type`, `sum<N>(B, p, t)` (Σ of per-sample losses) and
// `gradient<N>(B, p, t, dp)` (of the MEAN loss w.r.t. the network output). Optionally
// `fuses_with_softmax` and `softmax_gradient<N>` for the cheaper gradient through a softmax output.
//
// A METRIC (see metrics/accuracy.hpp) provides `name` (its key in logs and History) and
//   template <std::size_t N, class LossT, class Target>
//   double correct(std::size_t batch, const float* p, const Target* t) const;
// the Σ over the batch of each sample's score, for p (B, N) and t the loss's targets (B, N floats,
// or B int32 labels for a sparse loss); LossT is the compiled loss, for metrics resolved by it.
//
// A CALLBACK's contract (its hooks) is in core/callback_policy.hpp.
#pragma once

#include <concepts>
#include <cstddef>
#include <string_view>

#include "ctnn/core/parameter.hpp"
#include "ctnn/core/phase.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/core/shape.hpp"

namespace ctnn {

namespace detail {
struct parameter_sink {
    void operator()(Parameter&) const noexcept {}
};
}  // namespace detail

template <class L>
concept HasLayerShapes = requires {
    typename L::input_shape;
    typename L::output_shape;
    { L::param_count } -> std::convertible_to<std::size_t>;
} && ShapeType<typename L::input_shape> && ShapeType<typename L::output_shape>;

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
concept Layer = HasLayerShapes<L> && HasLayerNames<L> && HasForwardBackward<L> && HasParameters<L>;

// Dropout<Rate>, Conv2D<...>, Flatten: shaped by the layer before them. Only the name of the bound
// type is checked here (not the layer itself): a Conv2D bound to an arbitrary shape would not fit.
template <class S>
concept BindableLayerSpec = !Layer<S> && requires { typename S::template bind<Shape<1>>; };

template <class S>
concept LayerSpec = Layer<S> || BindableLayerSpec<S>;

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

// A loss over N outputs per sample (target_type: float for N-wide rows, std::int32_t for labels).
template <class L, std::size_t N>
concept Loss = requires(const L& loss, const float* p, const typename L::target_type* t, float* dp) {
    { L::name } -> std::convertible_to<std::string_view>;
    { L::sparse_targets } -> std::convertible_to<bool>;
    { loss.template sum<N>(std::size_t{}, p, t) } -> std::convertible_to<double>;
    loss.template gradient<N>(std::size_t{}, p, t, dp);
};

namespace detail {
// The loss a Metric is probed with: a float-target loss no real metric can single out, so the check
// asks only that `correct` accepts some compiled loss, not that it knows this one.
struct metric_probe_loss {
    static constexpr std::string_view name = "metric_probe_loss";
    static constexpr bool sparse_targets = false;
    using target_type = float;
    template <std::size_t N> double sum(std::size_t, const float*, const float*) const { return 0.0; }
    template <std::size_t N> void gradient(std::size_t, const float*, const float*, float*) const {}
};
}  // namespace detail

// A metric: a name for the logs and a per-batch sum of scores (checked for float targets).
template <class M>
concept Metric = requires(const M& metric, const float* p, const float* t) {
    { M::name } -> std::convertible_to<std::string_view>;
    { metric.template correct<2, detail::metric_probe_loss, float>(std::size_t{}, p, t) }
        -> std::convertible_to<double>;
};

}  // namespace ctnn
