// ctnn/kernels/sparse.hpp — products whose left operand is mostly exact zeros, computed from its
// nonzero entries only. Behind a ReLU and Dropout<0.9> most of a hidden layer's dz is exactly zero,
// so its two backward products need a small part of the dense multiply-adds. The results are the dense products' up to rounding: the terms skipped are zeros
// times finite values; the others are summed in entry order. Not here: when to use them (dense.hpp).
//
//   sparse_rows                    S (rows, cols) as CSR: row r's entries are index/value[start[r] .. start[r+1])
//   sampled_density                the nonzero fraction of a few rows, to skip compress_rows on dense input
//   compress_rows                  dense -> S, giving up as soon as S has more entries than asked
//   transpose                      S -> Sᵀ (CSR of the transpose: rows become columns, still in increasing order)
//   sparse_times_transpose         C = S · Bᵀ for B (N, k) row-major         dx = dz · wᵀ, w as stored
//   sparse_times_dense_transposed  Cᵀ = (S · B)ᵀ for B (k, N) row-major     dw = (dzᵀ · x)ᵀ, straight into dw
// Neither product puts a transposed matrix in memory: B's transpose, or C's, is taken a piece at a
// time in L2 or L1 (in training steps, transposing w and dwᵀ whole cost as much as the products).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "ctnn/core/tensor.hpp"
#include "ctnn/kernels/gemm_ukernel.hpp"
#include "ctnn/kernels/pack.hpp"
#include "ctnn/kernels/parallel.hpp"
#include "ctnn/kernels/transpose.hpp"

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

// c[0 : NV·W] = Σ_e value[e] · b[index[e] · ldb + 0 : NV·W] for one row's entries.
template <class Arch, std::size_t NV>
inline void sparse_row_chunk(const std::uint32_t* index, const float* value, std::size_t entries, const float* b,
                             std::size_t ldb, float* c) noexcept {
    using S = simd_ops<Arch>;
    using vec = typename S::vec;
    constexpr std::size_t W = S::width;
    vec acc[NV];
#pragma GCC unroll 16
    for (std::size_t v = 0; v < NV; ++v) acc[v] = S::zero();
    for (std::size_t e = 0; e < entries; ++e) {
        const vec a = S::broadcast(value[e]);
        const float* row = b + std::size_t{index[e]} * ldb;
#pragma GCC unroll 16
        for (std::size_t v = 0; v < NV; ++v) acc[v] = S::fma(a, S::load(row + v * W), acc[v]);
    }
#pragma GCC unroll 16
    for (std::size_t v = 0; v < NV; ++v) S::store(c + v * W, acc[v]);
}

// Columns are taken in chunks of this many vectors: a chunk-row of B per entry (256 bytes with AVX2)
// amortises the entry's index and broadcast, and a chunk of B's rows stays in L2.
inline constexpr std::size_t sparse_chunk_vectors = 8;

// out[0 : width] = Σ_e value[e] · b[index[e] · ldb + 0 : width] for one row's entries, width at most
// one chunk: blocks of 8, 4, 2 and 1 vectors, then single floats.
template <class Arch>
inline void sparse_row_times(const std::uint32_t* index, const float* value, std::size_t entries, const float* b,
                             std::size_t ldb, std::size_t width, float* out) noexcept {
    constexpr std::size_t W = simd_ops<Arch>::width;
    std::size_t j = 0;
    const auto blocks = [&]<std::size_t NV>() {
        for (; j + NV * W <= width; j += NV * W) sparse_row_chunk<Arch, NV>(index, value, entries, b + j, ldb, out + j);
    };
    blocks.template operator()<8>();
    blocks.template operator()<4>();
    blocks.template operator()<2>();
    blocks.template operator()<1>();
    for (; j < width; ++j) {
        float acc = 0.0f;
        for (std::size_t e = 0; e < entries; ++e) acc += value[e] * b[std::size_t{index[e]} * ldb + j];
        out[j] = acc;
    }
}

