// ctnn/io/onnx.hpp — ONNX export: ctnn::onnx::save(model, "model.onnx") writes a network's graph and
// weights as an ONNX ModelProto (IR 8, opset 17: what onnx 1.12 checks and every ONNX Runtime since
// 1.13 runs), so a model trained in ctnn can be served by ONNX Runtime or read by PyTorch tooling.
//
// Protobuf: written with the project's own encoder (io/protobuf.hpp), not libprotobuf/nanopb/protozero.
// A writer only appends tags, varints and bytes, and onnx.checker plus ONNX Runtime check every file in CI.
//
// The graph takes what predict takes and gives what predict gives: input "input" (N, dims...) float32
// with ctnn's sample shape (N, H, W, C) for images, (N, steps, features) for sequences, (N, features)
// for vectors; Embedding's token ids arrive as floats and are cast to int64 (truncated, as ctnn does).
// Output "output" (N, dims...). ctnn is channels last and ONNX's Conv, pooling and BatchNormalization
// are channels first, so the exporter tracks each tensor's layout and transposes only where an op needs
// the other one: before a run of Conv/pooling, and back before Flatten (Keras flattens (H, W, C)), a
// recurrent layer or the output. Weights are rearranged offline: Conv kernels (KH, KW, C, F) -> OIHW,
// LSTM gates i, f, c, o -> ONNX's i, o, f, c, GRU as Keras's reset_after (linear_before_reset = 1).
// Dropout is omitted (identity at inference); BatchNormalization is one op with the layer's own epsilon
// (Keras's 1e-3, not ONNX's default 1e-5), unfolded, so its four arrays stay visible.
#pragma once

#include <algorithm>
#include <array>
#include <bit>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "ctnn/config.hpp"
#include "ctnn/core/error.hpp"
#include "ctnn/detail/layer_list.hpp"
#include "ctnn/detail/last_axis.hpp"
#include "ctnn/io/atomic_file.hpp"
#include "ctnn/io/protobuf.hpp"
#include "ctnn/layers/activation.hpp"
#include "ctnn/layers/batch_normalization.hpp"
#include "ctnn/layers/block.hpp"
#include "ctnn/layers/conv1d.hpp"
#include "ctnn/layers/conv2d.hpp"
#include "ctnn/layers/dense.hpp"
#include "ctnn/layers/dropout.hpp"
#include "ctnn/layers/embedding.hpp"
#include "ctnn/layers/flatten.hpp"
#include "ctnn/layers/global_pooling2d.hpp"
#include "ctnn/layers/pooling1d.hpp"
#include "ctnn/layers/pooling2d.hpp"
#include "ctnn/layers/recurrent.hpp"
#include "ctnn/layers/repeat_vector.hpp"
#include "ctnn/layers/zero_padding2d.hpp"

namespace ctnn::onnx {

inline constexpr std::int64_t ir_version = 8;     // onnx 1.12 (Debian 12's python3-onnx)
inline constexpr std::int64_t opset_version = 17;  // the newest opset onnx 1.12 knows

struct SaveOptions {
    std::string graph_name = "ctnn";  // GraphProto.name
};

namespace detail {

namespace pb = ctnn::io::protobuf;

// onnx.proto's TensorProto.DataType and AttributeProto.AttributeType values used here.
enum class DataType : std::int32_t { float32 = 1, int64 = 7 };
enum class AttributeType : std::int64_t { f = 1, i = 2, s = 3, ints = 7 };

struct Attribute {
    std::string name;
    AttributeType type;
    float f = 0.0f;
    std::int64_t i = 0;
    std::string s;
    std::vector<std::int64_t> ints;
};
inline Attribute attr_int(std::string name, std::int64_t v) { return {std::move(name), AttributeType::i, 0.0f, v, {}, {}}; }
inline Attribute attr_float(std::string name, float v) { return {std::move(name), AttributeType::f, v, 0, {}, {}}; }
inline Attribute attr_ints(std::string name, std::vector<std::int64_t> v) {
    return {std::move(name), AttributeType::ints, 0.0f, 0, {}, std::move(v)};
}

// A tensor of the graph: its name, ctnn's per-sample shape (H, W, C), (T, C) or (C), and whether it is
// held channels first, (N, C, H, W) / (N, C, T), as Conv, pooling and BatchNormalization want.
struct Value {
    std::string name;
    std::vector<std::int64_t> dims;
    bool channels_first = false;
};

template <class S> std::vector<std::int64_t> dims_of() {
    std::vector<std::int64_t> d;
    for (std::size_t i = 0; i < S::rank; ++i) d.push_back(static_cast<std::int64_t>(S::dims[i]));
    return d;
}

// Keras's gate order (i, f, c, o) to ONNX's (i, o, f, c): ONNX gate g holds Keras gate lstm_gate[g].
inline constexpr std::array<std::size_t, 4> lstm_gate_from_keras = {0, 3, 1, 2};

template <class T> inline constexpr bool always_false = false;

class GraphWriter {
public:
    // ---- protobuf pieces -----------------------------------------------------------------------

