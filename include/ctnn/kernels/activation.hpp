// ctnn/kernels/activation.hpp — activation forward/backward over a (B, N) block, xsimd-vectorised.
// Elementwise activations run their policy's forward/derivative_from_output on a batch in the
// vector body and on a float in the tail; Softmax is row-wise. Oracles: the *_naive twins in
// kernels/reference.hpp. Not here: the fused bias+activation of Dense (kernels/dense.hpp).
//
// B = batch (run time), N = features (compile time); row-major, row stride N.
#pragma once

#include <cstddef>
#include <limits>

#include "ctnn/activations.hpp"
#include "ctnn/kernels/simd.hpp"

namespace ctnn::kernels {

namespace detail {

// One softmax row, max-subtracted so exp never overflows:
// y = exp(x − max x) / Σ exp(x − max x).   x, y (N), may alias.
template <std::size_t N, class Arch> inline void softmax_row(const float* x, float* y) noexcept {
    lane_accumulator<Arch> mx(-std::numeric_limits<float>::infinity());
    simd_for<Arch>(0, N, [&](std::size_t k, auto l) { mx.at(l) = xsimd::max(mx.at(l), load(l, x + k)); });
    const float row_max = mx.max();
    // exp and sum in separate passes: a store and an accumulation in one body would make the
    // accumulator round-trip through memory (see simd_for); the row is in L1 either way.
    simd_for<Arch>(0, N, [=](std::size_t k, auto l) { store(y + k, xsimd::exp(load(l, x + k) - splat(l, row_max))); });
    lane_accumulator<Arch> sum(0.0f);
    simd_for<Arch>(0, N, [&](std::size_t k, auto l) { sum.at(l) += load(l, y + k); });
    const float inv = 1.0f / sum.sum();
    simd_for<Arch>(0, N, [=](std::size_t k, auto l) { store(y + k, load(l, y + k) * splat(l, inv)); });
}

// dz = y ⊙ (dy − Σ dy⊙y) for one row, in place on dy.   y, dy (N)
template <std::size_t N, class Arch> inline void softmax_backward_row(const float* y, float* dy) noexcept {
    lane_accumulator<Arch> dot(0.0f);
    simd_for<Arch>(0, N, [&](std::size_t k, auto l) { dot.at(l) += load(l, dy + k) * load(l, y + k); });
    const float d = dot.sum();
    simd_for<Arch>(0, N, [=](std::size_t k, auto l) {
        store(dy + k, load(l, y + k) * (load(l, dy + k) - splat(l, d)));
    });
}

}  // namespace detail

// y = Act(x), row-wise for Softmax; x and y may alias.       x, y (B, N)
template <std::size_t N, class Act, class Arch = simd_arch>
inline void activation_forward(std::size_t batch, const float* x, float* y) {
    static_assert(N > 0, "activation_forward<N, Act>: N must be > 0");
    if constexpr (Act::elementwise) {
        detail::simd_for_parallel<Arch>(batch * N, [=](std::size_t k, auto l) {
            detail::store(y + k, Act::forward(detail::load(l, x + k)));
        });
    } else {
        if (!detail::worth_threads(batch * N)) {
            for (std::size_t r = 0; r < batch; ++r) detail::softmax_row<N, Arch>(x + r * N, y + r * N);
            return;
        }
        detail::parallel_parts(batch, 1, [&](std::size_t first, std::size_t last) {
            for (std::size_t r = first; r < last; ++r) detail::softmax_row<N, Arch>(x + r * N, y + r * N);
        });
    }
}

// In place: dy (w.r.t. y = Act(z)) becomes dz (w.r.t. z).    y, dy (B, N)
// Elementwise: dz = dy · f'(z), with f' written through y.  Softmax: dz = y ⊙ (dy − Σ dy⊙y) per row.
template <std::size_t N, class Act, class Arch = simd_arch>
inline void activation_backward(std::size_t batch, const float* y, float* dy) {
    static_assert(N > 0, "activation_backward<N, Act>: N must be > 0");
    if constexpr (Act::elementwise) {
        detail::simd_for_parallel<Arch>(batch * N, [=](std::size_t k, auto l) {
            detail::store(dy + k, detail::load(l, dy + k) * Act::derivative_from_output(detail::load(l, y + k)));
        });
    } else {
        if (!detail::worth_threads(batch * N)) {
            for (std::size_t r = 0; r < batch; ++r) detail::softmax_backward_row<N, Arch>(y + r * N, dy + r * N);
            return;
        }
        detail::parallel_parts(batch, 1, [&](std::size_t first, std::size_t last) {
            for (std::size_t r = first; r < last; ++r) detail::softmax_backward_row<N, Arch>(y + r * N, dy + r * N);
        });
    }
}

// The same out of place for an elementwise Act: dz = dy · f'(z) written to dz (which may be dy),
// dy left as it was; one pass where the in-place form and a copy to the layer before take two.
template <std::size_t N, class Act, class Arch = simd_arch>
inline void activation_backward(std::size_t batch, const float* y, const float* dy, float* dz) {
    static_assert(Act::elementwise, "activation_backward<N, Act>(batch, y, dy, dz): elementwise activations only");
    detail::simd_for_parallel<Arch>(batch * N, [=](std::size_t k, auto l) {
        detail::store(dz + k, detail::load(l, dy + k) * Act::derivative_from_output(detail::load(l, y + k)));
    });
}

}  // namespace ctnn::kernels
