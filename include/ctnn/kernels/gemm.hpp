// ctnn/kernels/gemm.hpp — the blocked, packed, multi-threaded single-precision GEMM behind Dense,
// plus the unpacked small-batch paths. C = start + A · B with fused epilogues (bias, elementwise
// activation, column sums of B). Not a general BLAS: no alpha/beta, no strided C, float only.
//
// Legend: C (M, N) = A (M, K) · B (K, N), every matrix dense with a row stride (ld*).
//   forward          NN   M = batch, N = Out, K = In     A = x  (row-major)  B = w  (row-major)
//   backward data    NT   M = batch, N = In,  K = Out    A = dz (row-major)  B = wᵀ (w read col-major)
//   backward weights TN   M = In,    N = Out, K = batch  A = xᵀ (x read col-major)  B = dz; db = Σ_k B
//
// The five loops (BLIS "anatomy"), run by each thread on its own rectangle of C:
//   jc  NC columns of C   -> pack B block  (KC x NC)  lives in L3
//   pc  KC of the k sum
//   ic  MC rows of C      -> pack A block  (MC x KC)  lives in L2
//   jr  NR columns        -> one B micro-panel (KC x NR) lives in L1
//   ir  MR rows           -> gemm_ukernel: MR x NR tile of C in registers, k-loop of rank-1 updates
//
// Packed order (shown for MR = 3, NR = 4; aij = A[i][j], partial panels zero-padded):
//   A block:  panel 0 = rows 0..2, k after k        panel 1 = rows 3..5 ...
//             | a00 a10 a20 | a01 a11 a21 | a02 a12 a22 | ... | a0,kc-1 a1,kc-1 a2,kc-1 || a30 a40 a50 | ...
//   B block:  panel 0 = columns 0..3, k after k     panel 1 = columns 4..7 ...
//             | b00 b01 b02 b03 | b10 b11 b12 b13 | ... | bkc-1,0 .. bkc-1,3 || b04 b05 b06 b07 | ...
//   so the microkernel reads both panels strictly sequentially: MR broadcasts + NR/width loads per k.
//
// The first k-block starts the tile from the bias (or zero) and later ones from C; the activation
// runs on the tile after the last k-block, while it is still in registers. Threads split C (never
// the k sum), so each element has one summation order whatever the number of threads. A k at which
// a whole A panel is zero is skipped (compact_zero_k), as is a zero of a single row: it would only
// add exact zeros (unless B holds an infinity or NaN there, which then does not spread, as in sparse BLAS).
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "ctnn/activations.hpp"
#include "ctnn/core/tensor.hpp"
#include "ctnn/kernels/gemm_ukernel.hpp"
#include "ctnn/kernels/pack.hpp"
#include "ctnn/kernels/parallel.hpp"

