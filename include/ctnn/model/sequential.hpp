// ctnn/model/sequential.hpp — Sequential<Layers...>: a stack of layers whose shapes, parameter
// counts and wiring are fixed by its type and checked by the compiler.
//
//   struct MnistMlp : Sequential<Dense<784, 1000, Relu>, Dense<1000, 500, Relu>,
//                                Dropout<0.9>, Dense<500, 10, Softmax>> {};
//   static_assert(MnistMlp::param_count == 1'290'510);
//
//   struct Convnet : Sequential<Input<28, 28, 1>, Conv2D<32, 3, 3, Relu>, MaxPooling2D<2, 2>,
//                               Flatten, Dense<5408, 10, Softmax>> {};
//
// Derive a named struct as above rather than using an alias: compiler messages then say
// `MnistMlp`, not the whole instantiation. Adjacent layers must agree on the whole shape of a
// sample (Shape<13, 13, 32> is not Shape<5408>); layers that take their shape from the one before
// them (Dropout, Activation, Flatten, Conv2D, pooling) are bound to it.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

#include "ctnn/config.hpp"
#include "ctnn/core/concepts.hpp"
#include "ctnn/core/phase.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/core/shape.hpp"
#include "ctnn/core/tensor.hpp"
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

template <class... Specs>
class Sequential {
    using split = detail::split_input<Specs...>;
    static_assert(split::layers::size > 0, "Sequential<Layers...>: a network needs at least one layer");
    static_assert(((LayerSpec<Specs> || detail::is_input<Specs>) && ...),
                  "Sequential<Layers...>: every entry must be a layer such as Dense<In, Out, Act>, Conv2D<Filters, "
                  "KH, KW, Act>, Dropout<Rate> or Activation<Act>, or Input<Dims...> first (or a custom type meeting "
                  "ctnn::Layer, see core/concepts.hpp)");

public:
    // The layers after binding Dropout, Conv2D, ... to their input shapes: std::tuple<Dense<...>, ...>.
    // Input<...> is not a layer: it is not in this list (Keras's summary() does not show it either).
    using layer_tuple = typename detail::bind_list<typename split::shape, typename split::layers>::type;
    static constexpr std::size_t layer_count = std::tuple_size_v<layer_tuple>;
    template <std::size_t I> using layer_type = std::tuple_element_t<I, layer_tuple>;

private:
    template <std::size_t... I>
    static consteval std::size_t sum_params(std::index_sequence<I...>) {
        return (layer_type<I>::param_count + ... + 0);
    }
    template <std::size_t... I>
    static consteval std::size_t widest_layer(std::index_sequence<I...>) {
        std::size_t widest = layer_type<0>::input_shape::size;
        ((widest = std::max(widest, layer_type<I>::output_shape::size)), ...);
        return widest;
    }
    using indices = std::make_index_sequence<layer_count>;

    static_assert(detail::adjacent_shapes_match<typename split::shape, detail::is_input<std::tuple_element_t<0, std::tuple<Specs...>>> ? 2 : 1,
                                                layer_tuple>(std::make_index_sequence<layer_count - 1>{}));

public:
    using input_shape = typename layer_type<0>::input_shape;                 // one sample in: Shape<28, 28, 1>
    using output_shape = typename layer_type<layer_count - 1>::output_shape;  // one sample out: Shape<10>
    static constexpr std::size_t input_size = input_shape::size;             // floats per sample in
    static constexpr std::size_t output_size = output_shape::size;
    static constexpr std::size_t param_count = sum_params(indices{});
    // The widest activation (B, width) any layer reads or writes: sizes the gradient buffers.
    static constexpr std::size_t max_width = widest_layer(indices{});

    template <std::size_t I> layer_type<I>& layer() noexcept { return std::get<I>(layers_); }
    template <std::size_t I> const layer_type<I>& layer() const noexcept { return std::get<I>(layers_); }

    // Keras's automatic names: dense, dense_1, dropout, dense_2, ...
    static std::string layer_name(std::size_t index) {
        std::string name;
        for_each_index([&]<std::size_t I>() {
            if (I != index) return;
            const std::size_t same_kind_before = count_kind_before<I>(layer_type<I>::kind);
            name = std::string(layer_type<I>::kind);
            if (same_kind_before > 0) name += std::string("_") + std::to_string(same_kind_before);
        });
        return name;
    }

    // Fresh weights. Each layer draws from its own stream, so adding a layer leaves the others'
    // initial weights unchanged.
    void initialize(Rng& rng) {
        std::apply([&](auto&... layer) { (initialize_layer(layer, rng.split()), ...); }, layers_);
    }

    // f(layer_index, layer_name, Parameter&) for every trainable array, in layer order.
    template <class F> void visit_parameters(F&& f) {
        for_each_index([&]<std::size_t I>() {
            const std::string name = layer_name(I);
            std::get<I>(layers_).visit_parameters([&](Parameter& p) { f(I, name, p); });
        });
    }

    // Buffers for one batch: every layer's output, and two gradient buffers used in turn.
    struct Workspace {
        std::array<Buffer, layer_count> outputs;  // outputs[i]: (B, layer i's output shape)
        Buffer gradient_in, gradient_out;         // (B, max_width) each
        std::size_t capacity = 0;                 // the largest batch these hold

