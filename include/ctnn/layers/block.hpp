// ctnn/layers/block.hpp — blocks: layers made of flat lists of layers, for networks that are not a
// chain (ResNet, Inception, U-Net skips).
//
//   Residual<Body...>                    body(x) + x: ResNet's identity block
//   Residual<Body..., Shortcut<S...>>    body(x) + shortcut(x): ResNet's projection block
//   Branches<Merge, Branch...>           Merge(branch_1(x), ..., branch_n(x)), Merge = Add or
//                                        Concatenate; a Branch is Sequential<specs...>, one layer
//                                        spec, Identity (x itself), or another block
//
//   struct Stage2 : Sequential<Input<28, 28, 16>,
//       Residual<Conv2D<32, 3, 3, Linear, 2, Padding::same>, BatchNormalization, Activation<Relu>,
//                Conv2D<32, 3, 3, Linear, 1, Padding::same>, BatchNormalization,
//                Shortcut<Conv2D<32, 1, 1, Linear, 2>, BatchNormalization>>,
//       Activation<Relu>> {};
//
// A block is a layer spec like Conv2D: it takes its input shape from the entry before it, and every
// branch is bound to that shape and checked whole at compile time (a mismatch is one error naming
// the block, the branch and both shapes). param_count, summary(), weights, gradients and
// data-parallel fit see one more layer. Each block is one flat list: the type nests as deep as the
// blocks do, never as deep as the layer count (dlib's add_layer chain is what its users hit).
//
// Names follow Keras's functional models: the layers inside are named across the whole model in
// the order written (body, then shortcut, then the merge layer: conv2d_3, ..., add_1).
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <vector>

#include "ctnn/config.hpp"
#include "ctnn/core/concepts.hpp"
#include "ctnn/core/parameter.hpp"
#include "ctnn/core/phase.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/core/shape.hpp"
#include "ctnn/core/tensor.hpp"
#include "ctnn/detail/layer_list.hpp"
#include "ctnn/detail/scratch.hpp"
#include "ctnn/kernels/merge.hpp"
#include "ctnn/layers/merge.hpp"

namespace ctnn {

template <class... Specs> class Sequential;

// ---- Identity: x itself (Keras's Identity layer; as a branch, the shortcut of a residual block) ----

template <ShapeType S>
class IdentityLayer {
public:
    using input_shape = S;
    using output_shape = S;
    static constexpr std::size_t param_count = 0;
    static constexpr std::string_view kind = "identity";
    static constexpr std::string_view type_name = "Identity";

    static constexpr bool backward_reads_output = false;

    void initialize(Rng&) {}
    void forward(const float* x, float* y, const ForwardContext& ctx) {
        if (x != y) std::copy(x, x + ctx.batch * S::size, y);
    }
    void backward(const float*, const float*, float* dy, float* dx, std::size_t batch, bool) {
        if (dx != nullptr && dx != dy) std::copy(dy, dy + batch * S::size, dx);
    }
    template <class F> void visit_parameters(F&&) {}
};

struct Identity {
    template <ShapeType S> using bind = IdentityLayer<S>;
};

namespace detail {
template <class L> inline constexpr bool is_identity_layer = false;
template <class S> inline constexpr bool is_identity_layer<IdentityLayer<S>> = true;

template <class Tuple, class F> void for_each_index_of(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (f.template operator()<I>(), ...);
    }(std::make_index_sequence<std::tuple_size_v<Tuple>>{});
}
template <class Tuple, class F> void for_each_index_of_reversed(F&& f) {
    constexpr std::size_t n = std::tuple_size_v<Tuple>;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (f.template operator()<n - 1 - I>(), ...);
    }(std::make_index_sequence<n>{});
}
template <class L> void reserve_if_needed(L& layer, std::size_t max_batch) {
    if constexpr (requires { layer.reserve(max_batch); }) layer.reserve(max_batch);
}
}  // namespace detail

// ---- ChainLayer: Sequential<specs...> inside a block, a flat list run in order ---------------------

