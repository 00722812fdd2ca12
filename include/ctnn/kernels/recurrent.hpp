// ctnn/kernels/recurrent.hpp — SimpleRNN, LSTM and GRU (Keras 3's cells) unrolled over a
// compile-time number of steps, forward and backpropagation through time side by side.
//
// Why this shape: the sequence length is a template constant, so every buffer is sized once and the
// step loop allocates nothing. The input projection of all steps is ONE GEMM (T·B rows), each step
// is one small GEMM h_{t-1} · recurrent_kernel plus one fused pass of the gate nonlinearities, and
// backward sums the weight gradients of all steps in one GEMM each (K = T·B) instead of T small ones.
// Work runs time-major ((T, B, ·) rows) so each step's rows are contiguous for its GEMM; the input
// and output are transposed from and to Keras's (B, T, ·) at the edges. Oracles: the naive twins in
// kernels/reference_recurrent.hpp.
//
// Legend: B = batch (run time), T = steps, F = input features, U = units, G = gates per unit
// (SimpleRNN 1; LSTM 4 in Keras's order i, f, c, o; GRU 3 in order z, r, h), GU = G·U.
//   x (B, T, F)    kernel (F, GU)    recurrent_kernel (U, GU)    bias (GU), GRU (2, GU): input, recurrent
//   y (B, T, U) with return_sequences, else (B, U) the last state
#pragma once

#include <algorithm>
#include <cstddef>

#include "ctnn/activations.hpp"
#include "ctnn/core/tensor.hpp"
#include "ctnn/kernels/dense.hpp"
#include "ctnn/kernels/simd.hpp"

namespace ctnn::kernels {

// ---- the three cells: one step's nonlinearities forward and backward, on B rows of U units -------
// step: gates holds z_x = x_t · kernel + bias (B, GU) and becomes the activated gates; zh = h_{t-1} ·
// recurrent_kernel (+ recurrent bias for GRU); writes h (B, U) and, LSTM, the cell state c (GRU: c
// keeps zh's candidate part, which its backward needs).
// step_backward: dh (B, U) = dL/dh_t (through the output and the next step); writes dz (B, GU) =
// dL/dz_x and dzr = dL/dzh (the same for SimpleRNN and LSTM), carries dc (LSTM) to c_{t-1}, and for
// GRU leaves in dh the part of dL/dh_{t-1} that does not pass through the recurrent kernel (dh · z).

struct SimpleRnnCell {
    static constexpr std::size_t gates = 1;
    static constexpr bool recurrent_bias = false;  // GRU's reset_after bias: added in the recurrent product
    static constexpr bool direct_state_gradient = false;

    template <std::size_t U, class Arch>
    static void step(std::size_t batch, float* z, const float* zh, const float*, float* h, const float*, float*) {
        detail::simd_for<Arch>(0, batch * U, [=](std::size_t k, auto l) {
            detail::store(h + k, Tanh::forward(detail::load(l, z + k) + detail::load(l, zh + k)));
        });
    }
    template <std::size_t U, class Arch>
    static void step_backward(std::size_t batch, const float*, const float*, const float* h, const float*,
                              const float*, float* dh, float*, float* dz, float*) {
        detail::simd_for<Arch>(0, batch * U, [=](std::size_t k, auto l) {
            const auto y = detail::load(l, h + k);
            detail::store(dz + k, detail::load(l, dh + k) * (detail::splat(l, 1.0f) - y * y));
        });
    }
};

struct LstmCell {
    static constexpr std::size_t gates = 4;
    static constexpr bool recurrent_bias = false;
    static constexpr bool direct_state_gradient = false;

