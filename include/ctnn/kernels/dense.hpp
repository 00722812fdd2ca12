// ctnn/kernels/dense.hpp — the three matrix products of a Dense layer, statically sized.
// B = batch (run time); In, Out compile time. Row-major. Same contracts as the naive twins
// in kernels/reference.hpp, which the tests compare against.
#pragma once

#include <cstddef>

#include "ctnn/kernels/reference.hpp"

namespace ctnn::kernels {

// y = Act(x · w + bias)        x (B, In), w (In, Out), bias (Out), y (B, Out)
template <std::size_t In, std::size_t Out, class Act>
void dense_forward(std::size_t batch, const float* x, const float* w, const float* bias, float* y) {
    reference::dense_forward_naive<In, Out, Act>(batch, x, w, bias, y);
}

// dx = dz · wᵀ                  dz (B, Out), w (In, Out), dx (B, In)
template <std::size_t In, std::size_t Out>
void dense_backward_data(std::size_t batch, const float* dz, const float* w, float* dx) {
    reference::dense_backward_data_naive<In, Out>(batch, dz, w, dx);
}

// dw = xᵀ · dz, db = column sums of dz (overwrite)   dw (In, Out), db (Out)
template <std::size_t In, std::size_t Out>
void dense_backward_weights(std::size_t batch, const float* x, const float* dz, float* dw, float* db) {
    reference::dense_backward_weights_naive<In, Out>(batch, x, dz, dw, db);
}

}  // namespace ctnn::kernels
