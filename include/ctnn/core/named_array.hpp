// ctnn/core/named_array.hpp — one named array of weights, as Keras names them and numpy stores them:
// what a model hands to callbacks (get_weights) and what .npz files hold (io/npz.hpp).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace ctnn {

struct NamedArray {
    std::string name;                // e.g. "dense/kernel"; stored as "dense/kernel.npy"
    std::vector<std::size_t> shape;  // () for a scalar
    std::vector<float> values;       // C (row-major) order, product(shape) of them
};

namespace io {
using ctnn::NamedArray;  // the name it had before it moved to core
}  // namespace io

}  // namespace ctnn