    // One NodeProto; returns its (first) output's name.
    std::string node(std::string_view op, std::initializer_list<std::string_view> inputs, std::string output,
                     const std::vector<Attribute>& attributes = {}, std::vector<std::string> extra_outputs = {}) {
        const std::size_t mark = pb::begin_nested(nodes_, 1);  // GraphProto.node
        for (std::string_view in : inputs) pb::append_bytes_field(nodes_, 1, in);
        pb::append_bytes_field(nodes_, 2, output);
        for (const std::string& out : extra_outputs) pb::append_bytes_field(nodes_, 2, out);
        pb::append_bytes_field(nodes_, 3, output.empty() ? extra_outputs.at(0) : output);  // name
        pb::append_bytes_field(nodes_, 4, op);
        for (const Attribute& a : attributes) {
            const std::size_t am = pb::begin_nested(nodes_, 5);
            pb::append_bytes_field(nodes_, 1, a.name);
            pb::append_varint_field(nodes_, 20, static_cast<std::uint64_t>(a.type));
            switch (a.type) {
                case AttributeType::f: pb::append_float_field(nodes_, 2, a.f); break;
                case AttributeType::i: pb::append_int64_field(nodes_, 3, a.i); break;
                case AttributeType::s: pb::append_bytes_field(nodes_, 4, a.s); break;
                case AttributeType::ints:
                    for (std::int64_t v : a.ints) pb::append_int64_field(nodes_, 8, v);
                    break;
            }
            pb::end_nested(nodes_, am);
        }
        pb::end_nested(nodes_, mark);
        return output;
    }

    // A float initializer of `dims` whose values come from `at(i)` in C order.
    template <std::invocable<std::size_t> At>
    std::string initializer(std::string name, std::initializer_list<std::size_t> dims, At&& at) {
        std::size_t count = 1;
        for (std::size_t d : dims) count *= d;
        std::string raw;
        raw.reserve(4 * count);
        for (std::size_t i = 0; i < count; ++i) pb::append_fixed32(raw, std::bit_cast<std::uint32_t>(float(at(i))));
        tensor(name, std::vector<std::int64_t>(dims.begin(), dims.end()), DataType::float32, raw);
        return name;
    }
    std::string initializer(std::string name, std::initializer_list<std::size_t> dims, std::span<const float> values) {
        return initializer(std::move(name), dims, [&](std::size_t i) { return values[i]; });
    }
    std::string int64_initializer(std::string name, const std::vector<std::int64_t>& values) {
        std::string raw;
        for (std::int64_t v : values) pb::append_fixed64(raw, static_cast<std::uint64_t>(v));
        tensor(name, {static_cast<std::int64_t>(values.size())}, DataType::int64, raw);
        return name;
    }

    // ---- names ---------------------------------------------------------------------------------

    std::string layer_name(std::string_view kind) { return namer_.next(kind); }
    // A value name not used before: "conv2d", then "conv2d/nchw", "conv2d/nchw_1", ...
    std::string fresh(const std::string& wanted) {
        std::string name = wanted;
        for (std::size_t n = 1; !used_.insert_if_new(name); ++n) name = wanted + "_" + std::to_string(n);
        return name;
    }

    // ---- layouts -------------------------------------------------------------------------------

    Value to_channels_first(const Value& v) {
        if (v.channels_first || v.dims.size() < 2) return v;
        const auto k = static_cast<std::int64_t>(v.dims.size());
        std::vector<std::int64_t> perm{0, k};
        for (std::int64_t a = 1; a < k; ++a) perm.push_back(a);
        return {node("Transpose", {v.name}, fresh(v.name + "/channels_first"), {attr_ints("perm", perm)}), v.dims, true};
    }
    Value to_channels_last(const Value& v) {
        if (!v.channels_first) return v;
        const auto k = static_cast<std::int64_t>(v.dims.size());
        std::vector<std::int64_t> perm{0};
        for (std::int64_t a = 2; a <= k; ++a) perm.push_back(a);
        perm.push_back(1);
        return {node("Transpose", {v.name}, fresh(v.name + "/channels_last"), {attr_ints("perm", perm)}), v.dims, false};
    }
    Value to_layout(const Value& v, bool channels_first) {
        return channels_first ? to_channels_first(v) : to_channels_last(v);
    }

