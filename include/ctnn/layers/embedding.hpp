// ctnn/layers/embedding.hpp — Embedding<InputDim, OutputDim>: Keras's Embedding, a learned vector per
// token id. A sample Shape<Steps> of token ids (floats in the input matrix, cast to int as Keras
// casts them) becomes Shape<Steps, OutputDim>.
//
// embeddings (InputDim, OutputDim), uniform(−0.05, 0.05) as Keras. An id outside [0, InputDim) is a
// run-time error naming the id and where it is (never a read out of bounds). Ids have no gradient.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

#include "ctnn/core/concepts.hpp"
#include "ctnn/core/parameter.hpp"
#include "ctnn/core/shape.hpp"
#include "ctnn/layers/initializers.hpp"

namespace ctnn {

namespace diagnostics {
// Embedding reads token ids: a Shape<Steps> (Input<Steps>). InputShape is what came before it.
template <class InputShape> struct embedding_input_is_a_shape_of_token_ids_steps {
    static constexpr bool value = InputShape::rank == 1;
};
}  // namespace diagnostics

template <ShapeType InputShape, std::size_t InputDim, std::size_t OutputDim>
class EmbeddingLayer {
    static_assert(diagnostics::embedding_input_is_a_shape_of_token_ids_steps<InputShape>::value,
                  "Embedding<InputDim, OutputDim>: its input must be token ids, Shape<Steps> (start the model with "
                  "Input<Steps>; the note names the shape it got)");
    static constexpr std::size_t T = InputShape::size;

public:
    using input_shape = InputShape;
    using output_shape = Shape<T, OutputDim>;
    static constexpr std::size_t param_count = InputDim * OutputDim;
    static constexpr std::string_view kind = "embedding";
    static constexpr std::string_view type_name = "Embedding";
    static constexpr bool backward_reads_output = false;

    Parameter embeddings{"embeddings", InputDim, OutputDim};

    void initialize(Rng& rng) { initializers::uniform(embeddings, -0.05f, 0.05f, rng); }

    // ids (B, T) -> y (B, T, OutputDim): row id of the table for every step.
    void forward(const float* ids, float* y, const ForwardContext& ctx) {
        for (std::size_t k = 0; k < ctx.batch * T; ++k) {
            const std::size_t id = checked_id(ids, k);
            std::copy_n(embeddings.value.data() + id * OutputDim, OutputDim, y + k * OutputDim);
        }
    }
    // dembeddings = Σ over every step of dy into its id's row (in sample order: the same bits at any
    // thread count); the ids get no gradient (dx zeros).
    void backward(const float* ids, const float*, float* dy, float* dx, std::size_t batch, bool) {
        float* g = embeddings.gradient.data();
        std::fill(embeddings.gradient.begin(), embeddings.gradient.end(), 0.0f);
        for (std::size_t k = 0; k < batch * T; ++k) {
            float* row = g + static_cast<std::size_t>(ids[k]) * OutputDim;  // checked in forward
            const float* d = dy + k * OutputDim;
            for (std::size_t j = 0; j < OutputDim; ++j) row[j] += d[j];
        }
        if (dx != nullptr) std::fill(dx, dx + batch * T, 0.0f);
    }
    template <class F> void visit_parameters(F&& f) { f(embeddings); }

private:
    static std::size_t checked_id(const float* ids, std::size_t k) {
        const float v = ids[k];
        if (!(v >= 0.0f && v < static_cast<float>(InputDim)))  // NaN fails too
            throw std::out_of_range("Embedding<" + std::to_string(InputDim) + ", " + std::to_string(OutputDim) +
                                    ">: token id " + std::to_string(v) + " at sample " + std::to_string(k / T) +
                                    ", step " + std::to_string(k % T) + " is outside [0, " + std::to_string(InputDim) +
                                    "); expected an integer id below the vocabulary size");
        return static_cast<std::size_t>(v);  // truncation, as Keras's cast to int32
    }
};

// keras.layers.Embedding(input_dim, output_dim).
template <std::size_t InputDim, std::size_t OutputDim>
struct Embedding {
    static_assert(InputDim > 0 && OutputDim > 0, "Embedding<InputDim, OutputDim>: both sizes must be > 0");
    template <ShapeType S> using bind = EmbeddingLayer<S, InputDim, OutputDim>;
};

}  // namespace ctnn
