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
#include <vector>

#include "ctnn/config.hpp"
#include "ctnn/core/concepts.hpp"
#include "ctnn/core/phase.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/core/shape.hpp"
#include "ctnn/core/tensor.hpp"
#include "ctnn/detail/layer_list.hpp"
#include "ctnn/detail/type_list.hpp"
#include "ctnn/layers/input.hpp"

namespace ctnn {

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
    static constexpr std::size_t param_count = sum_params(indices{});  // all, as Keras's "Total params"
    // BatchNormalization's moving statistics: saved and loaded, never stepped by the optimizer.
    static constexpr std::size_t non_trainable_param_count = []<std::size_t... I>(std::index_sequence<I...>) {
        return (detail::non_trainable_params_of<layer_type<I>>() + ... + 0);
    }(indices{});
    static constexpr std::size_t trainable_param_count = param_count - non_trainable_param_count;
    // A network with a block prints Keras's functional table (with "Connected to").
    static constexpr bool has_blocks = []<std::size_t... I>(std::index_sequence<I...>) {
        return (detail::CompositeLayer<layer_type<I>> || ...);
    }(indices{});
    // The widest activation (B, width) any layer reads or writes: sizes the gradient buffers.
    static constexpr std::size_t max_width = widest_layer(indices{});

    template <std::size_t I> layer_type<I>& layer() noexcept { return std::get<I>(layers_); }
    template <std::size_t I> const layer_type<I>& layer() const noexcept { return std::get<I>(layers_); }

    // Keras's automatic names: dense, dense_1, dropout, dense_2, ... counted across the layers inside
    // blocks too (a block itself is named residual, residual_1, ... / branches, ...).
    static std::string layer_name(std::size_t index) {
        std::string name;
        detail::LayerNamer namer, block_namer;
        std::vector<detail::SummaryRow> ignored;
        for_each_index([&]<std::size_t I>() {
            using L = layer_type<I>;
            if constexpr (detail::CompositeLayer<L>) {
                const std::string block = block_namer.next(L::kind);
                L::summarize(namer, ignored, "");
                if (I == index) name = block;
            } else {
                const std::string own = namer.next(L::kind);
                if (I == index) name = own;
            }
        });
        return name;
    }

    // Fresh weights. Each layer draws from its own stream, so adding a layer leaves the others'
    // initial weights unchanged.
    void initialize(Rng& rng) {
        std::apply([&](auto&... layer) { (initialize_layer(layer, rng.split()), ...); }, layers_);
    }

    // f(entry_index, layer_name, Parameter&) for every array (trainable or a moving statistic), in
    // layer order; inside a block, layer_name is the inner layer's Keras name ("conv2d_3").
    template <class F> void visit_parameters(F&& f) {
        detail::LayerNamer namer;
        for_each_index([&]<std::size_t I>() {
            detail::visit_named_parameters(std::get<I>(layers_), namer,
                                           [&](const std::string& name, Parameter& p) { f(I, name, p); });
        });
    }

    // Buffers for one batch: every layer's output (a layer that runs in place shares the buffer of the
    // layer before: detail::output_slot), and two gradient buffers used in turn.
    struct Workspace {
        std::array<Buffer, layer_count> outputs;  // outputs[i]: (B, layer i's output shape), or empty
        Buffer gradient_in, gradient_out;         // (B, max_width) each
        std::size_t capacity = 0;                 // the largest batch these hold

        void reserve(std::size_t max_batch) {
            if (max_batch <= capacity) return;
            for_each_index([&]<std::size_t I>() {
                if constexpr (detail::output_slot<layer_tuple, I>() == I)
                    outputs[I].assign(max_batch * layer_type<I>::output_shape::size, 0.0f);
            });
            gradient_in.assign(max_batch * max_width, 0.0f);
            gradient_out.assign(max_batch * max_width, 0.0f);
            capacity = max_batch;
        }
        template <std::size_t I> float* output_of() noexcept { return outputs[detail::output_slot<layer_tuple, I>()].data(); }
        const float* output() const noexcept {  // (B, output_size)
            return outputs[detail::output_slot<layer_tuple, layer_count - 1>()].data();
        }
    };