template <ShapeType InputShape, class... Specs>
class ChainLayer {
    static_assert(sizeof...(Specs) > 0,
                  "Sequential<> inside a block: a branch needs at least one layer (for x itself, use Identity)");

public:
    using layer_tuple = typename detail::bind_all<InputShape, detail::type_list<>, Specs...>::type;
    static constexpr std::size_t layer_count = std::tuple_size_v<layer_tuple>;
    template <std::size_t I> using layer_type = std::tuple_element_t<I, layer_tuple>;

private:
    static_assert(detail::adjacent_shapes_match<InputShape, 1, layer_tuple>(std::make_index_sequence<layer_count - 1>{}));
    using indices = std::make_index_sequence<layer_count>;
    // Layer I writes the caller's y when it shares the last layer's buffer (the last layer, or one the
    // last runs in place over).
    template <std::size_t I> static constexpr bool writes_y() {
        return detail::output_slot<layer_tuple, I>() == detail::output_slot<layer_tuple, layer_count - 1>();
    }
    template <std::size_t... I> static consteval std::size_t widest_inner_output(std::index_sequence<I...>) {
        std::size_t widest = 0;
        ((widest = I + 1 < layer_count ? std::max(widest, layer_type<I>::output_shape::size) : widest), ...);
        return widest;
    }

public:
    using input_shape = InputShape;
    using output_shape = typename layer_type<layer_count - 1>::output_shape;
    static constexpr std::size_t param_count = []<std::size_t... I>(std::index_sequence<I...>) {
        return (layer_type<I>::param_count + ... + 0);
    }(indices{});
    static constexpr std::size_t non_trainable_param_count = []<std::size_t... I>(std::index_sequence<I...>) {
        return (detail::non_trainable_params_of<layer_type<I>>() + ... + 0);
    }(indices{});
    static constexpr std::string_view kind = "sequential";
    static constexpr std::string_view type_name = "Sequential";

    template <std::size_t I> layer_type<I>& layer() noexcept { return std::get<I>(layers_); }
    template <std::size_t I> const layer_type<I>& layer() const noexcept { return std::get<I>(layers_); }

    // Each layer draws from its own stream, as in Sequential.
    void initialize(Rng& rng) {
        std::apply([&](auto&... layer) { (initialize_from(layer, rng.split()), ...); }, layers_);
    }

    // The outputs of the layers that do not write the caller's y (nor run in place). The gradients on
    // the way back are scratch (detail::Scratch).
    void reserve(std::size_t max_batch) {
        std::apply([&](auto&... layer) { (detail::reserve_if_needed(layer, max_batch), ...); }, layers_);
        if (max_batch <= capacity_) return;
        detail::for_each_index_of<layer_tuple>([&]<std::size_t I>() {
            if constexpr (!writes_y<I>() && detail::output_slot<layer_tuple, I>() == I)
                outputs_[I].assign(max_batch * layer_type<I>::output_shape::size, 0.0f);
        });
        capacity_ = max_batch;
    }
    // Its last layer alone sees dy.
    static constexpr bool backward_preserves_dy = detail::backward_preserves_dy<layer_type<layer_count - 1>>();
    // Whether backward reads y: when a layer that writes y reads its output.
    static constexpr bool backward_reads_output = []<std::size_t... I>(std::index_sequence<I...>) {
        return ((writes_y<I>() && detail::backward_reads_output<layer_type<I>>()) || ...);
    }(indices{});

    // x (B, In) -> y (B, Out), through every layer.
    void forward(const float* x, float* y, const ForwardContext& ctx) {
        CTNN_ASSERT(layer_count == 1 || ctx.batch <= capacity_, "Sequential inside a block: forward before reserve");
        detail::forward_layers(
            layers_, [&]<std::size_t I>() { return input_of<I>(x, y); }, [&]<std::size_t I>() { return output_of<I>(y); },
            ctx);
    }
    void fold_batch_normalization() { detail::fold_batch_normalization(layers_); }

