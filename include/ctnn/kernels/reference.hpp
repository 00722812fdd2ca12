// ctnn/kernels/reference.hpp — naive reference kernels: the oracle every fast kernel is tested
// against, and readable statements of what each kernel computes. Deliberately plain loops:
// no SIMD, no blocking, no threads. Do not tune these.
//
// Legend (as llm.c): B = batch (run time), In/Out/N = feature sizes (compile time).
// Every matrix is row-major and dense: (B, In) has row stride In.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "ctnn/activations.hpp"
#include "ctnn/core/random.hpp"

namespace ctnn::kernels::reference {

// y = Act(x · w + bias)            x (B, In), w (In, Out), bias (Out), y (B, Out)
template <std::size_t In, std::size_t Out, class Act>
void dense_forward_naive(std::size_t batch, const float* x, const float* w, const float* bias, float* y) {
    for (std::size_t r = 0; r < batch; ++r) {
        for (std::size_t o = 0; o < Out; ++o) {
            double acc = bias[o];
            for (std::size_t i = 0; i < In; ++i) acc += double(x[r * In + i]) * double(w[i * Out + o]);
            y[r * Out + o] = static_cast<float>(acc);
        }
        if constexpr (Act::elementwise) {
            for (std::size_t o = 0; o < Out; ++o) y[r * Out + o] = Act::forward(y[r * Out + o]);
        } else {
            float* row = y + r * Out;
            float mx = row[0];
            for (std::size_t o = 1; o < Out; ++o) mx = row[o] > mx ? row[o] : mx;
            double sum = 0;
            for (std::size_t o = 0; o < Out; ++o) sum += std::exp(double(row[o]) - mx);
            for (std::size_t o = 0; o < Out; ++o) row[o] = static_cast<float>(std::exp(double(row[o]) - mx) / sum);
        }
    }
}

// dx = dz · wᵀ                      dz (B, Out), w (In, Out), dx (B, In)
template <std::size_t In, std::size_t Out>
void dense_backward_data_naive(std::size_t batch, const float* dz, const float* w, float* dx) {
    for (std::size_t r = 0; r < batch; ++r)
        for (std::size_t i = 0; i < In; ++i) {
            double acc = 0;
            for (std::size_t o = 0; o < Out; ++o) acc += double(dz[r * Out + o]) * double(w[i * Out + o]);
            dx[r * In + i] = static_cast<float>(acc);
        }
}

// dw = xᵀ · dz, db = Σ_rows dz     (overwrite, not accumulate)  dw (In, Out), db (Out)
template <std::size_t In, std::size_t Out>
void dense_backward_weights_naive(std::size_t batch, const float* x, const float* dz, float* dw, float* db) {
    for (std::size_t i = 0; i < In; ++i)
        for (std::size_t o = 0; o < Out; ++o) {
            double acc = 0;
            for (std::size_t r = 0; r < batch; ++r) acc += double(x[r * In + i]) * double(dz[r * Out + o]);
            dw[i * Out + o] = static_cast<float>(acc);
        }
    for (std::size_t o = 0; o < Out; ++o) {
        double acc = 0;
        for (std::size_t r = 0; r < batch; ++r) acc += dz[r * Out + o];
        db[o] = static_cast<float>(acc);
    }
}

// In place: dy (gradient w.r.t. the activation's output y) becomes dz (w.r.t. its input).
// Elementwise: dz = dy · f'(z) written through y.  Softmax: dz = y ⊙ (dy − Σ dy⊙y) per row.
template <std::size_t N, class Act>
void activation_backward_naive(std::size_t batch, const float* y, float* dy) {
    for (std::size_t r = 0; r < batch; ++r) {
        const float* yr = y + r * N;
        float* dr = dy + r * N;
        if constexpr (Act::elementwise) {
            for (std::size_t c = 0; c < N; ++c) dr[c] *= Act::derivative_from_output(yr[c]);
        } else {
            double dot = 0;
            for (std::size_t c = 0; c < N; ++c) dot += double(dr[c]) * double(yr[c]);
            for (std::size_t c = 0; c < N; ++c) dr[c] = static_cast<float>(yr[c] * (dr[c] - dot));
        }
    }
}

// y = Act(x) for a stand-alone Activation layer (x and y may alias).
template <std::size_t N, class Act>
void activation_forward_naive(std::size_t batch, const float* x, float* y) {
    if constexpr (Act::elementwise) {
        for (std::size_t k = 0; k < batch * N; ++k) y[k] = Act::forward(x[k]);
    } else {
        for (std::size_t r = 0; r < batch; ++r) {
            const float* xr = x + r * N;
            float* yr = y + r * N;
            float mx = xr[0];
            for (std::size_t c = 1; c < N; ++c) mx = xr[c] > mx ? xr[c] : mx;
            double sum = 0;
            for (std::size_t c = 0; c < N; ++c) sum += std::exp(double(xr[c]) - mx);
            for (std::size_t c = 0; c < N; ++c) yr[c] = static_cast<float>(std::exp(double(xr[c]) - mx) / sum);
        }
    }
}

// Inverted dropout. keep[k] is 1 where unit k is kept; kept units are scaled by 1/(1-rate)
// so the expected activation is unchanged and inference needs no rescaling.
inline void dropout_forward_naive(std::size_t n, const float* x, const std::uint8_t* keep, float scale, float* y) {
    for (std::size_t k = 0; k < n; ++k) y[k] = keep[k] ? x[k] * scale : 0.0f;
}
inline void dropout_backward_naive(std::size_t n, const std::uint8_t* keep, float scale, float* dy) {
    for (std::size_t k = 0; k < n; ++k) dy[k] = keep[k] ? dy[k] * scale : 0.0f;
}

// Fused softmax + categorical cross-entropy gradient w.r.t. the logits: dz = (p − t) · scale,
// where scale is 1/B for a mean over the batch. p (B, N) probabilities, t (B, N) targets.
template <std::size_t N>
void softmax_crossentropy_backward_naive(std::size_t batch, const float* p, const float* t, float scale, float* dz) {
    for (std::size_t k = 0; k < batch * N; ++k) dz[k] = (p[k] - t[k]) * scale;
}

// Adam with Keras's "epsilon hat": param -= lr_t · m / (sqrt(v) + eps),
// lr_t = lr · sqrt(1 − β2^t) / (1 − β1^t) computed once per step by the caller.
inline void adam_update_naive(std::size_t n, float* param, const float* grad, float* m, float* v, float lr_t,
                              float beta1, float beta2, float epsilon) {
    for (std::size_t k = 0; k < n; ++k) {
        m[k] = beta1 * m[k] + (1.0f - beta1) * grad[k];
        v[k] = beta2 * v[k] + (1.0f - beta2) * grad[k] * grad[k];
        param[k] -= lr_t * m[k] / (std::sqrt(v[k]) + epsilon);
    }
}

// ---- Twins of the kernels added with the vectorised elementwise kernels (activation, dropout,
// ---- loss, optimizer headers). Same contracts; plain loops, double where sums are formed.

// keep[k] = 1 with probability 1 − rate: unit k takes the 16-bit chunk k % 4 (from the low end) of
// draw k / 4, and is kept when that chunk is >= round(rate · 2^16).  keep (n)
inline void dropout_make_mask_naive(std::size_t n, float rate, ctnn::Rng& rng, std::uint8_t* keep) {
    const auto threshold = static_cast<std::uint64_t>(static_cast<double>(rate) * 65536.0 + 0.5);
    std::uint64_t draw = 0;
    for (std::size_t k = 0; k < n; ++k) {
        if (k % 4 == 0) draw = rng.next_u64();
        const std::uint64_t chunk = (draw >> (16 * (k % 4))) & 0xFFFF;
        keep[k] = chunk >= threshold ? 1 : 0;
    }
}

// Keras clips probabilities to [epsilon, 1 − epsilon], epsilon = backend.epsilon() = 1e-7, in float32:
// the upper bound is float(1 − 1e-7) = 1 − 2^-23, so 1 − q can be 2^-23, not 1e-7. The bounds are
// those float values; everything else is double.
inline constexpr double loss_clip_low_naive = double(1e-7f);
inline constexpr double loss_clip_high_naive = double(1.0f - 1e-7f);
inline double clip_probability_naive(double p) {
    return p < loss_clip_low_naive ? loss_clip_low_naive : (p > loss_clip_high_naive ? loss_clip_high_naive : p);
}

// Σ_rows −Σ_cols t · log(clip(p / Σ_cols p))          p, t (B, N)
template <std::size_t N>
double categorical_crossentropy_sum_naive(std::size_t batch, const float* p, const float* t) {
    double total = 0;
    for (std::size_t r = 0; r < batch; ++r) {
        double sum = 0;
        for (std::size_t c = 0; c < N; ++c) sum += p[r * N + c];
        double row = 0;
        for (std::size_t c = 0; c < N; ++c) row -= double(t[r * N + c]) * std::log(clip_probability_naive(p[r * N + c] / sum));
        total += row;
    }
    return total;
}

// Σ_rows −log(clip(p[label] / Σ_cols p))               p (B, N), labels (B) in [0, N) (not checked here)
template <std::size_t N>
double sparse_categorical_crossentropy_sum_naive(std::size_t batch, const float* p, const std::int32_t* labels) {
    double total = 0;
    for (std::size_t r = 0; r < batch; ++r) {
        double sum = 0;
        for (std::size_t c = 0; c < N; ++c) sum += p[r * N + c];
        total -= std::log(clip_probability_naive(p[r * N + static_cast<std::size_t>(labels[r])] / sum));
    }
    return total;
}

// Σ_rows mean_cols (p − t)²                            p, t (B, N)
template <std::size_t N>
double mean_squared_error_sum_naive(std::size_t batch, const float* p, const float* t) {
    double total = 0;
    for (std::size_t r = 0; r < batch; ++r) {
        double row = 0;
        for (std::size_t c = 0; c < N; ++c) {
            const double d = double(p[r * N + c]) - double(t[r * N + c]);
            row += d * d;
        }
        total += row / N;
    }
    return total;
}

// Σ_rows mean_cols −(t log q + (1 − t) log(1 − q)), q = clip(p)     p, t (B, N)
template <std::size_t N>
double binary_crossentropy_sum_naive(std::size_t batch, const float* p, const float* t) {
    double total = 0;
    for (std::size_t r = 0; r < batch; ++r) {
        double row = 0;
        for (std::size_t c = 0; c < N; ++c) {
            const double q = clip_probability_naive(p[r * N + c]);
            const double tc = t[r * N + c];
            row -= tc * std::log(q) + (1.0 - tc) * std::log(1.0 - q);
        }
        total += row / N;
    }
    return total;
}

// numpy.argmax of one row: first maximum wins, a NaN counts as the maximum.
template <std::size_t N> std::size_t argmax_naive(const float* row) {
    std::size_t best = 0;
    for (std::size_t c = 0; c < N; ++c) {
        if (std::isnan(row[c])) return c;
        if (row[c] > row[best]) best = c;
    }
    return best;
}

// Rows whose argmax(p) == argmax(t).                   p, t (B, N)
template <std::size_t N> std::size_t argmax_match_count_naive(std::size_t batch, const float* p, const float* t) {
    std::size_t count = 0;
    for (std::size_t r = 0; r < batch; ++r) count += argmax_naive<N>(p + r * N) == argmax_naive<N>(t + r * N) ? 1 : 0;
    return count;
}

// Rows whose argmax(p) == labels[r].                   p (B, N), labels (B)
template <std::size_t N>
std::size_t argmax_label_match_count_naive(std::size_t batch, const float* p, const std::int32_t* labels) {
    std::size_t count = 0;
    for (std::size_t r = 0; r < batch; ++r)
        count += labels[r] >= 0 && argmax_naive<N>(p + r * N) == static_cast<std::size_t>(labels[r]) ? 1 : 0;
    return count;
}

// Keras 3 SGD: with momentum, velocity = momentum·velocity − lr·g and param += velocity (or, Nesterov,
// param += momentum·velocity − lr·g); without, param −= lr·g and velocity is not touched.
inline void sgd_update_naive(std::size_t n, float* param, const float* grad, float* velocity, float lr, float momentum,
                             bool nesterov) {
    for (std::size_t k = 0; k < n; ++k) {
        if (momentum == 0.0f) {
            param[k] -= lr * grad[k];
            continue;
        }
        velocity[k] = momentum * velocity[k] - lr * grad[k];
        param[k] += nesterov ? momentum * velocity[k] - lr * grad[k] : velocity[k];
    }
}

// Keras 3 RMSprop: avg_sq = rho·avg_sq + (1 − rho)·g², param −= lr·g / sqrt(avg_sq + epsilon).
inline void rmsprop_update_naive(std::size_t n, float* param, const float* grad, float* avg_sq, float lr, float rho,
                                 float epsilon) {
    for (std::size_t k = 0; k < n; ++k) {
        avg_sq[k] = rho * avg_sq[k] + (1.0f - rho) * grad[k] * grad[k];
        param[k] -= lr * grad[k] / std::sqrt(avg_sq[k] + epsilon);
    }
}

}  // namespace ctnn::kernels::reference
