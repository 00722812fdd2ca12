// ctnn/model/sequential.hpp — Sequential<Layers...>: a stack of layers whose shapes, parameter
// counts and wiring are fixed by its type and checked by the compiler.
//
//   struct MnistMlp : Sequential<Dense<784, 1000, Relu>, Dense<1000, 500, Relu>,
//                                Dropout<0.9>, Dense<500, 10, Softmax>> {};
//   static_assert(MnistMlp::param_count == 1'290'510);
//
// Derive a named struct as above rather than using an alias: compiler messages then say
// `MnistMlp`, not the whole instantiation. Layers that keep their size (Dropout, Activation)
// are bound to the output size of the layer before them.
#pragma once

#include <array>
#include <cstddef>
#include <iomanip>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>

#include "ctnn/config.hpp"
#include "ctnn/core/concepts.hpp"
#include "ctnn/core/phase.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/core/tensor.hpp"
#include "ctnn/detail/type_list.hpp"

namespace ctnn {

namespace diagnostics {
// A compile error that names one of these templates is a mistake in a Sequential<...>; the
// template arguments are the numbers that do not fit. The fix is in the comment above each.

// Layer number LayerNumber (counting from 1, as the list is written) takes ThisInputSize inputs,
// but the layer before it produces PreviousOutputSize outputs: make the two sizes equal.
template <std::size_t LayerNumber, std::size_t PreviousOutputSize, std::size_t ThisInputSize>
struct layer_input_size_matches_previous_output_size {
    static constexpr bool value = PreviousOutputSize == ThisInputSize;
};
}  // namespace diagnostics

namespace detail {

// Sized layers are used as written; Dropout<R> / Activation<A> become the layer of size PrevOut.
template <std::size_t PrevOut, class Spec> struct bind_layer {
    using type = Spec;
};
template <std::size_t PrevOut, class Spec>
    requires(!Layer<Spec> && ShapePreservingLayerSpec<Spec>)
struct bind_layer<PrevOut, Spec> {
    static_assert(PrevOut > 0,
                  "Sequential<Layers...>: the first layer must have a known input size, e.g. Dense<784, 1000, Relu>; "
                  "Dropout and Activation take their size from the layer before them");
    using type = typename Spec::template bind<(PrevOut > 0 ? PrevOut : 1)>;
};

template <std::size_t PrevOut, class Done, class... Rest> struct bind_all;
template <std::size_t PrevOut, class... Done> struct bind_all<PrevOut, type_list<Done...>> {
    using type = std::tuple<Done...>;
};
template <std::size_t PrevOut, class... Done, class Next, class... Rest>
struct bind_all<PrevOut, type_list<Done...>, Next, Rest...> {
    using bound = typename bind_layer<PrevOut, Next>::type;
    using type = typename bind_all<bound::output_size, type_list<Done..., bound>, Rest...>::type;
};

// One static_assert per adjacent pair, so the failing one names its position and both sizes.
template <std::size_t LayerNumber, class Previous, class This>
struct check_adjacent_sizes {
    static_assert(diagnostics::layer_input_size_matches_previous_output_size<LayerNumber, Previous::output_size,
                                                                              This::input_size>::value,
                  "Sequential<Layers...>: a layer's input size must equal the output size of the layer before it "
                  "(the note below reads <LayerNumber counting from 1, PreviousOutputSize, ThisInputSize>)");
    static constexpr bool value = true;
};
template <class Tuple, std::size_t... I>
consteval bool adjacent_sizes_match(std::index_sequence<I...>) {
    return (check_adjacent_sizes<I + 2, std::tuple_element_t<I, Tuple>, std::tuple_element_t<I + 1, Tuple>>::value && ...);
}

}  // namespace detail

template <class... Specs>
class Sequential {
    static_assert(sizeof...(Specs) > 0, "Sequential<Layers...>: a network needs at least one layer");
    static_assert((LayerSpec<Specs> && ...),
                  "Sequential<Layers...>: every entry must be a layer such as Dense<In, Out, Act>, Dropout<Rate> or "
                  "Activation<Act> (or a custom type meeting ctnn::Layer, see core/concepts.hpp)");

public:
    // The layers after binding Dropout/Activation to their sizes: std::tuple<Dense<...>, ...>.
    using layer_tuple = typename detail::bind_all<0, detail::type_list<>, Specs...>::type;
    static constexpr std::size_t layer_count = sizeof...(Specs);
    template <std::size_t I> using layer_type = std::tuple_element_t<I, layer_tuple>;

private:
    template <std::size_t... I>
    static consteval std::size_t sum_params(std::index_sequence<I...>) {
        return (layer_type<I>::param_count + ... + 0);
    }
    template <std::size_t... I>
    static consteval std::size_t widest_layer(std::index_sequence<I...>) {
        std::size_t widest = layer_type<0>::input_size;
        ((widest = layer_type<I>::output_size > widest ? layer_type<I>::output_size : widest), ...);
        return widest;
    }
    using indices = std::make_index_sequence<layer_count>;

    static_assert(detail::adjacent_sizes_match<layer_tuple>(std::make_index_sequence<layer_count - 1>{}));

public:
    static constexpr std::size_t input_size = layer_type<0>::input_size;
    static constexpr std::size_t output_size = layer_type<layer_count - 1>::output_size;
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
        std::array<Buffer, layer_count> outputs;  // outputs[i]: (B, layer i output_size)
        Buffer gradient_in, gradient_out;         // (B, max_width) each
        std::size_t capacity = 0;                 // the largest batch these hold

        void reserve(std::size_t max_batch) {
            if (max_batch <= capacity) return;
            for_each_index([&]<std::size_t I>() { outputs[I].assign(max_batch * layer_type<I>::output_size, 0.0f); });
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
        const std::string rule(65, '_'), double_rule(65, '=');
        os << "Model: \"" << model_name << "\"\n" << rule << '\n';
        os << std::left << std::setw(29) << " Layer (type)" << std::setw(26) << "Output Shape" << "Param #\n";
        os << double_rule << '\n';
        for_each_index([&]<std::size_t I>() {
            std::ostringstream name, shape;
            name << ' ' << layer_name(I) << " (" << layer_type<I>::type_name << ')';
            shape << "(None, " << layer_type<I>::output_size << ')';
            os << std::left << std::setw(29) << name.str() << std::setw(26) << shape.str()
               << with_thousands(layer_type<I>::param_count) << '\n';
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