    // The activation after a layer (nothing for Linear); Softmax over ctnn's last axis.
    template <class Act> Value activation(const Value& v, const std::string& name) {
        if constexpr (std::is_same_v<Act, Linear>) return v;
        else if constexpr (std::is_same_v<Act, Relu>) return {node("Relu", {v.name}, fresh(name + "/relu")), v.dims, v.channels_first};
        else if constexpr (std::is_same_v<Act, Sigmoid>)
            return {node("Sigmoid", {v.name}, fresh(name + "/sigmoid")), v.dims, v.channels_first};
        else if constexpr (std::is_same_v<Act, Tanh>) return {node("Tanh", {v.name}, fresh(name + "/tanh")), v.dims, v.channels_first};
        else if constexpr (std::is_same_v<Act, Softmax>)
            return {node("Softmax", {v.name}, fresh(name + "/softmax"), {attr_int("axis", v.channels_first ? 1 : -1)}), v.dims,
                    v.channels_first};
        else static_assert(always_false<Act>, "ctnn::onnx::save: this activation has no ONNX export");
    }

    // ---- the whole model -------------------------------------------------------------------------

    std::string model(const Value& input, const Value& output, const SaveOptions& options) {
        std::string graph;
        graph.reserve(nodes_.size() + initializers_.size() + 512);
        graph += nodes_;
        pb::append_bytes_field(graph, 2, options.graph_name);
        graph += initializers_;
        pb::append_bytes_field(graph, 10, "input (N" + dims_text(input.dims) + ") float32, channels last as ctnn's rows; output (N" +
                                              dims_text(output.dims) + ")");
        value_info(graph, 11, input);
        value_info(graph, 12, output);

        std::string model;
        model.reserve(graph.size() + 64);
        pb::append_int64_field(model, 1, ir_version);
        pb::append_bytes_field(model, 2, "ctnn");
        pb::append_bytes_field(model, 3, std::to_string(CTNN_VERSION_MAJOR) + "." + std::to_string(CTNN_VERSION_MINOR) + "." +
                                             std::to_string(CTNN_VERSION_PATCH));
        pb::append_bytes_field(model, 7, graph);
        const std::size_t opset = pb::begin_nested(model, 8);
        pb::append_bytes_field(model, 1, "");
        pb::append_int64_field(model, 2, opset_version);
        pb::end_nested(model, opset);
        return model;
    }

private:
    struct NameSet {  // a sorted vector: a few hundred names at most
        std::vector<std::string> names;
        bool insert_if_new(const std::string& name) {
            const auto it = std::lower_bound(names.begin(), names.end(), name);
            if (it != names.end() && *it == name) return false;
            names.insert(it, name);
            return true;
        }
    };

    void tensor(const std::string& name, const std::vector<std::int64_t>& dims, DataType type, const std::string& raw) {
        const std::size_t mark = pb::begin_nested(initializers_, 5);  // GraphProto.initializer
        for (std::int64_t d : dims) pb::append_int64_field(initializers_, 1, d);
        pb::append_varint_field(initializers_, 2, static_cast<std::uint64_t>(type));
        pb::append_bytes_field(initializers_, 8, name);
        pb::append_bytes_field(initializers_, 9, raw);  // raw_data, little-endian
        pb::end_nested(initializers_, mark);
    }

    static std::string dims_text(const std::vector<std::int64_t>& dims) {
        std::string t;
        for (std::int64_t d : dims) t += ", " + std::to_string(d);
        return t;
    }

