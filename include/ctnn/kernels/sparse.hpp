// ctnn/kernels/sparse.hpp — products whose left operand is mostly exact zeros, computed from its
// nonzero entries only. Behind a ReLU and Dropout<0.9>, ~97% of the reference net's second-layer dz
// is exactly zero (Fashion-MNIST, batch 1000), so its two backward products need ~3% of the dense
// multiply-adds. The results are the dense products' up to rounding: the terms skipped are zeros
// times finite values; the others are summed in entry order. Not here: when to use them (dense.hpp).
//
//   sparse_rows          S (rows, cols) as CSR: row r's entries are index/value[start[r] .. start[r+1])
//   sampled_density      the nonzero fraction of a few rows, to skip compress_rows on dense input
//   compress_rows        dense -> S, giving up as soon as S has more entries than asked
//   transpose            S -> Sᵀ (CSR of the transpose: rows become columns, still in increasing order)
//   sparse_times_dense   C (m, N) = Act(bias + S · B), B (k, N) row-major; N fixed at compile time
//   transpose_dense      (Rows, Cols) -> (Cols, Rows), 8 x 8 blocks through AVX registers
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "ctnn/activations.hpp"
#include "ctnn/core/tensor.hpp"
#include "ctnn/kernels/gemm_ukernel.hpp"
#include "ctnn/kernels/pack.hpp"
#include "ctnn/kernels/parallel.hpp"

