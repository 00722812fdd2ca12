// ctnn/kernels/loss.hpp — loss values, accuracy counts and the fused softmax + CE gradient over a
// (B, N) block of probabilities p and targets t (or integer labels), xsimd-vectorised along rows.
// Loss kernels return the SUM over the batch (the caller divides), as double; each row is reduced
// on its own and rows are added in order, so the result does not depend on the thread count.
// Keras numerics (backend.epsilon() = 1e-7 clipping). Oracles: the *_naive twins in reference.hpp.
//
// B = batch (run time), N = classes/features (compile time); row-major, row stride N.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "ctnn/kernels/simd.hpp"

namespace ctnn::kernels {

namespace detail {

// Keras backend.epsilon(): probabilities are clipped to [eps, 1 − eps] before a log. In float, as
// Keras computes it: 1 − eps rounds to 1 − 2^-23, so a certain miss costs −log 2^-23 ≈ 15.94.
inline constexpr float loss_epsilon = 1e-7f;

template <class T> inline T clip_probability(T p) noexcept {
    using lane_t = lane<T>;
    return xsimd::min(xsimd::max(p, splat(lane_t{}, loss_epsilon)), splat(lane_t{}, 1.0f - loss_epsilon));
}

// Σ_r row_value(r) in double, rows added in order. Large blocks compute the rows on all threads into
// a buffer first; both paths add the same numbers in the same order, so they agree bit for bit.
template <class RowValue> inline double sum_rows(std::size_t batch, std::size_t work, RowValue row_value) {
    double total = 0.0;
    if (!worth_threads(work)) {
        for (std::size_t r = 0; r < batch; ++r) total += row_value(r);
        return total;
    }
    std::vector<double> per_row(batch);  // (B)
    parallel_parts(batch, 1, [&](std::size_t first, std::size_t last) {
        for (std::size_t r = first; r < last; ++r) per_row[r] = row_value(r);
    });
    for (double v : per_row) total += v;
    return total;
}

// Number of rows r in [0, batch) with matches(r): each thread counts its rows, the counts are added
// in thread order (integers: exact in any order anyway).
template <class Matches> inline std::size_t count_rows(std::size_t batch, std::size_t work, Matches matches) {
    std::size_t count = 0;
    if (!worth_threads(work)) {
        for (std::size_t r = 0; r < batch; ++r) count += matches(r) ? 1 : 0;
        return count;
    }
    struct alignas(64) partial {  // one cache line per thread
        std::size_t count = 0;
    };
    std::vector<partial> per_thread(static_cast<std::size_t>(parallel::max_threads()));
    parallel::run(static_cast<int>(per_thread.size()), [&](int t, int nt) {
        const parallel::range rows = parallel::split(batch, nt, t, 1);
        std::size_t mine = 0;
        for (std::size_t r = rows.begin; r < rows.end; ++r) mine += matches(r) ? 1 : 0;
        per_thread[static_cast<std::size_t>(t)].count = mine;
    });
    for (const partial& p : per_thread) count += p.count;
    return count;
}

// First index of the maximum, as numpy.argmax: ties go to the lowest index and a NaN counts as the
// maximum. A scalar scan: N is a class count (10 for MNIST), so this is not where time goes.
template <std::size_t N> inline std::size_t argmax_row(const float* row) noexcept {
    std::size_t best = 0;
    if (std::isnan(row[0])) return 0;
    for (std::size_t c = 1; c < N; ++c) {
        if (std::isnan(row[c])) return c;
        if (row[c] > row[best]) best = c;
    }
    return best;
}

template <std::size_t N> inline void check_labels(const char* kernel, std::size_t batch, const std::int32_t* labels) {
    for (std::size_t r = 0; r < batch; ++r)
        if (labels[r] < 0 || static_cast<std::size_t>(labels[r]) >= N)
            throw std::invalid_argument(std::string(kernel) + ": labels[" + std::to_string(r) + "] must be in [0, " +
                                        std::to_string(N) + "), got " + std::to_string(labels[r]));
}

template <std::size_t N, class Arch> inline float row_sum(const float* row) noexcept {
    lane_accumulator<Arch> sum(0.0f);
    simd_for<Arch>(0, N, [&](std::size_t k, auto l) { sum.at(l) += load(l, row + k); });
    return sum.sum();
}

}  // namespace detail

// dz = (p − t) · scale           p, t, dz (B, N); scale is 1/B for a mean over the batch.
template <std::size_t N, class Arch = simd_arch>
inline void softmax_crossentropy_backward(std::size_t batch, const float* p, const float* t, float scale, float* dz) {
    detail::simd_for_parallel<Arch>(batch * N, [=](std::size_t k, auto l) {
        detail::store(dz + k, (detail::load(l, p + k) - detail::load(l, t + k)) * detail::splat(l, scale));
    });
}

// Σ_rows −Σ_cols t · log(clip(p / Σ_cols p))        p, t (B, N)   (Keras categorical_crossentropy)
template <std::size_t N, class Arch = simd_arch>
inline double categorical_crossentropy_sum(std::size_t batch, const float* p, const float* t) {
    return detail::sum_rows(batch, batch * N, [&](std::size_t r) {
        const float* pr = p + r * N;
        const float* tr = t + r * N;
        const float total = detail::row_sum<N, Arch>(pr);
        detail::lane_accumulator<Arch> acc(0.0f);
        detail::simd_for<Arch>(0, N, [&](std::size_t k, auto l) {
            const auto q = detail::clip_probability(detail::load(l, pr + k) / detail::splat(l, total));
            acc.at(l) += detail::load(l, tr + k) * xsimd::log(q);
        });
        return -static_cast<double>(acc.sum());
    });
}

// Σ_rows −log(clip(p[label] / Σ_cols p))             p (B, N), labels (B) in [0, N)
// Throws std::invalid_argument naming the first label outside [0, N).
template <std::size_t N, class Arch = simd_arch>
inline double sparse_categorical_crossentropy_sum(std::size_t batch, const float* p, const std::int32_t* labels) {
    detail::check_labels<N>("sparse_categorical_crossentropy_sum<N>(batch, p, labels)", batch, labels);
    return detail::sum_rows(batch, batch * N, [&](std::size_t r) {
        const float* pr = p + r * N;
        const float q = detail::clip_probability(pr[labels[r]] / detail::row_sum<N, Arch>(pr));
        return -static_cast<double>(std::log(q));
    });
}

// Σ_rows mean_cols (p − t)²                          p, t (B, N)
template <std::size_t N, class Arch = simd_arch>
inline double mean_squared_error_sum(std::size_t batch, const float* p, const float* t) {
    return detail::sum_rows(batch, batch * N, [&](std::size_t r) {
        const float* pr = p + r * N;
        const float* tr = t + r * N;
        detail::lane_accumulator<Arch> acc(0.0f);
        detail::simd_for<Arch>(0, N, [&](std::size_t k, auto l) {
            const auto d = detail::load(l, pr + k) - detail::load(l, tr + k);
            acc.at(l) += d * d;
        });
        return static_cast<double>(acc.sum()) / static_cast<double>(N);
    });
}

// Σ_rows mean_cols −(t log q + (1 − t) log(1 − q)), q = clip(p)     p, t (B, N)   (Keras binary_crossentropy)
template <std::size_t N, class Arch = simd_arch>
inline double binary_crossentropy_sum(std::size_t batch, const float* p, const float* t) {
    return detail::sum_rows(batch, batch * N, [&](std::size_t r) {
        const float* pr = p + r * N;
        const float* tr = t + r * N;
        detail::lane_accumulator<Arch> acc(0.0f);
        detail::simd_for<Arch>(0, N, [&](std::size_t k, auto l) {
            const auto one = detail::splat(l, 1.0f);
            const auto q = detail::clip_probability(detail::load(l, pr + k));
            const auto tk = detail::load(l, tr + k);
            acc.at(l) += tk * xsimd::log(q) + (one - tk) * xsimd::log(one - q);
        });
        return -static_cast<double>(acc.sum()) / static_cast<double>(N);
    });
}

// Rows whose argmax(p) == argmax(t) (first maximum wins, as numpy).   p, t (B, N)
template <std::size_t N>
inline std::size_t argmax_match_count(std::size_t batch, const float* p, const float* t) {
    return detail::count_rows(batch, batch * N, [&](std::size_t r) {
        return detail::argmax_row<N>(p + r * N) == detail::argmax_row<N>(t + r * N);
    });
}

// Rows whose argmax(p) == label.       p (B, N), labels (B) in [0, N); throws std::invalid_argument otherwise.
template <std::size_t N>
inline std::size_t argmax_label_match_count(std::size_t batch, const float* p, const std::int32_t* labels) {
    detail::check_labels<N>("argmax_label_match_count<N>(batch, p, labels)", batch, labels);
    return detail::count_rows(batch, batch * N, [&](std::size_t r) {
        return detail::argmax_row<N>(p + r * N) == static_cast<std::size_t>(labels[r]);
    });
}

}  // namespace ctnn::kernels