    // ValueInfoProto: float32 tensor (N, dims...) with a symbolic batch "N".
    static void value_info(std::string& out, std::uint32_t field, const Value& v) {
        const std::size_t mark = pb::begin_nested(out, field);
        pb::append_bytes_field(out, 1, v.name);
        const std::size_t type = pb::begin_nested(out, 2);         // TypeProto
        const std::size_t tensor = pb::begin_nested(out, 1);       // TypeProto.Tensor
        pb::append_varint_field(out, 1, static_cast<std::uint64_t>(DataType::float32));
        const std::size_t shape = pb::begin_nested(out, 2);        // TensorShapeProto
        const std::size_t batch = pb::begin_nested(out, 1);
        pb::append_bytes_field(out, 2, "N");                        // dim_param
        pb::end_nested(out, batch);
        for (std::int64_t d : v.dims) {
            const std::size_t dim = pb::begin_nested(out, 1);
            pb::append_int64_field(out, 1, d);                       // dim_value
            pb::end_nested(out, dim);
        }
        pb::end_nested(out, shape);
        pb::end_nested(out, tensor);
        pb::end_nested(out, type);
        pb::end_nested(out, mark);
    }

    std::string nodes_, initializers_;
    ctnn::detail::LayerNamer namer_;
    NameSet used_;
};

// ---- one emit() per layer kind: Value in -> Value out, weights as initializers ----------------------

class Exporter {
public:
    explicit Exporter(GraphWriter& g) : g_(g) {}

    template <std::size_t In, std::size_t Out, class Act> Value emit(const Dense<In, Out, Act>& layer, const Value& x) {
        const std::string name = g_.layer_name("dense");
        const std::string w = g_.initializer(name + "/kernel", {In, Out}, layer.kernel.value);
        const std::string b = g_.initializer(name + "/bias", {Out}, layer.bias.value);
        const Value y{g_.node("Gemm", {x.name, w, b}, g_.fresh(name)), {std::int64_t(Out)}, false};
        return g_.activation<Act>(y, name);
    }

    // Dense on every position of a sequence (Keras's Dense on 3-D input): MatMul + Add on the last axis.
    template <class InShape, std::size_t In, std::size_t Out, class Act>
    Value emit(const ctnn::detail::LastAxisLayer<InShape, Dense<In, Out, Act>>& layer, const Value& x0) {
        const Value x = g_.to_channels_last(x0);
        const std::string name = g_.layer_name("dense");
        const std::string w = g_.initializer(name + "/kernel", {In, Out}, layer.kernel.value);
        const std::string b = g_.initializer(name + "/bias", {Out}, layer.bias.value);
        const std::string product = g_.node("MatMul", {x.name, w}, g_.fresh(name + "/matmul"));
        std::vector<std::int64_t> dims = x.dims;
        dims.back() = std::int64_t(Out);
        const Value y{g_.node("Add", {product, b}, g_.fresh(name)), dims, false};
        return g_.activation<Act>(y, name);
    }

    template <class S, class Act> Value emit(const ActivationLayer<S, Act>&, const Value& x) {
        return g_.activation<Act>(x, g_.layer_name("activation"));
    }

    template <class S, auto Rate> Value emit(const DropoutLayer<S, Rate>&, const Value& x) {
        g_.layer_name("dropout");  // keeps the following names Keras's
        return x;
    }

    template <class S, std::size_t F, std::size_t KH, std::size_t KW, class Act, std::size_t Stride, Padding Pad>
    Value emit(const Conv2DLayer<S, F, KH, KW, Act, Stride, Pad>& layer, const Value& x0) {
        using L = Conv2DLayer<S, F, KH, KW, Act, Stride, Pad>;
        constexpr auto g = L::geometry;
        const Value x = g_.to_channels_first(x0);
        const std::string name = g_.layer_name("conv2d");
        const std::size_t C = g.channels;
        const auto& k = layer.kernel.value;  // (KH, KW, C, F) -> (F, C, KH, KW)
        const std::string w = g_.initializer(name + "/kernel", {F, C, KH, KW}, [&](std::size_t i) {
            const std::size_t kw = i % KW, kh = i / KW % KH, c = i / (KW * KH) % C, f = i / (KW * KH * C);
            return k[((kh * KW + kw) * C + c) * F + f];
        });
        const std::string b = g_.initializer(name + "/bias", {F}, layer.bias.value);
        const Value y{g_.node("Conv", {x.name, w, b}, g_.fresh(name),
                              {attr_ints("kernel_shape", {std::int64_t(KH), std::int64_t(KW)}),
                               attr_ints("strides", {std::int64_t(Stride), std::int64_t(Stride)}),
                               attr_ints("pads", pads2d(g.height, g.width, KH, KW, Stride, Stride, g.pad_top, g.pad_left,
                                                        g.out_height, g.out_width))}),
                      dims_of<typename L::output_shape>(), true};
        return g_.activation<Act>(y, name);
    }