namespace ctnn::kernels {

struct sparse_rows {
    std::size_t rows = 0, cols = 0;
    std::vector<std::uint32_t> start;  // (rows + 1)
    std::vector<std::uint32_t> index;  // (>= nonzeros) column of each entry, increasing within a row
    Buffer value;                      // (>= nonzeros)
    std::size_t nonzeros() const noexcept { return start.empty() ? 0 : start.back(); }
};

namespace detail {

template <class Arch> inline bool all_zero(const typename simd_ops<Arch>::vec& v) noexcept {
    if constexpr (std::is_same_v<Arch, generic_arch>) return v == 0.0f;
    else return xsimd::all(v == simd_ops<Arch>::zero());  // not any(v != 0): xsimd's != is false for NaN
}

// Grows the entry arrays to hold n entries (never shrinks: steady-state training allocates nothing).
inline void reserve_entries(sparse_rows& s, std::size_t n) {
    if (s.index.size() < n) {
        s.index.resize(n);
        s.value.resize(n);
    }
}

// Rows [first, end) of S whose entries sum (plus one per row: a row costs its stores) to about
// part/parts of the total: threads get equal work however unevenly the entries fall.
inline parallel::range split_by_entries(const sparse_rows& s, int parts, int part) noexcept {
    const auto cost = [&](std::size_t r) { return std::size_t{s.start[r]} + r; };
    const std::size_t total = cost(s.rows);
    const auto boundary = [&](int p) -> std::size_t {
        if (p <= 0) return 0;
        if (p >= parts) return s.rows;
        const std::size_t target = total * static_cast<std::size_t>(p) / static_cast<std::size_t>(parts);
        std::size_t lo = 0, hi = s.rows;  // first row r with cost(r) >= target
        while (lo < hi) {
            const std::size_t mid = (lo + hi) / 2;
            if (cost(mid) < target) lo = mid + 1;
            else hi = mid;
        }
        return lo;
    };
    return {boundary(part), boundary(part + 1)};
}

// c[0 : NV·W] = Act(init + Σ_e value[e] · b[index[e] · ldb + 0 : NV·W]) for one row's entries.
template <class Arch, std::size_t NV, class Act>
inline void sparse_row_chunk(const std::uint32_t* index, const float* value, std::size_t entries, const float* b,
                             std::size_t ldb, const float* bias, float* c) noexcept {
    using S = simd_ops<Arch>;
    using vec = typename S::vec;
    constexpr std::size_t W = S::width;
    vec acc[NV];
#pragma GCC unroll 16
    for (std::size_t v = 0; v < NV; ++v) acc[v] = bias ? S::load(bias + v * W) : S::zero();
    for (std::size_t e = 0; e < entries; ++e) {
        const vec a = S::broadcast(value[e]);
        const float* row = b + std::size_t{index[e]} * ldb;
#pragma GCC unroll 16
        for (std::size_t v = 0; v < NV; ++v) acc[v] = S::fma(a, S::load(row + v * W), acc[v]);
    }
#pragma GCC unroll 16
    for (std::size_t v = 0; v < NV; ++v) S::store(c + v * W, Act::forward(acc[v]));
}

}  // namespace detail

// Fraction of nonzero entries in `samples` rows spread evenly over a (rows, cols): a cheap first look,
// so that a mostly-nonzero matrix costs a few rows of scanning instead of a compression that gives up
// part-way through.
inline double sampled_density(std::size_t rows, std::size_t cols, const float* a, std::size_t samples) noexcept {
    samples = std::min(samples, rows);
    if (samples == 0 || cols == 0) return 0.0;
    std::size_t nonzero = 0;
    for (std::size_t k = 0; k < samples; ++k) {
        const float* row = a + (k * rows / samples) * cols;
        for (std::size_t c = 0; c < cols; ++c) nonzero += row[c] != 0.0f;
    }
    return double(nonzero) / double(samples * cols);
}

// S = the nonzero entries of a (rows, cols) row-major, if there are at most max_nonzeros of them;
// returns false as soon as there are more (S is then unusable). NaN counts as nonzero, ±0 as zero.
inline bool compress_rows(std::size_t rows, std::size_t cols, const float* a, std::size_t max_nonzeros,
                          sparse_rows& s) {
    using S = detail::simd_ops<gemm_arch>;
    constexpr std::size_t W = S::width;
    s.rows = rows;
    s.cols = cols;
    s.start.resize(rows + 1);
    detail::reserve_entries(s, max_nonzeros + cols);  // a row may overshoot the limit before the check
    std::uint32_t* index = s.index.data();
    float* value = s.value.data();
    std::size_t n = 0;
    for (std::size_t r = 0; r < rows; ++r) {
        s.start[r] = static_cast<std::uint32_t>(n);
        const float* row = a + r * cols;
        const std::size_t vector_end = cols / W * W;  // computed up front: GCC then sees the trip counts
        std::size_t c = 0;
        for (; c < vector_end; c += W) {
            if (detail::all_zero<gemm_arch>(S::load(row + c))) continue;  // the common case: skip W at once
            for (std::size_t j = c; j < c + W; ++j) {  // branch-free append
                index[n] = static_cast<std::uint32_t>(j);
                value[n] = row[j];
                n += row[j] != 0.0f;
            }
        }
        for (; c < cols; ++c) {
            index[n] = static_cast<std::uint32_t>(c);
            value[n] = row[c];
            n += row[c] != 0.0f;
        }
        if (n > max_nonzeros) return false;
    }
    s.start[rows] = static_cast<std::uint32_t>(n);
    return true;
}

// t = sᵀ: a counting sort of the entries by column; each new row lists its entries by increasing
// old row. `cursor` is scratch (grown as needed).
inline void transpose(const sparse_rows& s, sparse_rows& t, std::vector<std::uint32_t>& cursor) {
    t.rows = s.cols;
    t.cols = s.rows;
    t.start.assign(s.cols + 1, 0);
    const std::size_t n = s.nonzeros();
    detail::reserve_entries(t, n);
    for (std::size_t e = 0; e < n; ++e) ++t.start[s.index[e] + 1];
    for (std::size_t c = 0; c < s.cols; ++c) t.start[c + 1] += t.start[c];
    cursor.assign(t.start.begin(), t.start.end() - 1);
    for (std::size_t r = 0; r < s.rows; ++r)
        for (std::size_t e = s.start[r]; e < s.start[r + 1]; ++e) {
            const std::uint32_t k = cursor[s.index[e]]++;
            t.index[k] = static_cast<std::uint32_t>(r);
            t.value[k] = s.value[e];
        }
}

// C (S.rows, N) = Act(bias + S · B): row i of C sums value · (row `index` of B) over row i's entries.
//   b (S.cols, N) row-major, bias (N) or nullptr, c row-major with stride N.
// C is computed in column chunks (8 vectors wide) so that the chunk of B the entries point into stays
// in L2 while every row passes over it; threads split the rows by their number of entries. Each entry
// costs a chunk-row of B read from L2 for 8 vector FMAs: 25-40% of the FMA peak, so this pays only
// when S is mostly zeros (see dense.hpp). The backward products use neither bias nor Act; they are
// there for a forward pass over a sparse input.
template <std::size_t N, class Act = Linear>
void sparse_times_dense(const sparse_rows& s, const float* b, const float* bias, float* c) {
    static_assert(Act::elementwise, "sparse_times_dense<N, Act>: only elementwise activations are fused");
    using Arch = gemm_arch;
    constexpr std::size_t W = detail::simd_ops<Arch>::width;
    constexpr std::size_t chunk_vectors = 8, chunk = chunk_vectors * W;
    constexpr std::size_t full_end = N / chunk * chunk;               // columns in full chunks
    constexpr std::size_t tail_vectors = (N - full_end) / W;          // then whole vectors
    constexpr std::size_t scalar_begin = full_end + tail_vectors * W;  // then single floats
    const auto rows_of = [&](parallel::range rows, auto body) {  // body(row, its indices, its values, count)
        for (std::size_t i = rows.begin; i < rows.end; ++i)
            body(i, s.index.data() + s.start[i], s.value.data() + s.start[i], std::size_t{s.start[i + 1] - s.start[i]});
    };
    parallel::run(parallel::threads_for((s.nonzeros() + s.rows) * N), [&](int t, int nt) {
        const parallel::range rows = detail::split_by_entries(s, nt, t);
        for (std::size_t c0 = 0; c0 < full_end; c0 += chunk)
            rows_of(rows, [&](std::size_t i, const std::uint32_t* index, const float* value, std::size_t entries) {
                detail::sparse_row_chunk<Arch, chunk_vectors, Act>(index, value, entries, b + c0, N,
                                                                   bias ? bias + c0 : nullptr, c + i * N + c0);
            });
        if constexpr (tail_vectors > 0)
            rows_of(rows, [&](std::size_t i, const std::uint32_t* index, const float* value, std::size_t entries) {
                detail::sparse_row_chunk<Arch, tail_vectors, Act>(index, value, entries, b + full_end, N,
                                                                  bias ? bias + full_end : nullptr,
                                                                  c + i * N + full_end);
            });
        if constexpr (scalar_begin < N)
            rows_of(rows, [&](std::size_t i, const std::uint32_t* index, const float* value, std::size_t entries) {
                for (std::size_t j = scalar_begin; j < N; ++j) {
                    float acc = bias ? bias[j] : 0.0f;
                    for (std::size_t e = 0; e < entries; ++e) acc += value[e] * b[std::size_t{index[e]} * N + j];
                    c[i * N + j] = Act::forward(acc);
                }
            });
    });
}

// t (Cols, Rows) = aᵀ for a (Rows, Cols) row-major. Threads split the rows of t.
template <std::size_t Rows, std::size_t Cols> void transpose_dense(const float* a, float* t) {
    parallel::run(parallel::threads_for(Rows * Cols / 8), [&](int part, int parts) {
        const parallel::range cols = parallel::split(Cols, parts, part, 8);  // rows of t
        std::size_t c = cols.begin;
#ifdef __AVX__
        if constexpr (detail::avx_transpose<gemm_arch>) {
            // Bound computed up front: GCC then sees the trip counts (and does not warn).
            const std::size_t block_end = cols.begin + (cols.end - cols.begin) / 8 * 8;
            for (; c < block_end; c += 8) {
                std::size_t r = 0;
                for (; r + 8 <= Rows; r += 8) {
                    __m256 block[8];
                    for (int i = 0; i < 8; ++i) block[i] = _mm256_loadu_ps(a + (r + i) * Cols + c);
                    detail::transpose8x8(block);
                    for (int i = 0; i < 8; ++i) _mm256_storeu_ps(t + (c + i) * Rows + r, block[i]);
                }
                for (; r < Rows; ++r)
                    for (std::size_t i = 0; i < 8; ++i) t[(c + i) * Rows + r] = a[r * Cols + c + i];
            }
        }
#endif
        for (; c < cols.end; ++c)
            for (std::size_t r = 0; r < Rows; ++r) t[c * Rows + r] = a[r * Cols + c];
    });
}

}  // namespace ctnn::kernels
