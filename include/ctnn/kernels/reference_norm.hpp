// ctnn/kernels/reference_norm.hpp — naive twins of kernels/batch_norm.hpp, as kernels/reference.hpp
// is for the others (kept in their own file so that one does not keep growing): plain loops over
// channels then rows, every sum in double. Do not tune these.
//
// Legend: R = rows (every position of every sample), C = channels (the last axis, compile time).
//   x, y, dx, dy (R, C); mean, variance, inv_std, gamma, beta, dgamma, dbeta (C)
#pragma once

#include <cmath>
#include <cstddef>
#include <vector>

namespace ctnn::kernels::reference {

// mean = Σ_rows x / R, variance = Σ_rows (x − mean)² / R (biased)    x (R, C) -> mean, variance (C)
template <std::size_t C>
void batch_norm_statistics_naive(std::size_t rows, const float* x, float* mean, float* variance) {
    for (std::size_t c = 0; c < C; ++c) {
        double sum = 0;
        for (std::size_t r = 0; r < rows; ++r) sum += x[r * C + c];
        const double m = sum / double(rows);
        double squares = 0;
        for (std::size_t r = 0; r < rows; ++r) squares += (x[r * C + c] - m) * (x[r * C + c] - m);
        mean[c] = static_cast<float>(m);
        variance[c] = static_cast<float>(squares / double(rows));
    }
}

// y = gamma · (x − mean) · inv_std + beta    x (R, C) -> y (R, C)
template <std::size_t C>
void batch_norm_forward_naive(std::size_t rows, const float* x, const float* mean, const float* inv_std,
                              const float* gamma, const float* beta, float* y) {
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < C; ++c)
            y[r * C + c] = static_cast<float>(double(gamma[c]) * (double(x[r * C + c]) - mean[c]) * inv_std[c] + beta[c]);
}

// dbeta = Σ_rows dy, dgamma = Σ_rows dy · xhat, xhat = (x − mean) · inv_std (overwrite)    (C)
// dx = gamma · inv_std · (dy − (dbeta + xhat · dgamma) / R) with batch_statistics (mean and inv_std
// are the batch's, functions of x), gamma · inv_std · dy without (constants); skipped if dx is nullptr.
template <std::size_t C>
void batch_norm_backward_naive(std::size_t rows, const float* x, const float* dy, const float* mean,
                               const float* inv_std, const float* gamma, bool batch_statistics, float* dgamma,
                               float* dbeta, float* dx) {
    std::vector<double> db(C, 0.0), dg(C, 0.0);
    for (std::size_t c = 0; c < C; ++c)
        for (std::size_t r = 0; r < rows; ++r) {
            const double xhat = (double(x[r * C + c]) - mean[c]) * inv_std[c];
            db[c] += dy[r * C + c];
            dg[c] += double(dy[r * C + c]) * xhat;
        }
    for (std::size_t c = 0; c < C; ++c) {
        dbeta[c] = static_cast<float>(db[c]);
        dgamma[c] = static_cast<float>(dg[c]);
    }
    if (dx == nullptr) return;
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < C; ++c) {
            const double xhat = (double(x[r * C + c]) - mean[c]) * inv_std[c];
            const double batch_term = batch_statistics ? (db[c] + xhat * dg[c]) / double(rows) : 0.0;
            dx[r * C + c] = static_cast<float>(double(gamma[c]) * inv_std[c] * (dy[r * C + c] - batch_term));
        }
}

}  // namespace ctnn::kernels::reference