    template <class S, Pooling Kind, std::size_t PH, std::size_t PW, std::size_t SH, std::size_t SW>
    Value emit(const Pooling2DLayer<S, Kind, PH, PW, SH, SW>&, const Value& x0) {
        using L = Pooling2DLayer<S, Kind, PH, PW, SH, SW>;
        const Value x = g_.to_channels_first(x0);
        const std::string name = g_.layer_name(L::kind);
        return {g_.node(Kind == Pooling::max ? "MaxPool" : "AveragePool", {x.name}, g_.fresh(name),
                        {attr_ints("kernel_shape", {std::int64_t(PH), std::int64_t(PW)}),
                         attr_ints("strides", {std::int64_t(SH), std::int64_t(SW)})}),
                dims_of<typename L::output_shape>(), true};
    }

    // Keras flattens (H, W, C): back to channels last first, then ONNX's Flatten (axis 1) keeps that order.
    template <class S> Value emit(const FlattenLayer<S>&, const Value& x0) {
        const std::string name = g_.layer_name("flatten");
        if (x0.dims.size() < 2) return x0;
        const Value x = g_.to_channels_last(x0);
        return {g_.node("Flatten", {x.name}, g_.fresh(name), {attr_int("axis", 1)}), {std::int64_t(S::size)}, false};
    }

    template <class S, auto M, auto E> Value emit(const BatchNormalizationLayer<S, M, E>& layer, const Value& x0) {
        using L = BatchNormalizationLayer<S, M, E>;
        const Value x = g_.to_channels_first(x0);  // ONNX normalizes axis 1; (N, C) is already that
        const std::string name = g_.layer_name("batch_normalization");
        const std::size_t C = S::dims[S::rank - 1];
        const std::string gamma = g_.initializer(name + "/gamma", {C}, layer.gamma.value);
        const std::string beta = g_.initializer(name + "/beta", {C}, layer.beta.value);
        const std::string mean = g_.initializer(name + "/moving_mean", {C}, layer.moving_mean.value);
        const std::string var = g_.initializer(name + "/moving_variance", {C}, layer.moving_variance.value);
        return {g_.node("BatchNormalization", {x.name, gamma, beta, mean, var}, g_.fresh(name),
                        {attr_float("epsilon", static_cast<float>(L::epsilon))}),
                x.dims, x.channels_first};
    }

    template <class S, std::size_t T, std::size_t B, std::size_t Le, std::size_t R>
    Value emit(const ZeroPadding2DLayer<S, T, B, Le, R>&, const Value& x) {
        using L = ZeroPadding2DLayer<S, T, B, Le, R>;
        const std::string name = g_.layer_name("zero_padding2d");
        const auto t = std::int64_t(T), b = std::int64_t(B), l = std::int64_t(Le), r = std::int64_t(R);
        const std::vector<std::int64_t> pads = x.channels_first ? std::vector<std::int64_t>{0, 0, t, l, 0, 0, b, r}
                                                                : std::vector<std::int64_t>{0, t, l, 0, 0, b, r, 0};
        const std::string p = g_.int64_initializer(name + "/pads", pads);
        return {g_.node("Pad", {x.name, p}, g_.fresh(name)), dims_of<typename L::output_shape>(), x.channels_first};
    }

    template <class S, Pooling Kind> Value emit(const GlobalPooling2DLayer<S, Kind>&, const Value& x) {
        return global_pool(x, GlobalPooling2DLayer<S, Kind>::kind, Kind);
    }
    template <class S, Pooling Kind> Value emit(const GlobalPooling1DLayer<S, Kind>&, const Value& x) {
        return global_pool(x, GlobalPooling1DLayer<S, Kind>::kind, Kind);
    }