namespace ctnn::kernels {

namespace detail {

constexpr std::size_t round_up_to(std::size_t n, std::size_t multiple) noexcept {
    return (n + multiple - 1) / multiple * multiple;
}

// Block size for splitting n into pieces of at most max_block, as equal as possible, a multiple of
// `multiple` (784 with KC = 256 gives 4 x 196 instead of 3 x 256 + 16).
constexpr std::size_t balanced_block(std::size_t n, std::size_t max_block, std::size_t multiple) noexcept {
    if (n == 0) return multiple;
    const std::size_t blocks = (n + max_block - 1) / max_block;
    return round_up_to((n + blocks - 1) / blocks, multiple);
}

// Packing buffers of one thread: allocated on first use, grown when a bigger problem comes, never
// shrunk, so the steady state of a training loop allocates nothing.
struct gemm_workspace {
    Buffer a;       // (MC, KC) packed A block
    Buffer b;       // (KC, NC) packed B block
    Buffer row;     // (N) bias slice padded to NR
    Buffer colsum;  // (N) column sums of B padded to NR
    Buffer result;  // (N, M) a transposed result, for gemm_nt_few_rows
    Buffer shared_b;  // (KC, NC) packed B block the calling thread lends its team
    std::vector<std::uint8_t> kept;        // (MC / MR, KC) the k each compacted A panel kept
    std::vector<std::size_t> kept_count;   // (MC / MR) how many
    std::vector<std::uint32_t> nonzero_k;  // (K) of a single row's product
};
inline gemm_workspace& workspace() {
    thread_local gemm_workspace ws;
    return ws;
}
inline float* reserve(Buffer& buf, std::size_t n) {
    if (buf.size() < n) buf.resize(n);
    return buf.data();
}

// Operands spanning at most this many register tiles (MR rows or NR columns) are read in place.
inline constexpr std::size_t direct_max_panels = 4;
// A row-major B is read in place when C has at most this many rows per thread (the forward pass at
// batch 9..64 on one thread, up to 128 on two: packing w costs more than so few rows reuse it),
// unless its column sums are wanted (they are taken while packing).
inline constexpr std::size_t direct_b_max_rows = 64;
template <layout LB> constexpr bool reads_b_in_place(std::size_t rows, const float* colsum) noexcept {
    return LB == layout::row_major && !colsum && rows <= direct_b_max_rows;
}

struct rect {
    parallel::range rows, cols;
};

}  // namespace detail

// Off: the packed GEMMs run every k, zero or not (benchmarks, and tests that compare both paths).
inline std::atomic<bool> zero_k_skipping_enabled{true};

namespace detail {

// The five loops on the rectangle r of C (one thread's share). With shared_b (a (KC, NC) buffer of
// the team, and r holding all of C), thread t of nt packs only its part of each B block, and
// barriers keep everyone from reading a block before it is complete or repacking it while in use:
// B is packed once for the team instead of once per thread. Column sums then come from the
// thread that packed the panel, which stores them into colsum itself. Given next_row (and r holding
// all rows), the team's threads claim blocks of rows from it (parallel::claim) rather than owning
// fixed parts: when the machine slows one core down, the other does more of the rows instead of
// waiting at the barrier.
// Without shared_b, a row-major B's full panels are read in place when b_in_place_wanted (the
// driver's reads_b_in_place).
template <class Arch, layout LA, layout LB, class Act, class Cfg = gemm_config<Arch>>
void gemm_block(rect r, std::size_t n_all, std::size_t k, std::size_t kc_step, const float* a, std::size_t lda,
                const float* b, std::size_t ldb, float* c, std::size_t ldc, const float* bias, float* colsum,
                bool b_in_place_wanted, float* shared_b = nullptr, parallel::spin_barrier* team = nullptr, int t = 0,
                int nt = 1, std::atomic<std::size_t>* next_row = nullptr) {
    using cfg = Cfg;
    constexpr std::size_t MR = cfg::MR, NR = cfg::NR, NC = cfg::NC;
    using ukernel = gemm_ukernel<Arch, MR, NR>;

    const std::size_t m = r.rows.end - r.rows.begin, n = r.cols.end - r.cols.begin;
    const std::size_t n_pad = round_up_to(n, NR);
    const std::size_t mc_step = next_row ? cfg::MC : balanced_block(m, cfg::MC, MR);  // claimed blocks: up to MC
    gemm_workspace& ws = workspace();

    float* row = nullptr;  // (n_pad) bias of these columns, zero-padded
    if (bias) {
        row = reserve(ws.row, n_pad);
        std::copy(bias + r.cols.begin, bias + r.cols.end, row);
        std::fill(row + n, row + n_pad, 0.0f);
    }
    float* sums = nullptr;  // (n_pad) column sums of B for these columns
    if (colsum) {
        sums = reserve(ws.colsum, n_pad);
        std::fill(sums, sums + n_pad, 0.0f);
    }
    // Packing pays when a packed element is reused by many tiles. With few column panels the
    // microkernel reads A in place; with few row tiles it reads a row-major B in place (except the
    // partial last panel, whose missing columns must not be read), as the small-batch paths need.
    const bool direct_a = n_all <= direct_max_panels * NR;
    const bool direct_b = !shared_b && b_in_place_wanted;
    constexpr a_source a_src = LA == layout::row_major ? a_source::row_major : a_source::col_major;
    float* bp = shared_b ? shared_b : reserve(ws.b, kc_step * std::min(NC, n_pad));  // (KC, NC)
    float* ap = reserve(ws.a, mc_step * kc_step);                                     // (MC, KC)
    // Packed A and B: the A panels drop their all-zero k (compact_zero_k), exactly, as the kernel
    // then skips only additions of zero. A B read in place has no row to skip to, so not then.
    static_assert(cfg::KC <= 256, "gemm_block: compacted panels index k in a byte");
    const bool skip_zero_k = !direct_a && !direct_b && zero_k_skipping_enabled.load(std::memory_order_relaxed);
    const std::size_t panels_per_block = (mc_step + MR - 1) / MR;
    if (skip_zero_k) {  // (the same thread may run GEMMs of other arches, with other MR)
        if (ws.kept.size() < panels_per_block * kc_step) ws.kept.resize(panels_per_block * kc_step);
        if (ws.kept_count.size() < panels_per_block) ws.kept_count.resize(panels_per_block);
    }

    for (std::size_t jc = 0; jc < n; jc += NC) {
        const std::size_t nc = std::min(NC, n - jc);
        const std::size_t nc_full = nc / NR * NR;  // columns in full panels
        // This thread's panels of the shared B block (all of them when B is private).
        const parallel::range mine = shared_b ? parallel::split((nc + NR - 1) / NR, nt, t, 1) : parallel::range{0, 1};
        const std::size_t own_begin = shared_b ? std::min(nc, mine.begin * NR) : 0;
        const std::size_t own_end = shared_b ? std::min(nc, mine.end * NR) : nc;
        for (std::size_t pc = 0; pc < k; pc += kc_step) {
            const std::size_t kc = std::min(kc_step, k - pc);
            if (shared_b) {
                // Everyone has claimed their last rows of the previous block (the barrier closing it),
                // and nobody claims this block's rows before the barrier below.
                if (next_row && t == 0) next_row->store(0, std::memory_order_relaxed);
                if (own_begin < own_end)
                    pack_b<Arch, NR, LB>(b, ldb, pc, jc + own_begin, kc, own_end - own_begin, bp + own_begin * kc,
                                         sums ? sums + jc + own_begin : nullptr);
                team->wait();  // the whole block is packed
            } else if (!direct_b)
                pack_b<Arch, NR, LB>(b, ldb, pc, r.cols.begin + jc, kc, nc, bp, sums ? sums + jc : nullptr);
            else if (nc_full < nc)
                pack_b<Arch, NR, LB>(b, ldb, pc, r.cols.begin + jc + nc_full, kc, nc - nc_full, bp + nc_full * kc,
                                     nullptr);
            const tile_start start = pc > 0 ? tile_start::load : row ? tile_start::row : tile_start::zero;
            const bool finish = pc + kc == k;
            // The next rows of C to work through: claimed from the team, or this thread's next block.
            auto rows_after = [&](std::size_t done) {
                if (next_row) return parallel::claim(*next_row, r.rows.end, nt, MR, mc_step);
                return parallel::range{done, std::min(r.rows.end, done + mc_step)};
            };
            for (parallel::range block = rows_after(r.rows.begin); block.begin < block.end;
                 block = rows_after(block.end)) {
                const std::size_t ic = block.begin, mc = block.end - block.begin;
                if (!direct_a) pack_a<Arch, MR, LA>(a, lda, ic, pc, mc, kc, ap);
                if (skip_zero_k)
                    for (std::size_t ir = 0; ir < mc; ir += MR)
                        ws.kept_count[ir / MR] = compact_zero_k<MR>(ap + ir * kc, kc, ws.kept.data() + ir / MR * kc);
                for (std::size_t jr = 0; jr < nc; jr += NR) {
                    const std::size_t cols = std::min(NR, nc - jr);
                    const bool b_in_place = direct_b && cols == NR;
                    const float* b_panel = b_in_place ? b + pc * ldb + r.cols.begin + jc + jr : bp + jr * kc;
                    const float* bias_row = row ? row + jc + jr : nullptr;
                    for (std::size_t ir = 0; ir < mc; ir += MR) {
                        const std::size_t rows = std::min(MR, mc - ir);
                        float* tile = c + (ic + ir) * ldc + r.cols.begin + jc + jr;
                        const float* a_panel = ap + ir * kc;
                        if (direct_a) {
                            if (rows == MR) {
                                a_panel = element<LA>(a, lda, ic + ir, pc);
                            } else {  // the last, partial row tile: rows below the matrix must not be read
                                pack_a<Arch, MR, LA>(a, lda, ic + ir, pc, rows, kc, ap);
                                a_panel = ap;
                            }
                        }
                        const bool a_in_place = direct_a && rows == MR;
                        if (a_in_place && b_in_place)
                            ukernel::template run<Act, a_src, true>(kc, a_panel, lda, b_panel, ldb, start, bias_row,
                                                                    finish, tile, ldc, rows, cols);
                        else if (a_in_place)
                            ukernel::template run<Act, a_src, false>(kc, a_panel, lda, b_panel, 0, start, bias_row,
                                                                     finish, tile, ldc, rows, cols);
                        else if (b_in_place)
                            ukernel::template run<Act, a_source::packed, true>(kc, a_panel, 0, b_panel, ldb, start,
                                                                               bias_row, finish, tile, ldc, rows, cols);
                        else if (skip_zero_k && ws.kept_count[ir / MR] < kc)
                            ukernel::template run<Act, a_source::packed, false, true>(
                                ws.kept_count[ir / MR], a_panel, 0, b_panel, 0, start, bias_row, finish, tile, ldc,
                                rows, cols, ws.kept.data() + ir / MR * kc);
                        else
                            ukernel::template run<Act>(kc, a_panel, 0, b_panel, 0, start, bias_row, finish, tile, ldc,
                                                       rows, cols);
                    }
                }
            }
            if (shared_b) team->wait();  // nobody still reads the block the next pc repacks
        }
        if (shared_b && sums) std::copy(sums + jc + own_begin, sums + jc + own_end, colsum + jc + own_begin);
    }
    if (!shared_b && colsum) std::copy(sums, sums + n, colsum + r.cols.begin);
}

// How the team splits C. By rows with a shared B (each thread packs only its own rows of A and a
// part of B: nothing is packed twice) whenever there are enough row tiles and B would be packed;
// otherwise by columns (few rows), each thread then packing all of A. Few rows and few columns
// (a single thread's work, really) falls back to rows with private B panels.
enum class split_kind { rows_shared_b, rows, cols };

template <class Cfg>
split_kind choose_split(std::size_t m, std::size_t n, int nt, bool direct_b) {
    using cfg = Cfg;
    const std::size_t col_grains = (n + cfg::NR - 1) / cfg::NR, row_grains = (m + cfg::MR - 1) / cfg::MR;
    const auto need = static_cast<std::size_t>(4 * nt);  // enough tiles per thread to balance
    if (nt > 1 && row_grains >= need && !direct_b) return split_kind::rows_shared_b;
    if (col_grains >= need) return split_kind::cols;
    return split_kind::rows;
}

// Rows [0, RB) of the small-M path over the columns `cols`: blocks of NV vectors, then single
// vectors, then a scalar tail narrower than one vector.
template <class Arch, class Act, std::size_t RB, std::size_t NV>
void small_m_rows(parallel::range cols, std::size_t k, const float* a, std::size_t lda, const float* b, std::size_t ldb,
                  float* c, std::size_t ldc, const float* bias) {
    constexpr std::size_t W = simd_ops<Arch>::width;
    std::size_t j = cols.begin;
    for (; j + NV * W <= cols.end; j += NV * W)
        row_ukernel<Arch, RB, NV>::template run<Act>(k, a, lda, b + j, ldb, bias ? bias + j : nullptr, c + j, ldc);
    for (; j + W <= cols.end; j += W)
        row_ukernel<Arch, RB, 1>::template run<Act>(k, a, lda, b + j, ldb, bias ? bias + j : nullptr, c + j, ldc);
    for (; j < cols.end; ++j)
        for (std::size_t i = 0; i < RB; ++i) {
            float acc = bias ? bias[j] : 0.0f;
            for (std::size_t p = 0; p < k; ++p) acc += a[i * lda + p] * b[p * ldb + j];
            c[i * ldc + j] = Act::forward(acc);
        }
}

// The k at which a (k) is nonzero, in order: a single row's product reads only those rows of B.
// At batch 1 the product streams B (the weights) from memory, and an image's background or
// ReLU's zeros leave about half of its rows unread; skipped k only ever added exact zeros.
inline std::size_t nonzero_indices(const float* a, std::size_t k, std::uint32_t* indices) noexcept {
    std::size_t count = 0;
    for (std::size_t p = 0; p < k; ++p) {
        indices[count] = static_cast<std::uint32_t>(p);
        count += a[p] != 0.0f;  // branch-free; a NaN counts as nonzero
    }
    return count;
}

// One row (batch 1): c = bias + a · B over the columns `cols`, streaming B row after row (four at a
// time) with c as the accumulator: sequential reads suit the prefetchers better than column strips
// when every element of B is used once. Same summation order as row_ukernel;
// only the nonzero k of a (ks[0 .. count)) are visited.
template <class Arch, class Act> void single_row(parallel::range cols, std::size_t count, const std::uint32_t* ks,
                                                 const float* a, const float* b, std::size_t ldb, float* c,
                                                 const float* bias) {
    using S = simd_ops<Arch>;
    using vec = typename S::vec;
    constexpr std::size_t W = S::width;
    const std::size_t vec_end = cols.begin + (cols.end - cols.begin) / W * W;
    for (std::size_t j = cols.begin; j < cols.end; ++j) c[j] = bias ? bias[j] : 0.0f;
    std::size_t q = 0;
    for (; q + 4 <= count; q += 4) {
        const vec a0 = S::broadcast(a[ks[q]]), a1 = S::broadcast(a[ks[q + 1]]), a2 = S::broadcast(a[ks[q + 2]]),
                  a3 = S::broadcast(a[ks[q + 3]]);
        const float *b0 = b + ks[q] * ldb, *b1 = b + ks[q + 1] * ldb, *b2 = b + ks[q + 2] * ldb,
                    *b3 = b + ks[q + 3] * ldb;
        for (std::size_t j = cols.begin; j < vec_end; j += W) {
            vec acc = S::load(c + j);
            acc = S::fma(a0, S::load(b0 + j), acc);
            acc = S::fma(a1, S::load(b1 + j), acc);
            acc = S::fma(a2, S::load(b2 + j), acc);
            acc = S::fma(a3, S::load(b3 + j), acc);
            S::store(c + j, acc);
        }
    }
    for (; q < count; ++q) {
        const vec a0 = S::broadcast(a[ks[q]]);
        for (std::size_t j = cols.begin; j < vec_end; j += W)
            S::store(c + j, S::fma(a0, S::load(b + ks[q] * ldb + j), S::load(c + j)));
    }
    for (std::size_t j = vec_end; j < cols.end; ++j)
        for (std::size_t r = 0; r < count; ++r) c[j] += a[ks[r]] * b[ks[r] * ldb + j];
    std::size_t j = cols.begin;
    for (; j < vec_end; j += W) S::store(c + j, Act::forward(S::load(c + j)));
    for (; j < cols.end; ++j) c[j] = Act::forward(c[j]);
}

// Rows [0, RB) of the small-M inner-product path C = A · Bᵀ over the columns `cols` (rows of B).
template <class Arch, std::size_t RB, std::size_t CB> void small_m_dots(parallel::range cols, std::size_t k,
                                                                        const float* a, std::size_t lda, const float* b,
                                                                        std::size_t ldb, float* c, std::size_t ldc) {
    std::size_t j = cols.begin;
    for (; j + CB <= cols.end; j += CB) dot_ukernel<Arch, RB, CB>::run(k, a, lda, b + j * ldb, ldb, c + j, ldc);
    for (; j < cols.end; ++j) dot_ukernel<Arch, RB, 1>::run(k, a, lda, b + j * ldb, ldb, c + j, ldc);
}

}  // namespace detail

// C (m, n) = [bias +] A · B, then Act (elementwise) on every element; colsum (n) = Σ_k B[k][:] if given.
//   a (m, k) read as LA with stride lda; b (k, n) read as LB with stride ldb; c row stride ldc.
//   MS, NS, KS: the sizes when known at compile time (0 = run time); they fix block sizes at compile time.
// Pointers may be unaligned. k == 0 leaves C untouched.
template <class Arch, layout LA, layout LB, class Act, std::size_t MS = 0, std::size_t NS = 0, std::size_t KS = 0>
void gemm(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t lda, const float* b, std::size_t ldb,
          float* c, std::size_t ldc, const float* bias = nullptr, float* colsum = nullptr) {
    static_assert(Act::elementwise, "gemm<..., Act>: only elementwise activations can be fused into the tile");
    if constexpr (MS != 0) m = MS;
    if constexpr (NS != 0) n = NS;
    if constexpr (KS != 0) k = KS;
    if (m == 0 || n == 0) {
        if (colsum)  // no product to fuse the sums into
            for (std::size_t j = 0; j < n; ++j) {
                float s = 0.0f;
                for (std::size_t p = 0; p < k; ++p) s += *detail::element<LB>(b, ldb, p, j);
                colsum[j] = s;
            }
        return;
    }
    using cfg = gemm_config_for<Arch, NS>;
    // Deeper k-blocks when C is a single column panel: the B panel then streams from L2 and fewer
    // blocks mean fewer passes loading and storing C.
    constexpr std::size_t kc_static = detail::balanced_block(KS, cfg::KC, 1);
    constexpr std::size_t kc_static_narrow = detail::balanced_block(KS, 4 * cfg::KC, 1);
    const bool narrow = n <= gemm_config<Arch>::NR;  // (the wide tile's NR: k-blocks, so bits, do not depend on the tile)
    const std::size_t kc_step = KS != 0 ? (narrow ? kc_static_narrow : kc_static)
                                        : detail::balanced_block(k, narrow ? 4 * cfg::KC : cfg::KC, 1);

    const int threads = parallel::threads_for(m * n * k);
    const bool direct_b = detail::reads_b_in_place<LB>((m + threads - 1) / threads, colsum);  // unpacked
    const detail::split_kind split = detail::choose_split<cfg>(m, n, threads, direct_b);
    float* shared_b = split == detail::split_kind::rows_shared_b
                          ? detail::reserve(detail::workspace().shared_b,
                                            kc_step * std::min(cfg::NC, detail::round_up_to(n, cfg::NR)))
                          : nullptr;

    parallel::spin_barrier team(threads);
    std::atomic<std::size_t> next_row{0};
    parallel::run(threads, [&](int t, int nt) {
        detail::split_kind how = split;
        if (how == detail::split_kind::rows_shared_b && nt != threads) how = detail::split_kind::rows;  // fewer granted
        if (how == detail::split_kind::rows_shared_b) {
            // Rows claimed as the threads go when each has several row blocks to do; otherwise (few
            // rows) smaller blocks would cost more sweeps through B than the balance gains.
            const bool claimed = m >= 2 * cfg::MC * static_cast<std::size_t>(nt);
            const detail::rect r{claimed ? parallel::range{0, m} : parallel::split(m, nt, t, cfg::MR), {0, n}};
            detail::gemm_block<Arch, LA, LB, Act, cfg>(r, n, k, kc_step, a, lda, b, ldb, c, ldc, bias, colsum, false,
                                                  shared_b, &team, t, nt, claimed ? &next_row : nullptr);
        } else if (how == detail::split_kind::cols) {
            const detail::rect r{{0, m}, parallel::split(n, nt, t, cfg::NR)};
            detail::gemm_block<Arch, LA, LB, Act, cfg>(r, n, k, kc_step, a, lda, b, ldb, c, ldc, bias, colsum, direct_b);
        } else {  // private B: every thread sums all columns, thread 0 reports them
            const detail::rect r{parallel::split(m, nt, t, cfg::MR), {0, n}};
            detail::gemm_block<Arch, LA, LB, Act, cfg>(r, n, k, kc_step, a, lda, b, ldb, c, ldc, bias,
                                                  t == 0 ? colsum : nullptr, direct_b);
        }
    });
}

// Small M (a few batch rows), A and B row-major: C = [bias +] A · B then Act, streaming B once per
// 6 rows without packing it. Threads split the columns.
template <class Arch, class Act, std::size_t NS = 0, std::size_t KS = 0>
void gemm_small_m(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t lda, const float* b,
                  std::size_t ldb, float* c, std::size_t ldc, const float* bias = nullptr) {
    static_assert(Act::elementwise, "gemm_small_m<..., Act>: only elementwise activations can be fused");
    if constexpr (NS != 0) n = NS;
    if constexpr (KS != 0) k = KS;
    constexpr std::size_t W = detail::simd_ops<Arch>::width;
    constexpr std::size_t grain = 8 * W;  // widest column block (one row: 8 vector accumulators)

    // One row: the nonzero k, found once for all threads (skipping is exact, so always worth it).
    std::uint32_t* nonzero_k = nullptr;
    std::size_t nonzero_count = 0;
    if (m == 1) {
        std::vector<std::uint32_t>& indices = detail::workspace().nonzero_k;
        if (indices.size() < k) indices.resize(k);
        nonzero_k = indices.data();
        nonzero_count = detail::nonzero_indices(a, k, nonzero_k);
    }
    parallel::run(parallel::threads_for(m * n * k), [&](int t, int nt) {
        const parallel::range cols = parallel::split(n, nt, t, grain);
        if (m == 1) return detail::single_row<Arch, Act>(cols, nonzero_count, nonzero_k, a, b, ldb, c, bias);
        for (std::size_t i = 0; i < m; i += 6) {
            const std::size_t rows = std::min<std::size_t>(6, m - i);
            switch (rows) {
                case 1:
                    detail::small_m_rows<Arch, Act, 1, 8>(cols, k, a + i * lda, lda, b, ldb, c + i * ldc, ldc, bias);
                    break;
                case 2:
                    detail::small_m_rows<Arch, Act, 2, 6>(cols, k, a + i * lda, lda, b, ldb, c + i * ldc, ldc, bias);
                    break;
                case 3:
                    detail::small_m_rows<Arch, Act, 3, 4>(cols, k, a + i * lda, lda, b, ldb, c + i * ldc, ldc, bias);
                    break;
                case 4:
                    detail::small_m_rows<Arch, Act, 4, 3>(cols, k, a + i * lda, lda, b, ldb, c + i * ldc, ldc, bias);
                    break;
                case 5:
                    detail::small_m_rows<Arch, Act, 5, 2>(cols, k, a + i * lda, lda, b, ldb, c + i * ldc, ldc, bias);
                    break;
                default:
                    detail::small_m_rows<Arch, Act, 6, 2>(cols, k, a + i * lda, lda, b, ldb, c + i * ldc, ldc, bias);
                    break;
            }
        }
    });
}

// Small M, C = A · Bᵀ with A (m, k) and B (n, k) both row-major (dx = dz · wᵀ for a few rows):
// inner products along k, so w is streamed as stored, without a transposing pack. Threads split n.
template <class Arch, std::size_t NS = 0, std::size_t KS = 0>
void gemm_small_m_nt(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t lda, const float* b,
                     std::size_t ldb, float* c, std::size_t ldc) {
    if constexpr (NS != 0) n = NS;
    if constexpr (KS != 0) k = KS;
    constexpr std::size_t CB = 4;
    parallel::run(parallel::threads_for(m * n * k), [&](int t, int nt) {
        const parallel::range cols = parallel::split(n, nt, t, 2 * CB);
        std::size_t i = 0;
        for (; i + 2 <= m; i += 2)
            detail::small_m_dots<Arch, 2, CB>(cols, k, a + i * lda, lda, b, ldb, c + i * ldc, ldc);
        if (i < m) detail::small_m_dots<Arch, 1, 2 * CB>(cols, k, a + i * lda, lda, b, ldb, c + i * ldc, ldc);
    });
}

// C (m, n) = A · Bᵀ for a few rows m (up to a few tiles), A (m, k) and B (n, k) row-major
// (dx = dz · wᵀ at batch 5..64): computed as Cᵀ = B · Aᵀ, which reads B = w in place instead of
// packing it transposed, then transposed into C (m x n floats: cheap next to n x k reads of w).
template <class Arch, std::size_t NS = 0, std::size_t KS = 0>
void gemm_nt_few_rows(std::size_t m, std::size_t n, std::size_t k, const float* a, std::size_t lda, const float* b,
                      std::size_t ldb, float* c, std::size_t ldc) {
    if constexpr (NS != 0) n = NS;
    if constexpr (KS != 0) k = KS;
    float* ct = detail::reserve(detail::workspace().result, n * m);  // (n, m)
    gemm<Arch, layout::row_major, layout::col_major, Linear, NS, 0, KS>(n, m, k, b, ldb, a, lda, ct, m);
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) c[i * ldc + j] = ct[j * m + i];
}

}  // namespace ctnn::kernels
