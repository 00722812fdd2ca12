// ctnn/core/parameter.hpp — one array of a layer's state (a Dense kernel, a bias, a moving mean)
// with its gradient.
//
// Two kinds, as Keras's trainable and non-trainable weights. A trainable array is stepped by the
// optimizer along its gradient. A moving statistic (BatchNormalization's moving mean and variance)
// is never seen by the optimizer: its `gradient` buffer holds this step's batch statistic instead,
// weighted by the share of the global batch it was computed on, so that shards and ranks sum it
// exactly as they sum gradients; after the step, value = momentum·value + (1 − momentum)·sum.
//
// Layers own their Parameters; optimizers and weight files reach them through the layers'
// `visit_parameters`. Values live on the heap (a Dense<784,1000> kernel is 3.1 MB) in aligned
// buffers that are allocated once, when the layer is built. Shapes are Keras's: a Dense kernel is
// (in, out), a Conv2D kernel (kernel_h, kernel_w, in_channels, filters), a bias (units,).
#pragma once

#include <array>
#include <cstddef>
#include <initializer_list>
#include <string_view>
#include <vector>

#include "ctnn/config.hpp"
#include "ctnn/core/tensor.hpp"

namespace ctnn {

enum class ParameterKind { trainable, moving_statistic };

struct Parameter {
    static constexpr std::size_t max_rank = 4;

    // Parameter{"kernel", In, Out} (a matrix) or Parameter{"bias", Out} (a vector).
    Parameter(std::string_view name_, std::size_t rows, std::size_t cols = 0)
        : Parameter(name_, cols == 0 ? std::initializer_list<std::size_t>{rows}
                                     : std::initializer_list<std::size_t>{rows, cols}) {}
    // Any rank up to 4: Parameter{"kernel", {3, 3, 1, 32}}.
    Parameter(std::string_view name_, std::initializer_list<std::size_t> dims) : name(name_), rank(dims.size()) {
        CTNN_ASSERT(rank >= 1 && rank <= max_rank, "Parameter: rank must be 1 to 4");
        std::size_t count = 1, i = 0;
        for (std::size_t d : dims) {
            shape[i++] = d;
            count *= d;
        }
        value.assign(count, 0.0f);
        gradient.assign(count, 0.0f);
    }

    // A moving statistic: Parameter::moving_statistic("moving_mean", channels, 0.99f).
    static Parameter moving_statistic(std::string_view name_, std::size_t count, float momentum_) {
        Parameter p(name_, count);
        p.kind = ParameterKind::moving_statistic;
        p.momentum = momentum_;
        return p;
    }

    std::size_t size() const noexcept { return value.size(); }
    bool trainable() const noexcept { return kind == ParameterKind::trainable; }
    // After a training step, for a moving statistic: fold the step's statistic (in `gradient`) in.
    void update_moving_statistic() noexcept {
        for (std::size_t i = 0; i < value.size(); ++i) value[i] = momentum * value[i] + (1.0f - momentum) * gradient[i];
    }
    // The shape as numpy and Keras print it: (3, 3, 1, 32).
    std::vector<std::size_t> dims() const { return {shape.begin(), shape.begin() + static_cast<std::ptrdiff_t>(rank)}; }

    std::string_view name;                     // "kernel" or "bias", as Keras names them
    std::array<std::size_t, max_rank> shape{};  // the first `rank` entries are used
    std::size_t rank;
    Buffer value;     // row-major, `shape`
    Buffer gradient;  // d(mean batch loss)/d(value), overwritten by every backward pass (a moving
                      // statistic: this step's batch statistic, see above)
    ParameterKind kind = ParameterKind::trainable;
    float momentum = 0.0f;  // moving statistics only
};

}  // namespace ctnn