    // Conv1D on (N, C, T): kernel (K, C, F) -> (F, C, K); causal padding is K - 1 zeros on the left.
    template <class S, std::size_t F, std::size_t K, class Act, Padding1D Pad, std::size_t Stride>
    Value emit(const Conv1DLayer<S, F, K, Act, Pad, Stride>& layer, const Value& x0) {
        using L = Conv1DLayer<S, F, K, Act, Pad, Stride>;
        constexpr auto g = L::geometry;
        const Value x = g_.to_channels_first(x0);
        const std::string name = g_.layer_name("conv1d");
        const std::size_t C = g.channels;
        const auto& k = layer.kernel.value;
        const std::string w = g_.initializer(name + "/kernel", {F, C, K}, [&](std::size_t i) {
            const std::size_t kk = i % K, c = i / K % C, f = i / (K * C);
            return k[(kk * C + c) * F + f];
        });
        const std::string b = g_.initializer(name + "/bias", {F}, layer.bias.value);
        const std::vector<std::int64_t> pads2 =
            pads2d(1, g.width, 1, K, 1, Stride, 0, g.pad_left, 1, g.out_width);  // (top, left, bottom, right)
        const Value y{g_.node("Conv", {x.name, w, b}, g_.fresh(name),
                              {attr_ints("kernel_shape", {std::int64_t(K)}), attr_ints("strides", {std::int64_t(Stride)}),
                               attr_ints("pads", {pads2[1], pads2[3]})}),
                      dims_of<typename L::output_shape>(), true};
        return g_.activation<Act>(y, name);
    }

    template <class S, Pooling Kind, std::size_t Pool, std::size_t Stride>
    Value emit(const Pooling1DLayer<S, Kind, Pool, Stride>&, const Value& x0) {
        using L = Pooling1DLayer<S, Kind, Pool, Stride>;
        const Value x = g_.to_channels_first(x0);
        const std::string name = g_.layer_name(L::kind);
        return {g_.node(Kind == Pooling::max ? "MaxPool" : "AveragePool", {x.name}, g_.fresh(name),
                        {attr_ints("kernel_shape", {std::int64_t(Pool)}), attr_ints("strides", {std::int64_t(Stride)})}),
                dims_of<typename L::output_shape>(), true};
    }

    // Token ids come as floats (ctnn's rows): Cast to int64 (truncates, as ctnn), then Gather the rows.
    template <class S, std::size_t V, std::size_t D> Value emit(const EmbeddingLayer<S, V, D>& layer, const Value& x) {
        const std::string name = g_.layer_name("embedding");
        const std::string table = g_.initializer(name + "/embeddings", {V, D}, layer.embeddings.value);
        const std::string ids = g_.node("Cast", {x.name}, g_.fresh(name + "/ids"), {attr_int("to", std::int64_t(DataType::int64))});
        return {g_.node("Gather", {table, ids}, g_.fresh(name), {attr_int("axis", 0)}),
                dims_of<typename EmbeddingLayer<S, V, D>::output_shape>(), false};
    }

    template <class S, std::size_t N> Value emit(const RepeatVectorLayer<S, N>&, const Value& x) {
        const std::string name = g_.layer_name("repeat_vector");
        const std::string axes = g_.int64_initializer(name + "/axes", {1});
        const std::string repeats = g_.int64_initializer(name + "/repeats", {1, std::int64_t(N), 1});
        const std::string expanded = g_.node("Unsqueeze", {x.name, axes}, g_.fresh(name + "/unsqueeze"));
        return {g_.node("Tile", {expanded, repeats}, g_.fresh(name)), {std::int64_t(N), x.dims.at(0)}, false};
    }

