// ctnn/kernels/optimizer.hpp — the per-parameter update loops of SGD, RMSprop and Adam (Keras 3
// formulas), xsimd-vectorised and split over threads for large parameter blocks. Per-step scalars
// (bias corrections, schedules) are computed by the caller; state buffers live in the optimizer.
// Oracles: the *_naive twins in kernels/reference.hpp.
//
// n = number of parameters; param, grad and every state buffer are (n).
#pragma once

#include <cstddef>

#include "ctnn/kernels/simd.hpp"

namespace ctnn::kernels {

// Keras 3 SGD.  momentum ≠ 0:  velocity = momentum · velocity − lr · g,
//                              param += nesterov ? momentum · velocity − lr · g : velocity.
//               momentum = 0:  param −= lr · g  (velocity untouched; it may be nullptr then).
template <class Arch = simd_arch>
inline void sgd_update(std::size_t n, float* param, const float* grad, float* velocity, float lr, float momentum,
                       bool nesterov) {
    if (momentum == 0.0f) {
        detail::simd_for_parallel<Arch>(n, [=](std::size_t k, auto l) {
            detail::store(param + k, detail::load(l, param + k) - detail::splat(l, lr) * detail::load(l, grad + k));
        });
        return;
    }
    detail::simd_for_parallel<Arch>(n, [=](std::size_t k, auto l) {
        const auto step = detail::splat(l, lr) * detail::load(l, grad + k);  // lr · g
        const auto vel = detail::splat(l, momentum) * detail::load(l, velocity + k) - step;
        detail::store(velocity + k, vel);
        const auto delta = nesterov ? detail::splat(l, momentum) * vel - step : vel;
        detail::store(param + k, detail::load(l, param + k) + delta);
    });
}

// Keras 3 RMSprop (centered = false, momentum = 0):
// avg_sq = rho · avg_sq + (1 − rho) · g²;  param −= lr · g / sqrt(avg_sq + epsilon).
template <class Arch = simd_arch>
inline void rmsprop_update(std::size_t n, float* param, const float* grad, float* avg_sq, float lr, float rho,
                           float epsilon) {
    detail::simd_for_parallel<Arch>(n, [=](std::size_t k, auto l) {
        const auto g = detail::load(l, grad + k);
        const auto a = detail::splat(l, rho) * detail::load(l, avg_sq + k) + detail::splat(l, 1.0f - rho) * (g * g);
        detail::store(avg_sq + k, a);
        detail::store(param + k,
                      detail::load(l, param + k) - detail::splat(l, lr) * g / xsimd::sqrt(a + detail::splat(l, epsilon)));
    });
}

// Adam with Keras's "epsilon hat": m = β1·m + (1 − β1)·g, v = β2·v + (1 − β2)·g²,
// param −= lr_t · m / (sqrt(v) + epsilon), where the caller computes once per step
// lr_t = lr · sqrt(1 − β2^t) / (1 − β1^t).
template <class Arch = simd_arch>
inline void adam_update(std::size_t n, float* param, const float* grad, float* m, float* v, float lr_t, float beta1,
                        float beta2, float epsilon) {
    detail::simd_for_parallel<Arch>(n, [=](std::size_t k, auto l) {
        const auto g = detail::load(l, grad + k);
        const auto mk = detail::splat(l, beta1) * detail::load(l, m + k) + detail::splat(l, 1.0f - beta1) * g;
        const auto vk = detail::splat(l, beta2) * detail::load(l, v + k) + detail::splat(l, 1.0f - beta2) * g * g;
        detail::store(m + k, mk);
        detail::store(v + k, vk);
        detail::store(param + k, detail::load(l, param + k) -
                                     detail::splat(l, lr_t) * mk / (xsimd::sqrt(vk) + detail::splat(l, epsilon)));
    });
}

}  // namespace ctnn::kernels
