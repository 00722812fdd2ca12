// ctnn/kernels/batch_norm.hpp — batch normalization over the last axis (Keras BatchNormalization,
// axis -1): a batch's per-channel mean and variance, the normalization, and its backward.
//
// Legend: R = rows (run time): every position of every sample, B·H·W for images (B, H, W, C), B
// after Dense; C = channels (compile time), the last axis, contiguous.
//   x, y, dx, dy                                          (R, C)
//   mean, variance, inv_std, gamma, beta, dgamma, dbeta   (C)
// The sums over rows run per channel in one fixed order, whatever the thread count: the channels
// are cut into tiles of 64 (a tile is summed by one thread; 64 floats are four whole cache lines of
// every row), and in a tile the rows are summed in float in blocks of 128, each block's sums then
// added to double totals (as accurate as a double sum for any R, at float speed). Elementwise passes
// (the normalization, dx) split the rows among threads. Oracles: kernels/reference_norm.hpp.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>

#include "ctnn/core/tensor.hpp"
#include "ctnn/kernels/parallel.hpp"
#include "ctnn/kernels/simd.hpp"

namespace ctnn::kernels {

namespace detail {

inline constexpr std::size_t norm_tile = 64;    // channels summed together (a multiple of every lane count)
inline constexpr std::size_t norm_block = 128;  // rows summed in float before the double totals

// Per-channel sums of K terms over all rows: for every tile of channels [c0, c1), terms(acc, r, c, j, l)
// adds row r's terms at channel c (lane type l) to acc[k] + j (j = c - c0, float partial sums), and
// done(c0, c1, total) receives total[k][j] = Σ_r term k at channel c0 + j, in double.
// Threads split the blocks of rows (a few channels, as in a ResNet, are one tile): each block's float
// sums go to a buffer, then the calling thread adds them to the double totals in block order, so the
// bits are those of one thread.
template <std::size_t C, std::size_t K, class Arch, class Terms, class Done>
void sum_over_rows(std::size_t rows, Terms terms, Done done) {
    constexpr std::size_t tiles = (C + norm_tile - 1) / norm_tile;
    constexpr std::size_t block_floats = tiles * K * norm_tile;  // one block's partial sums, every tile
    const std::size_t blocks = (rows + norm_block - 1) / norm_block;
    const int threads = blocks > 1 ? parallel::threads_for(rows * C) : 1;
    // Block b's float sums of tile `tile` into out[k][j].
    auto block_sums = [&](std::size_t b, std::size_t tile, float (*out)[norm_tile]) {
        const std::size_t c0 = tile * norm_tile, c1 = std::min(C, c0 + norm_tile);
        float* acc[K];
        for (std::size_t k = 0; k < K; ++k) {
            acc[k] = out[k];
            std::fill_n(out[k], c1 - c0, 0.0f);
        }
        const std::size_t r1 = std::min(rows, (b + 1) * norm_block);
        for (std::size_t r = b * norm_block; r < r1; ++r)
            simd_for<Arch>(c0, c1, [=](std::size_t c, auto l) { terms(acc, r, c, c - c0, l); });
    };
    thread_local Buffer partials;  // (blocks, tiles, K, norm_tile), when threads share the work
    if (threads > 1 && partials.size() < blocks * block_floats) partials.resize(blocks * block_floats);
    float* const all = threads > 1 ? partials.data() : nullptr;
    if (threads > 1)
        parallel::run(threads, [&](int t, int nt) {
            const parallel::range mine = parallel::split(blocks, nt, t, 1);
            for (std::size_t b = mine.begin; b < mine.end; ++b)
                for (std::size_t tile = 0; tile < tiles; ++tile)
                    block_sums(b, tile, reinterpret_cast<float (*)[norm_tile]>(all + (b * tiles + tile) * K * norm_tile));
        });
    for (std::size_t tile = 0; tile < tiles; ++tile) {
        const std::size_t c0 = tile * norm_tile, c1 = std::min(C, c0 + norm_tile);
        alignas(64) float own[K][norm_tile];
        double total[K][norm_tile] = {};
        for (std::size_t b = 0; b < blocks; ++b) {
            float (*partial)[norm_tile] = own;
            if (threads > 1) partial = reinterpret_cast<float (*)[norm_tile]>(all + (b * tiles + tile) * K * norm_tile);
            else block_sums(b, tile, own);
            for (std::size_t k = 0; k < K; ++k)
                for (std::size_t j = 0; j < c1 - c0; ++j) total[k][j] += double(partial[k][j]);
        }
        done(c0, c1, total);
    }
}

// Runs body(begin, end) over parts of the rows [0, R), split among threads when worth it.
template <std::size_t C, class Body> void for_row_parts(std::size_t rows, Body&& body) {
    parallel::run(parallel::threads_for(rows * C), [&](int t, int nt) {
        const parallel::range mine = parallel::split(rows, nt, t, 1);
        if (mine.begin < mine.end) body(mine.begin, mine.end);
    });
}

}  // namespace detail

// mean = Σ_rows x / R, variance = Σ_rows (x − mean)² / R (biased, as Keras; two passes, so no
// cancellation)    x (R, C) -> mean (C), variance (C). R must be > 0.
template <std::size_t C, class Arch = simd_arch>
void batch_norm_statistics(std::size_t rows, const float* x, float* mean, float* variance) {
    const double inv_rows = 1.0 / double(rows);
    detail::sum_over_rows<C, 1, Arch>(
        rows,
        [=](float* const* acc, std::size_t r, std::size_t c, std::size_t j, auto l) {
            detail::store(acc[0] + j, detail::load(l, acc[0] + j) + detail::load(l, x + r * C + c));
        },
        [=](std::size_t c0, std::size_t c1, const double (*total)[detail::norm_tile]) {
            for (std::size_t c = c0; c < c1; ++c) mean[c] = static_cast<float>(total[0][c - c0] * inv_rows);
        });
    detail::sum_over_rows<C, 1, Arch>(
        rows,
        [=](float* const* acc, std::size_t r, std::size_t c, std::size_t j, auto l) {
            const auto d = detail::load(l, x + r * C + c) - detail::load(l, mean + c);
            detail::store(acc[0] + j, detail::load(l, acc[0] + j) + d * d);
        },
        [=](std::size_t c0, std::size_t c1, const double (*total)[detail::norm_tile]) {
            for (std::size_t c = c0; c < c1; ++c) variance[c] = static_cast<float>(total[0][c - c0] * inv_rows);
        });
}

// inv_std = 1 / sqrt(variance + epsilon), in double    variance (C) -> inv_std (C). C floats, no SIMD:
// its own reference.
template <std::size_t C>
void batch_norm_inverse_std(const float* variance, double epsilon, float* inv_std) {
    for (std::size_t c = 0; c < C; ++c) inv_std[c] = static_cast<float>(1.0 / std::sqrt(double(variance[c]) + epsilon));
}

// y = gamma · (x − mean) · inv_std + beta    x (R, C) -> y (R, C); x and y may be the same buffer.
template <std::size_t C, class Arch = simd_arch>
void batch_norm_forward(std::size_t rows, const float* x, const float* mean, const float* inv_std, const float* gamma,
                        const float* beta, float* y) {
    detail::for_row_parts<C>(rows, [=](std::size_t begin, std::size_t end) {
        for (std::size_t r = begin; r < end; ++r)
            detail::simd_for<Arch>(0, C, [=](std::size_t c, auto l) {
                const auto scale = detail::load(l, gamma + c) * detail::load(l, inv_std + c);
                const auto centered = detail::load(l, x + r * C + c) - detail::load(l, mean + c);
                detail::store(y + r * C + c, centered * scale + detail::load(l, beta + c));
            });
    });
}

// The gradients of y = gamma · xhat + beta, xhat = (x − mean) · inv_std, given dy (R, C):
//   dbeta = Σ_rows dy, dgamma = Σ_rows dy · xhat (overwritten)                             (C)
//   dx = gamma · inv_std · (dy − [batch_statistics] (dbeta + xhat · dgamma) / R)          (R, C)
// With batch_statistics, mean and inv_std are this batch's own (training: they depend on x, whence
// the second term); without, they are constants (the moving statistics at inference). dx may be
// nullptr (skipped); it must not alias x or dy.
template <std::size_t C, class Arch = simd_arch>
void batch_norm_backward(std::size_t rows, const float* x, const float* dy, const float* mean, const float* inv_std,
                         const float* gamma, bool batch_statistics, float* dgamma, float* dbeta, float* dx) {
    detail::sum_over_rows<C, 2, Arch>(
        rows,
        [=](float* const* acc, std::size_t r, std::size_t c, std::size_t j, auto l) {
            const auto g = detail::load(l, dy + r * C + c);
            const auto centered = detail::load(l, x + r * C + c) - detail::load(l, mean + c);
            detail::store(acc[0] + j, detail::load(l, acc[0] + j) + g);
            detail::store(acc[1] + j, detail::load(l, acc[1] + j) + g * centered);
        },
        [=](std::size_t c0, std::size_t c1, const double (*total)[detail::norm_tile]) {
            for (std::size_t c = c0; c < c1; ++c) {
                dbeta[c] = static_cast<float>(total[0][c - c0]);
                dgamma[c] = static_cast<float>(total[1][c - c0] * double(inv_std[c]));
            }
        });
    if (dx == nullptr) return;
    const float inv_rows = rows > 0 ? 1.0f / float(rows) : 0.0f;
    detail::for_row_parts<C>(rows, [=](std::size_t begin, std::size_t end) {
        for (std::size_t r = begin; r < end; ++r) {
            if (batch_statistics)
                detail::simd_for<Arch>(0, C, [=](std::size_t c, auto l) {
                    const auto s = detail::load(l, inv_std + c);
                    const auto xhat = (detail::load(l, x + r * C + c) - detail::load(l, mean + c)) * s;
                    const auto batch_term =
                        (detail::load(l, dbeta + c) + xhat * detail::load(l, dgamma + c)) * detail::splat(l, inv_rows);
                    detail::store(dx + r * C + c,
                                  detail::load(l, gamma + c) * s * (detail::load(l, dy + r * C + c) - batch_term));
                });
            else
                detail::simd_for<Arch>(0, C, [=](std::size_t c, auto l) {
                    detail::store(dx + r * C + c, detail::load(l, gamma + c) * detail::load(l, inv_std + c) *
                                                      detail::load(l, dy + r * C + c));
                });
        }
    });
}

}  // namespace ctnn::kernels