    // dy (B, Out) -> dx (B, In) or nullptr; every inner parameter's gradient.
    void backward(const float* x, const float* y, float* dy, float* dx, std::size_t batch, bool dy_is_preactivation) {
        detail::Scratch scratch;
        constexpr std::size_t widest = widest_inner_output(indices{});
        float* const gradients[2] = {scratch.buffer(0, batch * widest), scratch.buffer(1, batch * widest)};
        float* gradient = dy;  // w.r.t. the output of the layer being stepped through
        std::size_t spare = 0;
        detail::for_each_index_of_reversed<layer_tuple>([&]<std::size_t I>() {
            float* layer_dx = I == 0 ? dx : gradients[spare];
            std::get<I>(layers_).backward(input_of<I>(x, y), output_of<I>(y), gradient, layer_dx, batch,
                                          dy_is_preactivation && I + 1 == layer_count);
            gradient = layer_dx;
            spare ^= 1;
        });
    }

    template <class F> void visit_parameters(F&& f) {
        std::apply([&](auto&... layer) { (layer.visit_parameters(f), ...); }, layers_);
    }
    template <class F> void visit_named_parameters(detail::LayerNamer& namer, F&& f) {
        std::apply([&](auto&... layer) { (detail::visit_named_parameters(layer, namer, f), ...); }, layers_);
    }
    static std::string summarize(detail::LayerNamer& namer, std::vector<detail::SummaryRow>& rows, const std::string& input) {
        std::string producer = input;
        detail::for_each_index_of<layer_tuple>(
            [&]<std::size_t I>() { producer = detail::summarize<layer_type<I>>(namer, rows, producer); });
        return producer;
    }

private:
    template <class L> static void initialize_from(L& layer, Rng stream) { layer.initialize(stream); }
    template <std::size_t I> const float* input_of(const float* x, const float* y) const {
        if constexpr (I == 0) return x;
        else return output_of<I - 1>(y);
    }
    template <std::size_t I> float* output_of(float* y) {
        if constexpr (writes_y<I>()) return y;
        else return outputs_[detail::output_slot<layer_tuple, I>()].data();
    }
    template <std::size_t I> const float* output_of(const float* y) const {
        if constexpr (writes_y<I>()) return y;
        else return outputs_[detail::output_slot<layer_tuple, I>()].data();
    }

    layer_tuple layers_;
    std::array<Buffer, layer_count - 1> outputs_;  // outputs_[i]: (B, layer i's output shape), or empty
    std::size_t capacity_ = 0;
};

namespace detail {
// A branch as written -> the layer that runs it on samples of shape S.
template <class S, class Branch> struct bind_branch {
    using type = typename bind_layer<S, Branch>::type;
};
template <class S, class... Specs> struct bind_branch<S, Sequential<Specs...>> {
    using type = ChainLayer<S, Specs...>;
};
template <class S, class Branch> using branch_output_shape = typename bind_branch<S, Branch>::type::output_shape;
}  // namespace detail

// ---- BranchesLayer: the layer every block binds to --------------------------------------------------