    // i = σ(z_i), f = σ(z_f), g = tanh(z_c), o = σ(z_o); c = f·c_{t-1} + i·g; h = o·tanh(c).
    template <std::size_t U, class Arch>
    static void step(std::size_t batch, float* z, const float* zh, const float*, float* h, const float* c_prev,
                     float* c) {
        for (std::size_t b = 0; b < batch; ++b) {
            float* zb = z + b * 4 * U;
            const float* zhb = zh + b * 4 * U;
            const float* cp = c_prev + b * U;
            float *cb = c + b * U, *hb = h + b * U;
            detail::simd_for<Arch>(0, U, [=](std::size_t j, auto l) {
                using detail::load, detail::store;
                const auto i = Sigmoid::forward(load(l, zb + j) + load(l, zhb + j));
                const auto f = Sigmoid::forward(load(l, zb + U + j) + load(l, zhb + U + j));
                const auto g = Tanh::forward(load(l, zb + 2 * U + j) + load(l, zhb + 2 * U + j));
                const auto o = Sigmoid::forward(load(l, zb + 3 * U + j) + load(l, zhb + 3 * U + j));
                const auto cell = f * load(l, cp + j) + i * g;
                store(zb + j, i);
                store(zb + U + j, f);
                store(zb + 2 * U + j, g);
                store(zb + 3 * U + j, o);
                store(cb + j, cell);
                store(hb + j, o * Tanh::forward(cell));
            });
        }
    }
    template <std::size_t U, class Arch>
    static void step_backward(std::size_t batch, const float* a, const float*, const float*, const float* c_prev,
                              const float* c, float* dh, float* dc, float* dz, float*) {
        for (std::size_t b = 0; b < batch; ++b) {
            const float* ab = a + b * 4 * U;
            const float *cp = c_prev + b * U, *cb = c + b * U, *dhb = dh + b * U;
            float *dcb = dc + b * U, *dzb = dz + b * 4 * U;
            detail::simd_for<Arch>(0, U, [=](std::size_t j, auto l) {
                using detail::load, detail::store;
                const auto one = detail::splat(l, 1.0f);
                const auto i = load(l, ab + j), f = load(l, ab + U + j), g = load(l, ab + 2 * U + j),
                           o = load(l, ab + 3 * U + j);
                const auto tc = Tanh::forward(load(l, cb + j));
                const auto d_h = load(l, dhb + j);
                const auto d_c = load(l, dcb + j) + d_h * o * (one - tc * tc);
                store(dzb + j, d_c * g * i * (one - i));
                store(dzb + U + j, d_c * load(l, cp + j) * f * (one - f));
                store(dzb + 2 * U + j, d_c * i * (one - g * g));
                store(dzb + 3 * U + j, d_h * tc * o * (one - o));
                store(dcb + j, d_c * f);
            });
        }
    }
};

// Keras's GRU with reset_after = true (its default, cuDNN's form): the reset gate multiplies the
// recurrent product, bias included: h̃ = tanh(x·W_h + b_h + r ⊙ (h·U_h + b'_h)).
struct GruCell {
    static constexpr std::size_t gates = 3;
    static constexpr bool recurrent_bias = true;
    static constexpr bool direct_state_gradient = true;

