// ctnn/kernels/optimizer.hpp — per-parameter update loops of the optimizers.
#pragma once

#include <cstddef>

#include "ctnn/kernels/reference.hpp"

namespace ctnn::kernels {

inline void adam_update(std::size_t n, float* param, const float* grad, float* m, float* v, float lr_t, float beta1,
                        float beta2, float epsilon) {
    reference::adam_update_naive(n, param, grad, m, v, lr_t, beta1, beta2, epsilon);
}

}  // namespace ctnn::kernels
