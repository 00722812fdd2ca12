// ctnn/layers/flatten.hpp — Flatten: a sample of any shape as a vector, as Keras's Flatten.
//
// Samples are stored row-major (NHWC for images), so (H, W, C) -> (H·W·C) moves no data: forward
// and backward are copies (skipped when the model hands the same buffer in and out).
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

#include "ctnn/core/concepts.hpp"
#include "ctnn/core/shape.hpp"

namespace ctnn {

template <ShapeType S>
class FlattenLayer {
public:
    using input_shape = S;
    using output_shape = Shape<S::size>;
    static constexpr std::size_t param_count = 0;
    static constexpr std::string_view kind = "flatten";
    static constexpr std::string_view type_name = "Flatten";

    void initialize(Rng&) {}
    // x (B, S...) -> y (B, S::size): the same floats.
    void forward(const float* x, float* y, const ForwardContext& ctx) {
        if (x != y) std::copy(x, x + ctx.batch * S::size, y);
    }
    void backward(const float*, const float*, float* dy, float* dx, std::size_t batch, bool) {
        if (dx != nullptr && dx != dy) std::copy(dy, dy + batch * S::size, dx);
    }
    template <class F> void visit_parameters(F&&) {}
};

struct Flatten {
    template <ShapeType S> using bind = FlattenLayer<S>;
};

}  // namespace ctnn
