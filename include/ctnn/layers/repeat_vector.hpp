// ctnn/layers/repeat_vector.hpp — RepeatVector<N>: Keras's RepeatVector, a vector Shape<F> repeated
// as a sequence Shape<N, F> (the bridge from an encoder's last state to a decoder's N steps).
#pragma once

#include <algorithm>
#include <cstddef>
#include <string_view>

#include "ctnn/core/concepts.hpp"
#include "ctnn/core/shape.hpp"

namespace ctnn {

namespace diagnostics {
// RepeatVector repeats a vector: a Shape<Features>. InputShape is what came before it.
template <class InputShape> struct repeat_vector_input_is_a_vector_shape_features {
    static constexpr bool value = InputShape::rank == 1;
};
}  // namespace diagnostics

template <ShapeType InputShape, std::size_t N>
class RepeatVectorLayer {
    static_assert(diagnostics::repeat_vector_input_is_a_vector_shape_features<InputShape>::value,
                  "RepeatVector<N>: its input must be a vector, Shape<Features> (the note names the shape it got)");
    static constexpr std::size_t F = InputShape::size;

public:
    using input_shape = InputShape;
    using output_shape = Shape<N, F>;
    static constexpr std::size_t param_count = 0;
    static constexpr std::string_view kind = "repeat_vector";
    static constexpr std::string_view type_name = "RepeatVector";
    static constexpr bool backward_reads_output = false;

    void initialize(Rng&) {}
    // x (B, F) -> y (B, N, F)
    void forward(const float* x, float* y, const ForwardContext& ctx) {
        for (std::size_t b = 0; b < ctx.batch; ++b)
            for (std::size_t n = 0; n < N; ++n) std::copy_n(x + b * F, F, y + (b * N + n) * F);
    }
    // dx = Σ over the N copies of dy, in step order.
    void backward(const float*, const float*, float* dy, float* dx, std::size_t batch, bool) {
        if (dx == nullptr) return;
        for (std::size_t b = 0; b < batch; ++b) {
            float* d = dx + b * F;
            std::copy_n(dy + b * N * F, F, d);
            for (std::size_t n = 1; n < N; ++n) {
                const float* src = dy + (b * N + n) * F;
                for (std::size_t j = 0; j < F; ++j) d[j] += src[j];
            }
        }
    }
    template <class Fn> void visit_parameters(Fn&&) {}
};

// keras.layers.RepeatVector(n).
template <std::size_t N>
struct RepeatVector {
    static_assert(N > 0, "RepeatVector<N>: N must be > 0");
    template <ShapeType S> using bind = RepeatVectorLayer<S, N>;
};

}  // namespace ctnn