        void reserve(std::size_t max_batch) {
            if (max_batch <= capacity) return;
            for_each_index([&]<std::size_t I>() {
                outputs[I].assign(max_batch * layer_type<I>::output_shape::size, 0.0f);
            });
            gradient_in.assign(max_batch * max_width, 0.0f);
            gradient_out.assign(max_batch * max_width, 0.0f);
            capacity = max_batch;
        }
        const float* output() const noexcept { return outputs[layer_count - 1].data(); }  // (B, output_size)
    };

    // Layers with per-batch state (Dropout masks) allocate it here, once per fit.
    void reserve(std::size_t max_batch) {
        std::apply([&](auto&... layer) { (reserve_layer(layer, max_batch), ...); }, layers_);
    }

    // x (B, input_size) -> ws.outputs[i] for every layer i.
    void forward(const float* x, Workspace& ws, const ForwardContext& ctx) {
        CTNN_ASSERT(ctx.batch <= ws.capacity, "Sequential::forward: workspace smaller than the batch");
        for_each_index([&]<std::size_t I>() {
            const float* in = I == 0 ? x : ws.outputs[I == 0 ? 0 : I - 1].data();
            std::get<I>(layers_).forward(in, ws.outputs[I].data(), ctx);
        });
    }

    // ws.gradient_in (B, output_size) holds d(mean loss)/d(output) — or d/d(logits) when
    // `fused_output_gradient` (softmax + cross-entropy). Fills every parameter's gradient.
    void backward(const float* x, Workspace& ws, std::size_t batch, bool fused_output_gradient) {
        float* dy = ws.gradient_in.data();
        float* dx = ws.gradient_out.data();
        for_each_index_reversed([&]<std::size_t I>() {
            const float* in = I == 0 ? x : ws.outputs[I == 0 ? 0 : I - 1].data();
            const bool fused = fused_output_gradient && I == layer_count - 1;
            std::get<I>(layers_).backward(in, ws.outputs[I].data(), dy, I == 0 ? nullptr : dx, batch, fused);
            std::swap(dy, dx);
        });
    }

    // A Keras-style table: layer (type), output shape, parameter count, totals.
    static void summary(std::ostream& os, std::string_view model_name = "sequential") {
        std::size_t name_width = 29;  // Keras's column, widened for long names such as max_pooling2d_1
        for (std::size_t i = 0; i < layer_count; ++i) name_width = std::max(name_width, layer_label(i).size() + 2);
        const std::size_t width = name_width + 36;
        const std::string rule(width, '_'), double_rule(width, '=');
        os << "Model: \"" << model_name << "\"\n" << rule << '\n';
        os << std::left << std::setw(static_cast<int>(name_width)) << " Layer (type)" << std::setw(26) << "Output Shape"
           << "Param #\n";
        os << double_rule << '\n';
        for_each_index([&]<std::size_t I>() {
            os << std::left << std::setw(static_cast<int>(name_width)) << layer_label(I) << std::setw(26)
               << batch_shape_text<typename layer_type<I>::output_shape>() << with_thousands(layer_type<I>::param_count)
               << '\n';
            if (I + 1 < layer_count) os << '\n';
        });
        os << double_rule << '\n';
        os << "Total params: " << with_thousands(param_count) << " (" << megabytes(param_count) << ")\n";
        os << "Trainable params: " << with_thousands(param_count) << " (" << megabytes(param_count) << ")\n";
        os << "Non-trainable params: 0 (0.00 Byte)\n" << rule << '\n';
    }

    static std::string with_thousands(std::size_t n) {
        std::string digits = std::to_string(n), out;
        for (std::size_t i = 0; i < digits.size(); ++i) {
            if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
            out += digits[i];
        }
        return out;
    }

private:
    static std::string layer_label(std::size_t index) {  // " conv2d_1 (Conv2D)"
        std::string label;
        for_each_index([&]<std::size_t I>() {
            if (I == index) label = ' ' + layer_name(I) + " (" + std::string(layer_type<I>::type_name) + ')';
        });
        return label;
    }
    static std::string megabytes(std::size_t params) {
        std::ostringstream s;
        s << std::fixed << std::setprecision(2);
        const double bytes = 4.0 * static_cast<double>(params);
        if (bytes >= 1024.0 * 1024.0) s << bytes / (1024.0 * 1024.0) << " MB";
        else if (bytes >= 1024.0) s << bytes / 1024.0 << " KB";
        else s << bytes << " Byte";
        return s.str();
    }
    template <std::size_t End>
    static constexpr std::size_t count_kind_before(std::string_view kind) {
        return [&]<std::size_t... I>(std::index_sequence<I...>) {
            return ((layer_type<I>::kind == kind ? std::size_t{1} : std::size_t{0}) + ... + std::size_t{0});
        }(std::make_index_sequence<End>{});
    }
    template <class F> static void for_each_index(F&& f) {
        [&]<std::size_t... I>(std::index_sequence<I...>) { (f.template operator()<I>(), ...); }(indices{});
    }
    template <class F> static void for_each_index_reversed(F&& f) {
        [&]<std::size_t... I>(std::index_sequence<I...>) {
            (f.template operator()<layer_count - 1 - I>(), ...);
        }(indices{});
    }
    template <class L> static void initialize_layer(L& layer, Rng stream) { layer.initialize(stream); }
    template <class L> static void reserve_layer(L& layer, std::size_t max_batch) {
        if constexpr (requires { layer.reserve(max_batch); }) layer.reserve(max_batch);
    }

    layer_tuple layers_;
};

}  // namespace ctnn