// Block is the spec as the user wrote it (Residual<...> or Branches<...>): errors name it.
template <class Block, ShapeType InputShape, class Merge, class... BranchSpecs>
class BranchesLayer {
    static_assert(detail::is_merge<Merge>,
                  "Branches<Merge, Branch...>: Merge must be ctnn::Add or ctnn::Concatenate (how the branches' "
                  "outputs are joined)");
    static_assert(sizeof...(BranchSpecs) >= 2, "Branches<Merge, Branch...>: a block needs at least two branches");

public:
    using branch_tuple = std::tuple<typename detail::bind_branch<InputShape, BranchSpecs>::type...>;
    static constexpr std::size_t branch_count = sizeof...(BranchSpecs);
    template <std::size_t I> using branch_type = std::tuple_element_t<I, branch_tuple>;

private:
    // Every branch's shape against the first's: one static_assert naming the first branch that does
    // not fit (its number from 1) and both shapes.
    using branch_shapes = std::tuple<detail::branch_output_shape<InputShape, BranchSpecs>...>;
    using first_shape = std::tuple_element_t<0, branch_shapes>;
    static constexpr std::size_t misfit = [] {
        constexpr std::array<bool, branch_count> fits{
            Merge::template compatible<first_shape, detail::branch_output_shape<InputShape, BranchSpecs>>...};
        for (std::size_t i = 0; i < branch_count; ++i)
            if (!fits[i]) return i;
        return std::size_t{0};
    }();
    using misfit_shape = std::tuple_element_t<misfit, branch_shapes>;
    static_assert(!std::is_same_v<Merge, Add> ||
                      diagnostics::add_branch_output_shape_equals_first_branch_output_shape<Block, misfit + 1, first_shape,
                                                                                            misfit_shape>::value,
                  "Add (in Residual or Branches<Add, ...>): every branch must produce the first branch's shape (the note "
                  "reads <block, branch number counting from 1 (a Residual's shortcut is 2), first branch's output "
                  "Shape, this branch's output Shape>; a Residual whose body changes the shape needs "
                  "Shortcut<Conv2D<Filters, 1, 1, Linear, Stride>>)");
    static_assert(!std::is_same_v<Merge, Concatenate> ||
                      diagnostics::concatenate_branch_shape_equals_first_branch_shape_but_channels<
                          Block, misfit + 1, first_shape, misfit_shape>::value,
                  "Concatenate (in Branches<Concatenate, ...>): every branch must produce the first branch's shape but "
                  "for the channels, the last axis (the note reads <block, branch number counting from 1, first "
                  "branch's output Shape, this branch's output Shape>)");
    using indices = std::make_index_sequence<branch_count>;
    template <std::size_t... I> static consteval std::size_t widest_branch_output(std::index_sequence<I...>) {
        return std::max({branch_type<I>::output_shape::size...});
    }

public:
    using input_shape = InputShape;
    using output_shape = typename Merge::template output_shape<detail::branch_output_shape<InputShape, BranchSpecs>...>;
    static constexpr std::size_t param_count = []<std::size_t... I>(std::index_sequence<I...>) {
        return (branch_type<I>::param_count + ... + 0);
    }(indices{});
    static constexpr std::size_t non_trainable_param_count = []<std::size_t... I>(std::index_sequence<I...>) {
        return (detail::non_trainable_params_of<branch_type<I>>() + ... + 0);
    }(indices{});
    static constexpr std::string_view kind = Block::kind;
    static constexpr std::string_view type_name = Block::type_name;

    template <std::size_t I> branch_type<I>& branch() noexcept { return std::get<I>(branches_); }
    template <std::size_t I> const branch_type<I>& branch() const noexcept { return std::get<I>(branches_); }

    void initialize(Rng& rng) {
        std::apply([&](auto&... branch) { (initialize_from(branch, rng.split()), ...); }, branches_);
    }

    // The output of each branch whose backward reads it (Identity's is x itself). The others are
    // scratch (detail::Scratch) until the merge, as are the gradients on the way back: the gradient for
    // one branch, and the gradient of x from one branch before it is added to the others'.
    void reserve(std::size_t max_batch) {
        std::apply([&](auto&... branch) { (detail::reserve_if_needed(branch, max_batch), ...); }, branches_);
        if (max_batch <= capacity_) return;
        detail::for_each_index_of<branch_tuple>([&]<std::size_t I>() {
            if constexpr (keeps_output<I>())
                outputs_[I].assign(max_batch * branch_type<I>::output_shape::size, 0.0f);
        });
        capacity_ = max_batch;
    }

    // x (B, In) -> every branch -> merged y (B, Out).
    void forward(const float* x, float* y, const ForwardContext& ctx) {
        CTNN_ASSERT(ctx.batch <= capacity_, "Residual / Branches: forward before reserve");
        detail::Scratch scratch;
        std::array<const float*, branch_count> outputs{};
        detail::for_each_index_of<branch_tuple>([&]<std::size_t I>() {
            if constexpr (detail::is_identity_layer<branch_type<I>>) {
                outputs[I] = x;
            } else {
                float* out = keeps_output<I>() ? outputs_[I].data()
                             : adds_into_y<I>()  ? y  // Add then sums the others into it, in place
                                                 : scratch.buffer(I, ctx.batch * branch_type<I>::output_shape::size);
                std::get<I>(branches_).forward(x, out, ctx);
                outputs[I] = out;
            }
        });
        Merge::template forward<output_shape, detail::branch_output_shape<InputShape, BranchSpecs>...>(ctx.batch, outputs, y);
    }