    // z = σ(·), r = σ(·), h̃ = tanh(z_x,h + r·zh_h); h = z·h_{t-1} + (1 − z)·h̃.
    template <std::size_t U, class Arch>
    static void step(std::size_t batch, float* z, const float* zh, const float* h_prev, float* h, const float*,
                     float* candidate) {
        for (std::size_t b = 0; b < batch; ++b) {
            float* zb = z + b * 3 * U;
            const float *zhb = zh + b * 3 * U, *hp = h_prev + b * U;
            float *hb = h + b * U, *cand = candidate + b * U;
            detail::simd_for<Arch>(0, U, [=](std::size_t j, auto l) {
                using detail::load, detail::store;
                const auto update = Sigmoid::forward(load(l, zb + j) + load(l, zhb + j));
                const auto reset = Sigmoid::forward(load(l, zb + U + j) + load(l, zhb + U + j));
                const auto recurrent_h = load(l, zhb + 2 * U + j);
                const auto hh = Tanh::forward(load(l, zb + 2 * U + j) + reset * recurrent_h);
                store(zb + j, update);
                store(zb + U + j, reset);
                store(zb + 2 * U + j, hh);
                store(cand + j, recurrent_h);
                store(hb + j, update * load(l, hp + j) + (detail::splat(l, 1.0f) - update) * hh);
            });
        }
    }
    template <std::size_t U, class Arch>
    static void step_backward(std::size_t batch, const float* a, const float* h_prev, const float*, const float*,
                              const float* candidate, float* dh, float*, float* dz, float* dzr) {
        for (std::size_t b = 0; b < batch; ++b) {
            const float *ab = a + b * 3 * U, *hp = h_prev + b * U, *cand = candidate + b * U;
            float *dhb = dh + b * U, *dzb = dz + b * 3 * U, *dzrb = dzr + b * 3 * U;
            detail::simd_for<Arch>(0, U, [=](std::size_t j, auto l) {
                using detail::load, detail::store;
                const auto one = detail::splat(l, 1.0f);
                const auto update = load(l, ab + j), reset = load(l, ab + U + j), hh = load(l, ab + 2 * U + j);
                const auto d_h = load(l, dhb + j);
                const auto d_update = d_h * (load(l, hp + j) - hh) * update * (one - update);
                const auto d_candidate = d_h * (one - update) * (one - hh * hh);  // w.r.t. h̃'s pre-activation
                const auto d_reset = d_candidate * load(l, cand + j) * reset * (one - reset);
                store(dzb + j, d_update);
                store(dzb + U + j, d_reset);
                store(dzb + 2 * U + j, d_candidate);
                store(dzrb + j, d_update);
                store(dzrb + U + j, d_reset);
                store(dzrb + 2 * U + j, d_candidate * reset);
                store(dhb + j, d_h * update);
            });
        }
    }
};

// What one recurrent layer keeps from forward for its backward, and its backward scratch, for up to
// `capacity` rows. Grown by reserve (once per fit), never in the step loop.
template <class Cell, std::size_t T, std::size_t F, std::size_t U>
struct recurrent_workspace {
    static constexpr std::size_t GU = Cell::gates * U;
    Buffer inputs;      // (T·B, F): x time-major
    Buffer gates;       // (T·B, GU): activated gates
    Buffer states;      // ((T + 1)·B, U): h_{-1} = 0, h_0 .. h_{T-1}
    Buffer cells;       // LSTM ((T + 1)·B, U): c_{-1} = 0, c_0 ..; GRU (T·B, U): zh's candidate part
    Buffer step;        // (B, GU): forward h·recurrent_kernel; backward dh·recurrent_kernelᵀ (B, U)
    Buffer dz, dzr;     // (T·B, GU): dL/dz_x, dL/dzh (dzr only for GRU)
    Buffer dh, dc;      // (B, U)
    Buffer dinputs;     // (T·B, F)
    Buffer dbias;       // (GU): the recurrent side's bias gradient when there is no recurrent bias
    std::size_t capacity = 0;

    void reserve(std::size_t batch) {
        if (batch <= capacity) return;
        capacity = batch;
        inputs.assign(T * batch * F, 0.0f);
        gates.assign(T * batch * GU, 0.0f);
        states.assign((T + 1) * batch * U, 0.0f);
        cells.assign((T + 1) * batch * U, 0.0f);
        step.assign(batch * GU, 0.0f);
        dz.assign(T * batch * GU, 0.0f);
        if constexpr (Cell::recurrent_bias) dzr.assign(T * batch * GU, 0.0f);
        dh.assign(batch * U, 0.0f);
        dc.assign(batch * U, 0.0f);
        dinputs.assign(T * batch * F, 0.0f);
        dbias.assign(GU, 0.0f);
    }
};

namespace detail {
// (B, T, N) <-> (T, B, N): whole rows of N floats.
template <std::size_t T, std::size_t N> void batch_major_to_time_major(std::size_t batch, const float* in, float* out) {
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t t = 0; t < T; ++t) std::copy_n(in + (b * T + t) * N, N, out + (t * batch + b) * N);
}
template <std::size_t T, std::size_t N> void time_major_to_batch_major(std::size_t batch, const float* in, float* out) {
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t t = 0; t < T; ++t) std::copy_n(in + (t * batch + b) * N, N, out + (b * T + t) * N);
}
}  // namespace detail

// y = the layer's output for x (see the legend); ws keeps what backward needs. ws.reserve(batch) first.
template <class Cell, std::size_t T, std::size_t F, std::size_t U, bool Sequences, class Arch = simd_arch>
void recurrent_forward(std::size_t batch, const float* x, const float* kernel, const float* recurrent_kernel,
                       const float* bias, recurrent_workspace<Cell, T, F, U>& ws, float* y) {
    constexpr std::size_t GU = Cell::gates * U;
    const std::size_t rows = batch * U;  // one step's state
    detail::batch_major_to_time_major<T, F>(batch, x, ws.inputs.data());
    dense_forward<F, GU, Linear, Arch>(T * batch, ws.inputs.data(), kernel, bias, ws.gates.data());
    float* h = ws.states.data();
    float* c = ws.cells.data();
    std::fill_n(h, rows, 0.0f);
    if constexpr (!Cell::recurrent_bias) std::fill_n(c, rows, 0.0f);
    const float* recurrent_bias = Cell::recurrent_bias ? bias + GU : nullptr;
    for (std::size_t t = 0; t < T; ++t) {
        const float* h_prev = h + t * rows;
        dense_forward<U, GU, Linear, Arch>(batch, h_prev, recurrent_kernel, recurrent_bias, ws.step.data());
        // LSTM: c_{t-1} in slot t, c_t to slot t + 1; GRU: the candidate part of step t in slot t.
        float* c_out = Cell::recurrent_bias ? c + t * rows : c + (t + 1) * rows;
        Cell::template step<U, Arch>(batch, ws.gates.data() + t * batch * GU, ws.step.data(), h_prev,
                                     h + (t + 1) * rows, c + t * rows, c_out);
    }
    if constexpr (Sequences) detail::time_major_to_batch_major<T, U>(batch, h + rows, y);
    else std::copy_n(h + T * rows, rows, y);
}

