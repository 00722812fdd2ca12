// ctnn/core/parameter.hpp — one trainable array (a Dense kernel or bias) with its gradient.
//
// Layers own their Parameters; optimizers and weight files reach them through the layers'
// `visit_parameters`. Values live on the heap (a Dense<784,1000> kernel is 3.1 MB) in aligned
// buffers that are allocated once, when the layer is built.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "ctnn/core/tensor.hpp"

namespace ctnn {

struct Parameter {
    Parameter(std::string_view name_, std::size_t rows, std::size_t cols = 0)
        : name(name_), shape{rows, cols}, rank(cols == 0 ? 1 : 2),
          value(rows * (cols == 0 ? 1 : cols), 0.0f), gradient(value.size(), 0.0f) {}

    std::size_t size() const noexcept { return value.size(); }

    std::string_view name;             // "kernel" or "bias", as Keras names them
    std::array<std::size_t, 2> shape;  // (rows, cols); cols unused when rank == 1
    std::size_t rank;
    Buffer value;     // row-major, `shape`
    Buffer gradient;  // d(mean batch loss)/d(value), overwritten by every backward pass
};

}  // namespace ctnn