    // dy (B, Out) -> each branch's part -> each branch's backward; dx = Σ of the branches' dx, in
    // branch order (fixed, so the bits do not depend on anything else). y is not read.
    static constexpr bool backward_reads_output = false;
    void backward(const float* x, const float*, float* dy, float* dx, std::size_t batch, bool) {
        if constexpr (identity_residual) {
            // body(x) + x whose body leaves dy as it was: the body takes dy itself, then x's share is
            // added, dx = body's dx + dy, the sum (and order) of the general path below, with no copy.
            const float* body_y = keeps_output<0>() ? outputs_[0].data() : nullptr;
            std::get<0>(branches_).backward(x, body_y, dy, dx, batch, false);
            if (dx != nullptr) kernels::accumulate(batch * InputShape::size, dy, dx);
            return;
        }
        detail::Scratch scratch;
        float* const branch_gradient = scratch.buffer(0, batch * widest_branch_output(indices{}));
        float* const input_gradient = scratch.buffer(1, batch * InputShape::size);
        bool dx_written = false;
        detail::for_each_index_of<branch_tuple>([&]<std::size_t I>() {
            using B = branch_type<I>;
            float* branch_dy = branch_gradient;
            if constexpr (Merge::gradient_is_dy && I + 1 == branch_count) branch_dy = dy;  // the last may take dy itself
            else
                Merge::template branch_gradient<I, output_shape, detail::branch_output_shape<InputShape, BranchSpecs>...>(
                    batch, dy, branch_dy);
            constexpr std::size_t n = InputShape::size;
            if constexpr (detail::is_identity_layer<B>) {
                if (dx == nullptr) return;
                if (dx_written) kernels::accumulate(batch * n, branch_dy, dx);
                else std::copy(branch_dy, branch_dy + batch * n, dx);
            } else {
                float* target = dx == nullptr ? nullptr : dx_written ? input_gradient : dx;
                const float* branch_y = keeps_output<I>() ? outputs_[I].data() : nullptr;  // (not read otherwise)
                std::get<I>(branches_).backward(x, branch_y, branch_dy, target, batch, false);
                if (dx != nullptr && dx_written) kernels::accumulate(batch * n, input_gradient, dx);
            }
            dx_written = true;
        });
    }

    void fold_batch_normalization() {
        std::apply([&](auto&... branch) { (fold_branch(branch), ...); }, branches_);
    }

