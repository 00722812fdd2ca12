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
#include <vector>

#include "ctnn/activations.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/kernels/conv.hpp"
#include "ctnn/kernels/pool.hpp"

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

// ---- Convolution and pooling (kernels/conv.hpp, kernels/pool.hpp) --------------------------------
// NHWC as Keras: x (B, H, W, C), kernel (KH, KW, C, F), y (B, OH, OW, F); G holds every size but B.
// Input row ih = oh·SH − pad_top + kh, column iw = ow·SW − pad_left + kw; outside the input, x is 0.

// Index of x (b, ih, iw, c) in a (B, H, W, C) buffer, or -1 when (ih, iw) falls in the padding.
template <conv2d_geometry G>
std::ptrdiff_t conv2d_input_index_naive(std::size_t b, std::size_t oh, std::size_t ow, std::size_t kh, std::size_t kw,
                                        std::size_t c) {
    const auto ih = std::ptrdiff_t(oh * G.stride_h + kh) - std::ptrdiff_t(G.pad_top);
    const auto iw = std::ptrdiff_t(ow * G.stride_w + kw) - std::ptrdiff_t(G.pad_left);
    if (ih < 0 || iw < 0 || ih >= std::ptrdiff_t(G.height) || iw >= std::ptrdiff_t(G.width)) return -1;
    return std::ptrdiff_t(((b * G.height + std::size_t(ih)) * G.width + std::size_t(iw)) * G.channels + c);
}

// y = Act(conv(x, kernel) + bias)     x (B, H, W, C), kernel (KH, KW, C, F), bias (F), y (B, OH, OW, F)
template <conv2d_geometry G, class Act>
void conv2d_forward_naive(std::size_t batch, const float* x, const float* kernel, const float* bias, float* y) {
    static_assert(Act::elementwise, "conv2d_forward_naive: elementwise activations only");
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t oh = 0; oh < G.out_height; ++oh)
            for (std::size_t ow = 0; ow < G.out_width; ++ow)
                for (std::size_t f = 0; f < G.filters; ++f) {
                    double acc = bias[f];
                    for (std::size_t kh = 0; kh < G.kernel_h; ++kh)
                        for (std::size_t kw = 0; kw < G.kernel_w; ++kw)
                            for (std::size_t c = 0; c < G.channels; ++c) {
                                const std::ptrdiff_t i = conv2d_input_index_naive<G>(b, oh, ow, kh, kw, c);
                                if (i >= 0)
                                    acc += double(x[i]) *
                                           double(kernel[((kh * G.kernel_w + kw) * G.channels + c) * G.filters + f]);
                            }
                    y[((b * G.out_height + oh) * G.out_width + ow) * G.filters + f] =
                        Act::forward(static_cast<float>(acc));
                }
}

// dx = ∂(Σ dz ⊙ conv(x))/∂x (overwrite)    dz (B, OH, OW, F), kernel (KH, KW, C, F), dx (B, H, W, C)
template <conv2d_geometry G>
void conv2d_backward_data_naive(std::size_t batch, const float* dz, const float* kernel, float* dx) {
    std::vector<double> acc(batch * G.input_size(), 0.0);
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t oh = 0; oh < G.out_height; ++oh)
            for (std::size_t ow = 0; ow < G.out_width; ++ow)
                for (std::size_t kh = 0; kh < G.kernel_h; ++kh)
                    for (std::size_t kw = 0; kw < G.kernel_w; ++kw)
                        for (std::size_t c = 0; c < G.channels; ++c) {
                            const std::ptrdiff_t i = conv2d_input_index_naive<G>(b, oh, ow, kh, kw, c);
                            if (i < 0) continue;
                            for (std::size_t f = 0; f < G.filters; ++f)
                                acc[std::size_t(i)] +=
                                    double(dz[((b * G.out_height + oh) * G.out_width + ow) * G.filters + f]) *
                                    double(kernel[((kh * G.kernel_w + kw) * G.channels + c) * G.filters + f]);
                        }
    for (std::size_t i = 0; i < acc.size(); ++i) dx[i] = static_cast<float>(acc[i]);
}

// dkernel = Σ_{b, oh, ow} window ⊗ dz, dbias = Σ dz (overwrite; sums over the batch, not means)
//   x (B, H, W, C), dz (B, OH, OW, F), dkernel (KH, KW, C, F), dbias (F)
template <conv2d_geometry G>
void conv2d_backward_weights_naive(std::size_t batch, const float* x, const float* dz, float* dkernel, float* dbias) {
    for (std::size_t kh = 0; kh < G.kernel_h; ++kh)
        for (std::size_t kw = 0; kw < G.kernel_w; ++kw)
            for (std::size_t c = 0; c < G.channels; ++c)
                for (std::size_t f = 0; f < G.filters; ++f) {
                    double acc = 0;
                    for (std::size_t b = 0; b < batch; ++b)
                        for (std::size_t oh = 0; oh < G.out_height; ++oh)
                            for (std::size_t ow = 0; ow < G.out_width; ++ow) {
                                const std::ptrdiff_t i = conv2d_input_index_naive<G>(b, oh, ow, kh, kw, c);
                                if (i >= 0)
                                    acc += double(x[i]) *
                                           double(dz[((b * G.out_height + oh) * G.out_width + ow) * G.filters + f]);
                            }
                    dkernel[((kh * G.kernel_w + kw) * G.channels + c) * G.filters + f] = static_cast<float>(acc);
                }
    for (std::size_t f = 0; f < G.filters; ++f) {
        double acc = 0;
        for (std::size_t r = 0; r < batch * G.positions(); ++r) acc += dz[r * G.filters + f];
        dbias[f] = static_cast<float>(acc);
    }
}

