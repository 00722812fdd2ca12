// ctnn/kernels/reference_recurrent.hpp — naive twins of kernels/recurrent.hpp: Keras 3's cell
// formulas written out per sample, per step and per unit in double, sample-major, no GEMM and no
// time-major copies; backpropagation through time step by step. Do not tune these.
//
// Legend as kernels/recurrent.hpp: B batch, T steps, F features, U units; x (B, T, F),
// kernel (F, G·U), recurrent_kernel (U, G·U), bias (G·U) or GRU (2, 3U); y (B, T, U) or (B, U).
#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

namespace ctnn::kernels::reference {

enum class recurrent_cell { simple, lstm, gru };

constexpr std::size_t gates_of(recurrent_cell cell) {
    return cell == recurrent_cell::simple ? 1 : cell == recurrent_cell::lstm ? 4 : 3;
}

namespace detail {
inline double sigmoid(double v) { return 1.0 / (1.0 + std::exp(-v)); }

// Everything one sample's forward computes, kept for its backward (step-major vectors of doubles).
struct recurrent_trace {
    std::vector<double> h;       // (T + 1, U): h_{-1} = 0 first
    std::vector<double> c;       // LSTM (T + 1, U)
    std::vector<double> gates;   // (T, G·U) activated
    std::vector<double> zh;      // GRU (T, U): the recurrent candidate part h·U_h + b'_h
};

template <recurrent_cell Cell, std::size_t T, std::size_t F, std::size_t U>
recurrent_trace recurrent_sample(const float* x, const float* kernel, const float* recurrent_kernel, const float* bias) {
    constexpr std::size_t G = gates_of(Cell), GU = G * U;
    recurrent_trace tr{std::vector<double>((T + 1) * U, 0.0), std::vector<double>((T + 1) * U, 0.0),
                       std::vector<double>(T * GU, 0.0), std::vector<double>(T * U, 0.0)};
    for (std::size_t t = 0; t < T; ++t) {
        std::vector<double> zx(GU), zh(GU);
        for (std::size_t j = 0; j < GU; ++j) {
            double sx = bias[j], sh = Cell == recurrent_cell::gru ? bias[GU + j] : 0.0;
            for (std::size_t f = 0; f < F; ++f) sx += double(x[t * F + f]) * kernel[f * GU + j];
            for (std::size_t u = 0; u < U; ++u) sh += tr.h[t * U + u] * recurrent_kernel[u * GU + j];
            zx[j] = sx;
            zh[j] = sh;
        }
        double* a = tr.gates.data() + t * GU;
        for (std::size_t u = 0; u < U; ++u) {
            double& h = tr.h[(t + 1) * U + u];
            if constexpr (Cell == recurrent_cell::simple) {
                h = std::tanh(zx[u] + zh[u]);
            } else if constexpr (Cell == recurrent_cell::lstm) {
                const double i = sigmoid(zx[u] + zh[u]), f = sigmoid(zx[U + u] + zh[U + u]),
                             g = std::tanh(zx[2 * U + u] + zh[2 * U + u]), o = sigmoid(zx[3 * U + u] + zh[3 * U + u]);
                const double c = f * tr.c[t * U + u] + i * g;
                tr.c[(t + 1) * U + u] = c;
                h = o * std::tanh(c);
                a[u] = i, a[U + u] = f, a[2 * U + u] = g, a[3 * U + u] = o;
            } else {
                const double z = sigmoid(zx[u] + zh[u]), r = sigmoid(zx[U + u] + zh[U + u]);
                const double hh = std::tanh(zx[2 * U + u] + r * zh[2 * U + u]);
                h = z * tr.h[t * U + u] + (1.0 - z) * hh;
                a[u] = z, a[U + u] = r, a[2 * U + u] = hh;
                tr.zh[t * U + u] = zh[2 * U + u];
            }
        }
    }
    return tr;
}
}  // namespace detail

template <recurrent_cell Cell, std::size_t T, std::size_t F, std::size_t U, bool Sequences>
void recurrent_forward_naive(std::size_t batch, const float* x, const float* kernel, const float* recurrent_kernel,
                             const float* bias, float* y) {
    for (std::size_t b = 0; b < batch; ++b) {
        const auto tr = detail::recurrent_sample<Cell, T, F, U>(x + b * T * F, kernel, recurrent_kernel, bias);
        if constexpr (Sequences)
            for (std::size_t k = 0; k < T * U; ++k) y[b * T * U + k] = static_cast<float>(tr.h[U + k]);
        else
            for (std::size_t u = 0; u < U; ++u) y[b * U + u] = static_cast<float>(tr.h[T * U + u]);
    }
}

// Gradients of Σ_b Σ dy·y (dy as y): dkernel, drecurrent, dbias overwritten; dx (B, T, F) if not null.
template <recurrent_cell Cell, std::size_t T, std::size_t F, std::size_t U, bool Sequences>
void recurrent_backward_naive(std::size_t batch, const float* x, const float* dy, const float* kernel,
                              const float* recurrent_kernel, const float* bias, float* dkernel, float* drecurrent,
                              float* dbias, float* dx) {
    constexpr std::size_t G = gates_of(Cell), GU = G * U;
    constexpr std::size_t bias_size = Cell == recurrent_cell::gru ? 2 * GU : GU;
    std::vector<double> dk(F * GU, 0.0), dr(U * GU, 0.0), db(bias_size, 0.0);
    for (std::size_t b = 0; b < batch; ++b) {
        const float* xb = x + b * T * F;
        const auto tr = detail::recurrent_sample<Cell, T, F, U>(xb, kernel, recurrent_kernel, bias);
        std::vector<double> dh(U, 0.0), dc(U, 0.0);
        if constexpr (!Sequences)
            for (std::size_t u = 0; u < U; ++u) dh[u] = dy[b * U + u];
        for (std::size_t t = T; t-- > 0;) {
            if constexpr (Sequences)
                for (std::size_t u = 0; u < U; ++u) dh[u] += dy[(b * T + t) * U + u];
            const double* a = tr.gates.data() + t * GU;
            std::vector<double> dzx(GU), dzh(GU), dh_prev(U, 0.0);
            for (std::size_t u = 0; u < U; ++u) {
                if constexpr (Cell == recurrent_cell::simple) {
                    const double h = tr.h[(t + 1) * U + u];
                    dzx[u] = dzh[u] = dh[u] * (1.0 - h * h);
                } else if constexpr (Cell == recurrent_cell::lstm) {
                    const double i = a[u], f = a[U + u], g = a[2 * U + u], o = a[3 * U + u];
                    const double tc = std::tanh(tr.c[(t + 1) * U + u]);
                    const double dct = dc[u] + dh[u] * o * (1.0 - tc * tc);
                    dzx[u] = dct * g * i * (1.0 - i);
                    dzx[U + u] = dct * tr.c[t * U + u] * f * (1.0 - f);
                    dzx[2 * U + u] = dct * i * (1.0 - g * g);
                    dzx[3 * U + u] = dh[u] * tc * o * (1.0 - o);
                    for (std::size_t q = 0; q < 4; ++q) dzh[q * U + u] = dzx[q * U + u];
                    dc[u] = dct * f;
                } else {
                    const double z = a[u], r = a[U + u], hh = a[2 * U + u];
                    const double dpre = dh[u] * (1.0 - z) * (1.0 - hh * hh);
                    dzx[u] = dzh[u] = dh[u] * (tr.h[t * U + u] - hh) * z * (1.0 - z);
                    dzx[U + u] = dzh[U + u] = dpre * tr.zh[t * U + u] * r * (1.0 - r);
                    dzx[2 * U + u] = dpre;
                    dzh[2 * U + u] = dpre * r;
                    dh_prev[u] = dh[u] * z;
                }
            }
            for (std::size_t j = 0; j < GU; ++j) {
                for (std::size_t f = 0; f < F; ++f) dk[f * GU + j] += double(xb[t * F + f]) * dzx[j];
                for (std::size_t u = 0; u < U; ++u) dr[u * GU + j] += tr.h[t * U + u] * dzh[j];
                db[j] += dzx[j];
                if constexpr (Cell == recurrent_cell::gru) db[GU + j] += dzh[j];
            }
            if (dx != nullptr)
                for (std::size_t f = 0; f < F; ++f) {
                    double s = 0.0;
                    for (std::size_t j = 0; j < GU; ++j) s += dzx[j] * kernel[f * GU + j];
                    dx[(b * T + t) * F + f] = static_cast<float>(s);
                }
            for (std::size_t u = 0; u < U; ++u) {
                double s = dh_prev[u];
                for (std::size_t j = 0; j < GU; ++j) s += dzh[j] * recurrent_kernel[u * GU + j];
                dh[u] = s;
            }
        }
    }
    for (std::size_t k = 0; k < dk.size(); ++k) dkernel[k] = static_cast<float>(dk[k]);
    for (std::size_t k = 0; k < dr.size(); ++k) drecurrent[k] = static_cast<float>(dr[k]);
    for (std::size_t k = 0; k < db.size(); ++k) dbias[k] = static_cast<float>(db[k]);
}

}  // namespace ctnn::kernels::reference