// Backpropagation through time. dy as y; overwrites dkernel (F, GU), drecurrent (U, GU), dbias (as
// bias) with the gradients of the mean batch loss, and dx (B, T, F) unless it is nullptr. ws must
// hold this batch's forward.
template <class Cell, std::size_t T, std::size_t F, std::size_t U, bool Sequences, class Arch = simd_arch>
void recurrent_backward(std::size_t batch, const float* dy, const float* kernel, const float* recurrent_kernel,
                        recurrent_workspace<Cell, T, F, U>& ws, float* dkernel, float* drecurrent, float* dbias,
                        float* dx) {
    constexpr std::size_t GU = Cell::gates * U;
    const std::size_t rows = batch * U;
    float* dh = ws.dh.data();
    float* dc = ws.dc.data();
    float* dzr_all = Cell::recurrent_bias ? ws.dzr.data() : ws.dz.data();
    if constexpr (Sequences) std::fill_n(dh, rows, 0.0f);
    else std::copy_n(dy, rows, dh);
    std::fill_n(dc, rows, 0.0f);
    const float* h = ws.states.data();
    const float* c = ws.cells.data();
    for (std::size_t t = T; t-- > 0;) {
        if constexpr (Sequences)
            for (std::size_t b = 0; b < batch; ++b) {
                const float* dyb = dy + (b * T + t) * U;
                float* dhb = dh + b * U;
                detail::simd_for<Arch>(0, U, [=](std::size_t j, auto l) {
                    detail::store(dhb + j, detail::load(l, dhb + j) + detail::load(l, dyb + j));
                });
            }
        float* dz = ws.dz.data() + t * batch * GU;
        float* dzr = dzr_all + t * batch * GU;
        const float* c_prev = Cell::recurrent_bias ? nullptr : c + t * rows;
        const float* c_now = Cell::recurrent_bias ? c + t * rows : c + (t + 1) * rows;
        Cell::template step_backward<U, Arch>(batch, ws.gates.data() + t * batch * GU, h + t * rows,
                                              h + (t + 1) * rows, c_prev, c_now, dh, dc, dz, dzr);
        if (t == 0) break;  // dL/dh_{-1} is not needed: the initial state is a constant
        // dL/dh_{t-1} = dzr · recurrent_kernelᵀ (+ the direct part GRU left in dh)
        dense_backward_data<U, GU, Arch>(batch, dzr, recurrent_kernel, ws.step.data());
        if constexpr (Cell::direct_state_gradient) {
            const float* through = ws.step.data();
            detail::simd_for<Arch>(0, rows, [=](std::size_t k, auto l) {
                detail::store(dh + k, detail::load(l, dh + k) + detail::load(l, through + k));
            });
        } else {
            std::copy_n(ws.step.data(), rows, dh);
        }
    }
    // All steps at once: dkernel = Σ_t x_tᵀ · dz_t, drecurrent = Σ_t h_{t-1}ᵀ · dzr_t.
    dense_backward_weights<F, GU, Arch>(T * batch, ws.inputs.data(), ws.dz.data(), dkernel, dbias);
    dense_backward_weights<U, GU, Arch>(T * batch, h, dzr_all, drecurrent,
                                        Cell::recurrent_bias ? dbias + GU : ws.dbias.data());
    if (dx != nullptr) {
        dense_backward_data<F, GU, Arch>(T * batch, ws.dz.data(), kernel, ws.dinputs.data());
        detail::time_major_to_batch_major<T, F>(batch, ws.dinputs.data(), dx);
    }
}

}  // namespace ctnn::kernels