// Index of x (b, oh·SH + i, ow·SW + j, c) in a (B, H, W, C) buffer.
template <pool2d_geometry G>
std::size_t pool2d_input_index_naive(std::size_t b, std::size_t oh, std::size_t ow, std::size_t i, std::size_t j,
                                     std::size_t c) {
    return ((b * G.height + oh * G.stride_h + i) * G.width + ow * G.stride_w + j) * G.channels + c;
}

// Position (in x) of the first maximum of window (b, oh, ow), channel c, in row-major window order.
template <pool2d_geometry G>
std::size_t max_pool2d_argmax_naive(const float* x, std::size_t b, std::size_t oh, std::size_t ow, std::size_t c) {
    std::size_t best = pool2d_input_index_naive<G>(b, oh, ow, 0, 0, c);
    for (std::size_t i = 0; i < G.pool_h; ++i)
        for (std::size_t j = 0; j < G.pool_w; ++j) {
            const std::size_t at = pool2d_input_index_naive<G>(b, oh, ow, i, j, c);
            if (x[at] > x[best]) best = at;
        }
    return best;
}

// y = max over each window    x (B, H, W, C), y (B, OH, OW, C)
template <pool2d_geometry G> void max_pool2d_forward_naive(std::size_t batch, const float* x, float* y) {
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t oh = 0; oh < G.out_height; ++oh)
            for (std::size_t ow = 0; ow < G.out_width; ++ow)
                for (std::size_t c = 0; c < G.channels; ++c)
                    y[((b * G.out_height + oh) * G.out_width + ow) * G.channels + c] =
                        x[max_pool2d_argmax_naive<G>(x, b, oh, ow, c)];
}

// dx = 0, then dy added at the first maximum of its window    x, dx (B, H, W, C), dy (B, OH, OW, C)
template <pool2d_geometry G>
void max_pool2d_backward_naive(std::size_t batch, const float* x, const float* dy, float* dx) {
    std::vector<double> acc(batch * G.input_size(), 0.0);
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t oh = 0; oh < G.out_height; ++oh)
            for (std::size_t ow = 0; ow < G.out_width; ++ow)
                for (std::size_t c = 0; c < G.channels; ++c)
                    acc[max_pool2d_argmax_naive<G>(x, b, oh, ow, c)] +=
                        dy[((b * G.out_height + oh) * G.out_width + ow) * G.channels + c];
    for (std::size_t i = 0; i < acc.size(); ++i) dx[i] = static_cast<float>(acc[i]);
}

// y = mean over each window (PH·PW elements)    x (B, H, W, C), y (B, OH, OW, C)
template <pool2d_geometry G> void average_pool2d_forward_naive(std::size_t batch, const float* x, float* y) {
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t oh = 0; oh < G.out_height; ++oh)
            for (std::size_t ow = 0; ow < G.out_width; ++ow)
                for (std::size_t c = 0; c < G.channels; ++c) {
                    double sum = 0;
                    for (std::size_t i = 0; i < G.pool_h; ++i)
                        for (std::size_t j = 0; j < G.pool_w; ++j)
                            sum += x[pool2d_input_index_naive<G>(b, oh, ow, i, j, c)];
                    y[((b * G.out_height + oh) * G.out_width + ow) * G.channels + c] =
                        static_cast<float>(sum / double(G.pool_h * G.pool_w));
                }
}

// dx = 0, then dy / (PH·PW) added on every element of its window    dy (B, OH, OW, C), dx (B, H, W, C)
template <pool2d_geometry G> void average_pool2d_backward_naive(std::size_t batch, const float* dy, float* dx) {
    std::vector<double> acc(batch * G.input_size(), 0.0);
    for (std::size_t b = 0; b < batch; ++b)
        for (std::size_t oh = 0; oh < G.out_height; ++oh)
            for (std::size_t ow = 0; ow < G.out_width; ++ow)
                for (std::size_t c = 0; c < G.channels; ++c)
                    for (std::size_t i = 0; i < G.pool_h; ++i)
                        for (std::size_t j = 0; j < G.pool_w; ++j)
                            acc[pool2d_input_index_naive<G>(b, oh, ow, i, j, c)] +=
                                double(dy[((b * G.out_height + oh) * G.out_width + ow) * G.channels + c]) /
                                double(G.pool_h * G.pool_w);
    for (std::size_t i = 0; i < acc.size(); ++i) dx[i] = static_cast<float>(acc[i]);
}

}  // namespace ctnn::kernels::reference