// A thread's transposed panel of B for sparse_times_transpose: grown on first use, kept.
inline Buffer& sparse_panel() {
    thread_local Buffer panel;
    return panel;
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
template <class Arch = simd_arch>
inline bool compress_rows(std::size_t rows, std::size_t cols, const float* a, std::size_t max_nonzeros,
                          sparse_rows& s) {
    using S = detail::simd_ops<Arch>;
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
            if (detail::all_zero<Arch>(S::load(row + c))) continue;  // the common case: skip W at once
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

// C (S.rows, N) = S · Bᵀ for B (N, S.cols) row-major: dx = dz · wᵀ with w (In, Out) as stored.
// Threads split C's columns; a thread takes its columns a chunk at a time, transposes the chunk's rows
// of B into a private (S.cols, chunk) panel (256 KB for S.cols = 1000: it stays in L2), then runs every
// row of S over it. Each entry costs a chunk-row of the panel from L2 for 8 vector FMAs, so this is
// bound by L2 bandwidth and pays only when S is mostly zeros (see dense.hpp).
template <std::size_t N, class Arch = simd_arch> void sparse_times_transpose(const sparse_rows& s, const float* b, float* c) {
    constexpr std::size_t W = detail::simd_ops<Arch>::width, chunk = detail::sparse_chunk_vectors * W;
    const std::size_t k = s.cols;
    parallel::run(parallel::threads_for((s.nonzeros() + k) * N), [&](int t, int nt) {
        const parallel::range mine = parallel::split(N, nt, t, W);
        float* panel = detail::reserve(detail::sparse_panel(), k * chunk);
        for (std::size_t c0 = mine.begin; c0 < mine.end; c0 += chunk) {
            const std::size_t width = std::min(chunk, mine.end - c0);
            detail::transpose_block<Arch>(b + c0 * k, k, width, k, panel, chunk);  // panel[p][j] = B[c0 + j][p]
            for (std::size_t i = 0; i < s.rows; ++i)
                detail::sparse_row_times<Arch>(s.index.data() + s.start[i], s.value.data() + s.start[i],
                                               s.start[i + 1] - s.start[i], panel, chunk, width, c + i * N + c0);
        }
    });
}

// Cᵀ (N, S.rows) = (S · B)ᵀ for B (S.cols, N) row-major, written straight into Cᵀ: dw = xᵀ · dz as
// (dzᵀ · x)ᵀ, with S = dzᵀ. Threads split B's columns (Cᵀ's rows: no two threads write one line);
// per chunk of them, 16 rows of S at a time go to a staging block in L1, which is then written into
// Cᵀ transposed, 16 floats (a cache line) per row.
template <std::size_t N, class Arch = simd_arch>
void sparse_times_dense_transposed(const sparse_rows& s, const float* b, float* ct) {
    constexpr std::size_t W = detail::simd_ops<Arch>::width, chunk = detail::sparse_chunk_vectors * W;
    constexpr std::size_t group = 16;  // rows of S per staging block
    const std::size_t m = s.rows;
    parallel::run(parallel::threads_for((s.nonzeros() + m) * N), [&](int t, int nt) {
        const parallel::range mine = parallel::split(N, nt, t, W);
        alignas(64) float staging[group * chunk];
        for (std::size_t c0 = mine.begin; c0 < mine.end; c0 += chunk) {
            const std::size_t width = std::min(chunk, mine.end - c0);
            for (std::size_t o0 = 0; o0 < m; o0 += group) {
                const std::size_t rows = std::min(group, m - o0);
                for (std::size_t r = 0; r < rows; ++r) {
                    const std::size_t row = o0 + r;
                    detail::sparse_row_times<Arch>(s.index.data() + s.start[row], s.value.data() + s.start[row],
                                                   s.start[row + 1] - s.start[row], b + c0, N, width,
                                                   staging + r * chunk);
                }
                detail::transpose_block<Arch>(staging, chunk, rows, width, ct + c0 * m + o0, m);
            }
        }
    });
}

}  // namespace ctnn::kernels