    // SimpleRNN / LSTM / GRU as ONNX's RNN / LSTM / GRU (time major, forward, one direction). Keras's
    // (in, gates·U) kernels become ONNX's (1, gates·U, in); Keras's one bias is ONNX's input bias Wb and
    // the recurrent bias Rb is zero, except GRU's reset_after (2, 3U) bias, which is exactly [Wb; Rb].
    template <class Cell, class S, std::size_t U, bool Sequences>
    Value emit(const RecurrentLayer<Cell, S, U, Sequences>& layer, const Value& x0) {
        using L = RecurrentLayer<Cell, S, U, Sequences>;
        constexpr std::size_t T = S::dims[0], F = S::dims[1], G = Cell::gates;
        const Value x = g_.to_channels_last(x0);
        const std::string name = g_.layer_name(L::kind);
        const auto gate = [](std::size_t onnx_gate) {
            if constexpr (G == 4) return lstm_gate_from_keras[onnx_gate];
            else return onnx_gate;
        };
        const auto transposed = [&](const Buffer& k, std::size_t rows) {  // (rows, G·U) -> ONNX (G·U, rows)
            return [&k, rows, gate](std::size_t i) {
                const std::size_t r = i % rows, j = i / rows, g = j / U, u = j % U;
                return k[r * G * U + gate(g) * U + u];
            };
        };
        const std::string w = g_.initializer(name + "/kernel", {1, G * U, F}, transposed(layer.kernel.value, F));
        const std::string r = g_.initializer(name + "/recurrent_kernel", {1, G * U, U}, transposed(layer.recurrent_kernel.value, U));
        const auto& bias = layer.bias.value;
        const std::string b = g_.initializer(name + "/bias", {1, 2 * G * U}, [&](std::size_t i) {
            if constexpr (Cell::recurrent_bias) return bias[i];  // GRU: (2, 3U) = [Wb; Rb]
            else return i < G * U ? bias[gate(i / U) * U + i % U] : 0.0f;
        });
        const std::string time_major =
            g_.node("Transpose", {x.name}, g_.fresh(name + "/time_major"), {attr_ints("perm", {1, 0, 2})});
        std::vector<Attribute> attributes{attr_int("hidden_size", std::int64_t(U))};
        if constexpr (std::is_same_v<Cell, kernels::GruCell>) attributes.push_back(attr_int("linear_before_reset", 1));
        const std::string_view op = G == 4 ? "LSTM" : G == 3 ? "GRU" : "RNN";
        if constexpr (Sequences) {  // Y (T, 1, N, U) -> (N, T, U)
            const std::string y = g_.node(op, {time_major, w, r, b}, g_.fresh(name + "/y"), attributes);
            const std::string axes = g_.int64_initializer(name + "/direction_axis", {1});
            const std::string squeezed = g_.node("Squeeze", {y, axes}, g_.fresh(name + "/squeeze"));
            return {g_.node("Transpose", {squeezed}, g_.fresh(name), {attr_ints("perm", {1, 0, 2})}),
                    {std::int64_t(T), std::int64_t(U)}, false};
        } else {  // Y_h (1, N, U) -> (N, U)
            const std::string h = g_.fresh(name + "/y_h");
            g_.node(op, {time_major, w, r, b}, "", attributes, {h});
            const std::string axes = g_.int64_initializer(name + "/direction_axis", {0});
            return {g_.node("Squeeze", {h, axes}, g_.fresh(name)), {std::int64_t(U)}, false};
        }
    }

    // ---- blocks ------------------------------------------------------------------------------------

    template <class S, class... Specs> Value emit(const ChainLayer<S, Specs...>& chain, const Value& x) {
        Value v = x;
        ctnn::detail::for_each_index_of<typename ChainLayer<S, Specs...>::layer_tuple>(
            [&]<std::size_t I>() { v = emit(chain.template layer<I>(), v); });
        return v;
    }
    template <class S> Value emit(const IdentityLayer<S>&, const Value& x) { return x; }

    // Every branch on x, then Add or Concat (named as Keras's merge layer, after the branches' layers).
    // Branches meet in the first branch's layout.
    template <class Block, class S, class Merge, class... Branches>
    Value emit(const BranchesLayer<Block, S, Merge, Branches...>& block, const Value& x) {
        using L = BranchesLayer<Block, S, Merge, Branches...>;
        std::vector<Value> outputs;
        ctnn::detail::for_each_index_of<typename L::branch_tuple>(
            [&]<std::size_t I>() { outputs.push_back(emit(block.template branch<I>(), x)); });
        const bool channels_first = outputs.front().channels_first;
        for (Value& v : outputs) v = g_.to_layout(v, channels_first);
        const std::string name = g_.layer_name(Merge::kind);
        const std::string out = g_.fresh(name);
        std::vector<std::string> names;
        for (const Value& v : outputs) names.push_back(v.name);
        if constexpr (std::is_same_v<Merge, Add>) {
            std::string sum = names[0];
            for (std::size_t i = 1; i < names.size(); ++i)
                sum = g_.node("Add", {sum, names[i]}, i + 1 == names.size() ? out : g_.fresh(name + "/partial"));
        } else {
            node_n("Concat", names, out, {attr_int("axis", channels_first ? 1 : -1)});
        }
        return {out, dims_of<typename L::output_shape>(), channels_first};
    }

