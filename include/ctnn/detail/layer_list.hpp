// ctnn/detail/layer_list.hpp — what Sequential and the blocks (Residual, Branches) share: binding a
// flat list of layer specs to the shapes before them, one static_assert per adjacent pair, Keras's
// automatic layer names over a whole model, and the rows of summary(). Not public API.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "ctnn/core/concepts.hpp"
#include "ctnn/core/parameter.hpp"
#include "ctnn/core/phase.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/core/shape.hpp"
#include "ctnn/detail/last_axis.hpp"
#include "ctnn/detail/type_list.hpp"
#include "ctnn/layers/input.hpp"

namespace ctnn {

namespace diagnostics {
// A compile error that names one of these templates is a mistake in a Sequential<...>; the
// template arguments say where and what does not fit. The fix is in the comment above each.

// Entry number EntryNumber of the Sequential<...> list (counting from 1, as written, Input included)
// takes samples of shape ThisInputShape, but the entry before it produces PreviousOutputShape: make
// them equal. From an image to Dense, put Flatten between them (as in Keras).
template <std::size_t EntryNumber, class PreviousOutputShape, class ThisInputShape>
struct layer_input_shape_matches_previous_output_shape {
    static constexpr bool value = std::is_same_v<PreviousOutputShape, ThisInputShape>;
};
}  // namespace diagnostics

namespace detail {

// Stands in for a layer that could not be bound (its error is already reported), so that no second
// error follows from it.
template <class S> struct unbound_layer {
    using input_shape = S;
    using output_shape = S;
    static constexpr std::size_t param_count = 0;
    static constexpr std::string_view kind = "unbound";
    static constexpr std::string_view type_name = "Unbound";
    void initialize(Rng&) {}
    void forward(const float*, float*, const ForwardContext&) {}
    void backward(const float*, const float*, float*, float*, std::size_t, bool) {}
    template <class F> void visit_parameters(F&&) {}
};

// Layers are used as written; specs (Dropout<R>, Conv2D<...>, ...) become the layer for the shape
// before them. In is void when nothing before tells it (no Input<...> and this is the first entry).
template <class In, class Spec> struct bind_layer {  // not a layer at all: Sequential says so
    using type = unbound_layer<std::conditional_t<std::is_void_v<In>, Shape<1>, In>>;
};
template <class In, Layer Spec> struct bind_layer<In, Spec> {
    using type = Spec;
};
// Dense after a sequence (or any shape whose last axis is its input): on every position, as Keras.
template <class In, Layer Spec>
    requires AppliesToLastAxis<In, Spec>
struct bind_layer<In, Spec> {
    using type = LastAxisLayer<In, Spec>;
};
template <class In, BindableLayerSpec Spec> struct bind_layer<In, Spec> {
    using type = typename Spec::template bind<In>;
};
template <BindableLayerSpec Spec> struct bind_layer<void, Spec> {
    static_assert(sizeof(Spec) == 0,
                  "Sequential<Layers...>: the first layer must have a known input shape: start the list with "
                  "Input<28, 28, 1> (Keras's keras.Input(shape=...)) or a layer that states it, such as "
                  "Dense<784, 1000, Relu>; Dropout, Activation, Flatten, Conv2D and pooling take their shape "
                  "from the layer before them");
    using type = unbound_layer<Shape<1>>;
};

// Binds Specs... in order: In is the output shape of the entry before (void at the start).
template <class In, class Done, class... Rest> struct bind_all;
template <class In, class... Done> struct bind_all<In, type_list<Done...>> {
    using type = std::tuple<Done...>;
};
template <class In, class... Done, class Next, class... Rest>
struct bind_all<In, type_list<Done...>, Next, Rest...> {
    static_assert(!is_input<Next>, "Sequential<Layers...>: Input<Dims...> can only be the first entry");
    using bound = typename bind_layer<In, Next>::type;
    using type = typename bind_all<typename bound::output_shape, type_list<Done..., bound>, Rest...>::type;
};

// The shape Input<...> gives, or void; and the entries after it.
template <class... Specs> struct split_input {
    using shape = void;
    using layers = type_list<Specs...>;
};
template <class First, class... Rest>
    requires is_input<First>
struct split_input<First, Rest...> {
    using shape = typename First::shape;
    using layers = type_list<Rest...>;
};

template <class In, class List> struct bind_list;
template <class In, class... Specs> struct bind_list<In, type_list<Specs...>> {
    using type = typename bind_all<In, type_list<>, Specs...>::type;
};

// One static_assert per adjacent pair, so the failing one names its position and both shapes.
template <class T> inline constexpr bool is_unbound = false;
template <class S> inline constexpr bool is_unbound<unbound_layer<S>> = true;

template <std::size_t EntryNumber, class PreviousOutputShape, class This, bool AlreadyReported = false>
struct check_adjacent_shapes {
    static_assert(AlreadyReported || diagnostics::layer_input_shape_matches_previous_output_shape<
                                         EntryNumber, PreviousOutputShape, typename This::input_shape>::value,
                  "Sequential<Layers...>: a layer's input shape must equal the output shape of the entry before it "
                  "(the note below reads <entry number counting from 1, previous output Shape, this input Shape>; "
                  "from an image to Dense, put Flatten between them)");
    static constexpr bool value = true;
};
template <class InputShape, std::size_t FirstNumber, class Tuple, std::size_t... I>
consteval bool adjacent_shapes_match(std::index_sequence<I...>) {
    constexpr bool input_matches = [] {
        if constexpr (std::is_void_v<InputShape>) return true;
        else return check_adjacent_shapes<FirstNumber, InputShape, std::tuple_element_t<0, Tuple>>::value;
    }();
    return input_matches && (check_adjacent_shapes<FirstNumber + I + 1,
                                                   typename std::tuple_element_t<I, Tuple>::output_shape,
                                                   std::tuple_element_t<I + 1, Tuple>,
                                                   is_unbound<std::tuple_element_t<I, Tuple>>>::value && ...);
}

}  // namespace detail

namespace detail {

// Keras's automatic names across a whole model, blocks included: dense, dense_1, conv2d, ... in the
// order the layers are written (Keras: the order they are created).
class LayerNamer {
public:
    std::string next(std::string_view kind) {
        std::size_t& seen = counts_[std::string(kind)];
        std::string name(kind);
        if (seen > 0) name += '_' + std::to_string(seen);
        ++seen;
        return name;
    }

private:
    std::map<std::string, std::size_t> counts_;
};

// One row of summary()'s table; `connected_to` is Keras's functional column ("conv2d[0][0]").
struct SummaryRow {
    std::string label;  // " conv2d_1 (Conv2D)"
    std::string output_shape;
    std::size_t params = 0;
    std::string connected_to;
};

// A block (Residual, Branches) names and lists the layers inside it itself; any other layer is one
// name and one row.
template <class L>
concept CompositeLayer = requires(L& layer, LayerNamer& namer, std::vector<SummaryRow>& rows, const std::string& input) {
    layer.visit_named_parameters(namer, [](const std::string&, Parameter&) {});
    { L::summarize(namer, rows, input) } -> std::same_as<std::string>;
};

// Keras's "Non-trainable params": BatchNormalization's moving statistics (layers without the member
// have none).
template <class L> constexpr std::size_t non_trainable_params_of() {
    if constexpr (requires { L::non_trainable_param_count; }) return L::non_trainable_param_count;
    else return 0;
}

// f(layer name, Parameter&) for every array of `layer`, naming it (or the layers inside it) with `namer`.
template <class L, class F> void visit_named_parameters(L& layer, LayerNamer& namer, F&& f) {
    if constexpr (CompositeLayer<L>) {
        layer.visit_named_parameters(namer, f);
    } else {
        const std::string name = namer.next(L::kind);
        layer.visit_parameters([&](Parameter& p) { f(name, p); });
    }
}

// Appends L's rows (fed by the layer named `input`); returns the name of the layer whose output is L's.
template <class L> std::string summarize(LayerNamer& namer, std::vector<SummaryRow>& rows, const std::string& input) {
    if constexpr (CompositeLayer<L>) {
        return L::summarize(namer, rows, input);
    } else {
        std::string name = namer.next(L::kind);
        rows.push_back({' ' + name + " (" + std::string(L::type_name) + ')', batch_shape_text<typename L::output_shape>(),
                        L::param_count, input + "[0][0]"});
        return name;
    }
}

// ---- running a flat list forward, BatchNormalization folded at inference ----------------------------

// B (a BatchNormalization) folds into A before it when A is a Dense or Conv2D with no activation of
// its own: A then runs with B's folded copy of its weights and writes B's output, and B is skipped.
template <class A, class B>
concept FoldablePair = requires(A& a, B& b, const float* x, float* y, const ForwardContext& ctx) {
    b.fold_from(a);
    a.forward_with(x, y, ctx, b.folded_kernel(), b.folded_bias());
};

template <class Tuple, std::size_t I>
inline constexpr bool folds_with_next = [] {
    if constexpr (I + 1 < std::tuple_size_v<Tuple>)
        return FoldablePair<std::tuple_element_t<I, Tuple>, std::tuple_element_t<I + 1, Tuple>>;
    else return false;
}();
template <class Tuple, std::size_t I>
inline constexpr bool folds_into_previous = [] {
    if constexpr (I > 0) return folds_with_next<Tuple, I - 1>;
    else return false;
}();

// Layer I of a list runs in place, writing its output over its input (the output of layer I − 1,
// whose buffer it then shares), when it says it can (an elementwise Activation: forward works with
// x == y and backward reads only y) and layer I − 1's backward does not read its own output
// (BatchNormalization, a block merged by Add or Concatenate). Why: a ReLU after each of those is a
// third of a ResNet's activations; in place, training keeps one buffer per pair instead of two.
template <class L> constexpr bool can_run_in_place() {
    if constexpr (requires { L::can_run_in_place; }) return L::can_run_in_place;
    else return false;
}
template <class L> constexpr bool backward_reads_output() {
    if constexpr (requires { L::backward_reads_output; }) return L::backward_reads_output;
    else return true;
}
// Whether a layer's backward leaves dy as it was (a residual block then passes its body dy itself).
template <class L> constexpr bool backward_preserves_dy() {
    if constexpr (requires { L::backward_preserves_dy; }) return L::backward_preserves_dy;
    else return false;
}
template <class Tuple, std::size_t I> constexpr bool runs_in_place() {
    if constexpr (I == 0) return false;
    else
        return can_run_in_place<std::tuple_element_t<I, Tuple>>() &&
               !backward_reads_output<std::tuple_element_t<I - 1, Tuple>>();
}
// The layer whose buffer holds layer I's output: I itself, or where the layer before writes.
template <class Tuple, std::size_t I> constexpr std::size_t output_slot() {
    if constexpr (runs_in_place<Tuple, I>()) return output_slot<Tuple, I - 1>();
    else return I;
}

// Runs `layers` in order: layer I reads input_of.operator()<I>() and writes output_of.operator()<I>().
// With ctx.folded, a folded pair is one call of the first layer writing the second one's output.
template <class Tuple, class InputOf, class OutputOf>
void forward_layers(Tuple& layers, const InputOf& input_of, const OutputOf& output_of, const ForwardContext& ctx) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (
            [&] {
                if constexpr (folds_into_previous<Tuple, I>) {
                    if (ctx.folded) return;  // done by the layer before
                }
                if constexpr (folds_with_next<Tuple, I>) {
                    if (ctx.folded) {
                        auto& norm = std::get<I + 1>(layers);
                        std::get<I>(layers).forward_with(input_of.template operator()<I>(),
                                                         output_of.template operator()<I + 1>(), ctx,
                                                         norm.folded_kernel(), norm.folded_bias());
                        return;
                    }
                }
                std::get<I>(layers).forward(input_of.template operator()<I>(), output_of.template operator()<I>(), ctx);
            }(),
            ...);
    }(std::make_index_sequence<std::tuple_size_v<Tuple>>{});
}

// Folds every foldable pair of `layers` (and inside blocks) from the current weights.
template <class Tuple> void fold_batch_normalization(Tuple& layers) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (
            [&] {
                auto& layer = std::get<I>(layers);
                if constexpr (requires { layer.fold_batch_normalization(); }) layer.fold_batch_normalization();
                if constexpr (folds_with_next<Tuple, I>) std::get<I + 1>(layers).fold_from(layer);
            }(),
            ...);
    }(std::make_index_sequence<std::tuple_size_v<Tuple>>{});
}

}  // namespace detail

}  // namespace ctnn