    template <class F> void visit_parameters(F&& f) {
        std::apply([&](auto&... branch) { (branch.visit_parameters(f), ...); }, branches_);
    }
    // Keras's order: each branch's layers, then the merge layer's name (it has no weights).
    template <class F> void visit_named_parameters(detail::LayerNamer& namer, F&& f) {
        std::apply([&](auto&... branch) { (visit_branch(branch, namer, f), ...); }, branches_);
        namer.next(Merge::kind);
    }
    // Rows for each branch's layers, then the merge layer, connected to the branches' last layers
    // (an Identity branch is the block's input itself).
    static std::string summarize(detail::LayerNamer& namer, std::vector<detail::SummaryRow>& rows, const std::string& input) {
        std::string connected;
        detail::for_each_index_of<branch_tuple>([&]<std::size_t I>() {
            std::string producer = input;
            if constexpr (!detail::is_identity_layer<branch_type<I>>)
                producer = detail::summarize<branch_type<I>>(namer, rows, input);
            connected += (I == 0 ? "" : ", ") + producer + "[0][0]";
        });
        std::string name = namer.next(Merge::kind);
        rows.push_back({' ' + name + " (" + std::string(Merge::type_name) + ')', batch_shape_text<output_shape>(), 0, connected});
        return name;
    }

private:
    template <std::size_t I> static constexpr bool keeps_output() {
        return !detail::is_identity_layer<branch_type<I>> && detail::backward_reads_output<branch_type<I>>();
    }
    // Add's first branch writes straight into y when nothing reads its output later.
    template <std::size_t I> static constexpr bool adds_into_y() {
        return std::is_same_v<Merge, Add> && I == 0 && !detail::is_identity_layer<branch_type<0>> && !keeps_output<0>();
    }
    static constexpr bool identity_residual = std::is_same_v<Merge, Add> && branch_count == 2 &&
                                              detail::is_identity_layer<branch_type<1>> &&
                                              !detail::is_identity_layer<branch_type<0>> &&
                                              detail::backward_preserves_dy<branch_type<0>>();
    template <class L> static void initialize_from(L& layer, Rng stream) { layer.initialize(stream); }
    template <class L> static void fold_branch(L& branch) {
        if constexpr (requires { branch.fold_batch_normalization(); }) branch.fold_batch_normalization();
    }
    template <class L, class F> static void visit_branch(L& branch, detail::LayerNamer& namer, F& f) {
        if constexpr (!detail::is_identity_layer<L>) detail::visit_named_parameters(branch, namer, f);
    }

    branch_tuple branches_;
    std::array<Buffer, branch_count> outputs_;  // outputs_[i]: (B, branch i's output shape) when kept
    std::size_t capacity_ = 0;
};

// ---- the specs a user writes --------------------------------------------------------------------------

// Branches<Add, Sequential<Conv2D<...>, ...>, Sequential<...>>, Branches<Concatenate, ..., Identity>.
template <class Merge, class... Branch>
struct Branches {
    static constexpr std::string_view kind = "branches";
    static constexpr std::string_view type_name = "Branches";
    template <ShapeType S> using bind = BranchesLayer<Branches, S, Merge, Branch...>;
};

// The projection of a Residual block, its last entry: Shortcut<Conv2D<32, 1, 1, Linear, 2>, BatchNormalization>.
template <class... Specs> struct Shortcut {};

namespace detail {
template <class T> inline constexpr bool is_shortcut = false;
template <class... S> inline constexpr bool is_shortcut<Shortcut<S...>> = true;

// Residual's entries -> its body (Sequential<...>) and shortcut (Identity or Sequential<...>).
template <class Body, class... Rest> struct residual_parts;
template <class... Body> struct residual_parts<type_list<Body...>> {
    using body = Sequential<Body...>;
    using shortcut = Identity;
};
template <class... Body, class... S> struct residual_parts<type_list<Body...>, Shortcut<S...>> {
    using body = Sequential<Body...>;
    using shortcut = Sequential<S...>;
};
template <class... Body, class Next, class... Rest>
struct residual_parts<type_list<Body...>, Next, Rest...> : residual_parts<type_list<Body..., Next>, Rest...> {
    static_assert(!is_shortcut<Next>, "Residual<Body..., Shortcut<...>>: Shortcut<...> must be the last entry");
};
}  // namespace detail

// Residual<Body...>: body(x) + x. Residual<Body..., Shortcut<S...>>: body(x) + shortcut(x).
// The activation after the sum (ResNet v1's ReLU) is the entry after the block: Activation<Relu>.
template <class... Entries>
struct Residual {
    static_assert(sizeof...(Entries) > 0 && !detail::is_shortcut<std::tuple_element_t<0, std::tuple<Entries...>>>,
                  "Residual<Body..., Shortcut<...>>: the body needs at least one layer");
    static constexpr std::string_view kind = "residual";
    static constexpr std::string_view type_name = "Residual";
    using parts = detail::residual_parts<detail::type_list<>, Entries...>;
    template <ShapeType S>
    using bind = BranchesLayer<Residual, S, Add, typename parts::body, typename parts::shortcut>;
};

}  // namespace ctnn