    // Layers with per-batch state (Dropout masks) allocate it here, once per fit.
    void reserve(std::size_t max_batch) {
        std::apply([&](auto&... layer) { (reserve_layer(layer, max_batch), ...); }, layers_);
    }

    // x (B, input_size) -> ws.outputs[i] for every layer i.
    void forward(const float* x, Workspace& ws, const ForwardContext& ctx) {
        CTNN_ASSERT(ctx.batch <= ws.capacity, "Sequential::forward: workspace smaller than the batch");
        detail::forward_layers(
            layers_,
            [&]<std::size_t I>() -> const float* {
                if constexpr (I == 0) return x;
                else return ws.template output_of<I - 1>();
            },
            [&]<std::size_t I>() { return ws.template output_of<I>(); }, ctx);
    }

    // Folds every BatchNormalization into the Dense or Conv2D before it (when that layer has no
    // activation of its own) from the current weights, for forward passes with ctx.folded. The
    // model calls it at the start of predict and evaluate.
    void fold_batch_normalization() { detail::fold_batch_normalization(layers_); }

    // ws.gradient_in (B, output_size) holds d(mean loss)/d(output) — or d/d(logits) when
    // `fused_output_gradient` (softmax + cross-entropy). Fills every parameter's gradient.
    void backward(const float* x, Workspace& ws, std::size_t batch, bool fused_output_gradient) {
        float* dy = ws.gradient_in.data();
        float* dx = ws.gradient_out.data();
        for_each_index_reversed([&]<std::size_t I>() {
            const float* in = x;
            if constexpr (I > 0) in = ws.template output_of<I - 1>();
            const bool fused = fused_output_gradient && I == layer_count - 1;
            std::get<I>(layers_).backward(in, ws.template output_of<I>(), dy, I == 0 ? nullptr : dx, batch, fused);
            std::swap(dy, dx);
        });
    }

    // A Keras-style table: layer (type), output shape, parameter count, totals. With blocks, Keras's
    // functional table: an input row, every layer inside the blocks, and what each is connected to.
    static void summary(std::ostream& os, std::string_view model_name = "sequential") {
        std::vector<detail::SummaryRow> rows;
        detail::LayerNamer namer;
        std::string producer = "input_layer";
        if constexpr (has_blocks) rows.push_back({" input_layer (InputLayer)", batch_shape_text<input_shape>(), 0, "-"});
        for_each_index([&]<std::size_t I>() { producer = detail::summarize<layer_type<I>>(namer, rows, producer); });

        std::size_t name_width = 29;  // Keras's column, widened for long names such as max_pooling2d_1
        for (const auto& row : rows) name_width = std::max(name_width, row.label.size() + 2);
        const std::size_t connected_width = has_blocks ? 30 : 0;
        std::size_t width = name_width + 36 + connected_width;
        if constexpr (has_blocks)
            for (const auto& row : rows) width = std::max(width, name_width + 36 + row.connected_to.size());
        const std::string rule(width, '_'), double_rule(width, '=');
        os << "Model: \"" << model_name << "\"\n" << rule << '\n';
        os << std::left << std::setw(static_cast<int>(name_width)) << " Layer (type)" << std::setw(26) << "Output Shape";
        if constexpr (has_blocks) os << std::setw(10) << "Param #" << "Connected to\n";
        else os << "Param #\n";
        os << double_rule << '\n';
        for (std::size_t r = 0; r < rows.size(); ++r) {
            os << std::left << std::setw(static_cast<int>(name_width)) << rows[r].label << std::setw(26) << rows[r].output_shape;
            if constexpr (has_blocks) os << std::setw(10) << with_thousands(rows[r].params) << rows[r].connected_to << '\n';
            else os << with_thousands(rows[r].params) << '\n';
            if (r + 1 < rows.size()) os << '\n';
        }
        os << double_rule << '\n';
        os << "Total params: " << with_thousands(param_count) << " (" << megabytes(param_count) << ")\n";
        os << "Trainable params: " << with_thousands(trainable_param_count) << " (" << megabytes(trainable_param_count)
           << ")\n";
        os << "Non-trainable params: " << with_thousands(non_trainable_param_count) << " ("
           << megabytes(non_trainable_param_count) << ")\n"
           << rule << '\n';
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