    template <class L> Value emit(const L&, const Value&) {
        static_assert(always_false<L>, "ctnn::onnx::save: this layer kind has no ONNX export (see the list in ctnn/io/onnx.hpp)");
        return {};
    }

private:
    // ONNX's (top, left, bottom, right) for a window whose output ctnn sized with `pad_top`/`pad_left` before:
    // the bottom/right padding that gives the same output size (0 when valid padding leaves rows unread).
    static std::vector<std::int64_t> pads2d(std::size_t h, std::size_t w, std::size_t kh, std::size_t kw, std::size_t sh,
                                            std::size_t sw, std::size_t pad_top, std::size_t pad_left, std::size_t oh,
                                            std::size_t ow) {
        const auto after = [](std::size_t in, std::size_t k, std::size_t s, std::size_t before, std::size_t out) {
            const auto need = std::int64_t((out - 1) * s + k) - std::int64_t(in + before);
            return std::max<std::int64_t>(need, 0);
        };
        return {std::int64_t(pad_top), std::int64_t(pad_left), after(h, kh, sh, pad_top, oh), after(w, kw, sw, pad_left, ow)};
    }

    Value global_pool(const Value& x, std::string_view kind, Pooling pooling) {
        const std::string name = g_.layer_name(kind);
        std::vector<std::int64_t> axes;  // every axis but N and the channels
        for (std::size_t a = 0; a + 1 < x.dims.size(); ++a) axes.push_back(std::int64_t(a) + (x.channels_first ? 2 : 1));
        return {g_.node(pooling == Pooling::max ? "ReduceMax" : "ReduceMean", {x.name}, g_.fresh(name),
                        {attr_ints("axes", axes), attr_int("keepdims", 0)}),
                {x.dims.back()}, false};
    }

    // A node with a run-time number of inputs (Concat).
    void node_n(std::string_view op, const std::vector<std::string>& inputs, const std::string& out, std::vector<Attribute> attributes) {
        // GraphWriter::node takes an initializer_list; Concat of up to 8 branches is spelled out.
        std::array<std::string_view, 8> in{};
        if (inputs.size() > in.size()) throw std::length_error("ctnn::onnx::save: Concatenate of more than 8 branches");
        for (std::size_t i = 0; i < inputs.size(); ++i) in[i] = inputs[i];
        switch (inputs.size()) {
            case 2: g_.node(op, {in[0], in[1]}, out, attributes); break;
            case 3: g_.node(op, {in[0], in[1], in[2]}, out, attributes); break;
            case 4: g_.node(op, {in[0], in[1], in[2], in[3]}, out, attributes); break;
            case 5: g_.node(op, {in[0], in[1], in[2], in[3], in[4]}, out, attributes); break;
            case 6: g_.node(op, {in[0], in[1], in[2], in[3], in[4], in[5]}, out, attributes); break;
            case 7: g_.node(op, {in[0], in[1], in[2], in[3], in[4], in[5], in[6]}, out, attributes); break;
            default: g_.node(op, {in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7]}, out, attributes); break;
        }
    }

    GraphWriter& g_;
};

template <class M>
concept HasNetwork = requires(const M& m) { m.network(); };

}  // namespace detail

// The ONNX ModelProto of `network` (a Sequential<...> or a type derived from one), as bytes.
template <class Net>
    requires requires { Net::layer_count; }
std::string serialize(const Net& network, const SaveOptions& options = {}) {
    detail::GraphWriter graph;
    detail::Exporter exporter(graph);
    detail::Value x{graph.fresh("input"), detail::dims_of<typename Net::input_shape>(), false};
    const detail::Value input = x;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        ((x = exporter.emit(network.template layer<I>(), x)), ...);
    }(std::make_index_sequence<Net::layer_count>{});
    x = graph.to_channels_last(x);
    const detail::Value output{graph.node("Identity", {x.name}, graph.fresh("output")), x.dims, false};
    return graph.model(input, output, options);
}

// The same for a compiled model (compile<Net>(...)): its network's current weights.
template <detail::HasNetwork M> std::string serialize(const M& model, const SaveOptions& options = {}) {
    return serialize(model.network(), options);
}

// Writes the ONNX file atomically (a temporary file renamed over `path`): readers see the old file or
// the new one. Throws ctnn::file_error naming the path.
template <class M>
    requires detail::HasNetwork<M> || requires { M::layer_count; }
void save(const M& model_or_network, const std::filesystem::path& path, const SaveOptions& options = {}) {
    const std::string bytes = serialize(model_or_network, options);
    // Protobuf messages are limited to 2 GiB; larger models would need ONNX's external data files.
    if (bytes.size() > 0x7FFFFFFFu)
        throw file_error(path.string(), "the ONNX model is " + std::to_string(bytes.size()) +
                                            " bytes, larger than protobuf's 2 GiB limit (external data is not written)");
    io::write_file_atomically(path, bytes);
}

}  // namespace ctnn::onnx
