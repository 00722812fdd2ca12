// ctnn/kernels/dense.hpp — the three matrix products of a Dense layer, statically sized.
// B = batch (run time); In, Out compile time. Row-major. Same contracts as the naive twins
// in kernels/reference.hpp, which the tests compare against. Which GEMM path runs (packed and
// blocked, or unpacked for a few rows) is decided here; the GEMMs themselves are in gemm.hpp.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "ctnn/activations.hpp"
#include "ctnn/kernels/activation.hpp"
#include "ctnn/kernels/gemm.hpp"
#include "ctnn/kernels/sparse.hpp"

namespace ctnn::kernels {

// Up to this many rows the products stream w unpacked: packing w (a full read and write of it)
// would cost more than the few rows reuse it.
inline constexpr std::size_t small_batch_forward = 8;
inline constexpr std::size_t small_batch_backward_data = 4;
// Up to this many rows dx = dz · wᵀ is computed transposed (w read in place, see gemm_nt_few_rows).
template <class Arch = simd_arch>
inline constexpr std::size_t few_rows_backward_data = detail::direct_max_panels * gemm_config<Arch>::NR;

// The sparse backward (kernels/sparse.hpp) runs when at most this fraction of dz is nonzero: below
// the density at which it costs as much as the GEMMs, at every batch size (the measurements behind
// it: benchmarks/README.md, "Why the thresholds are what they are").
inline constexpr double sparse_max_density = 0.15;
// Off: Dense uses the dense GEMMs only (benchmarks of the dense kernels, or one code path wanted).
inline std::atomic<bool> sparse_products_enabled{true};

namespace detail {
struct sparse_workspace {
    sparse_rows dz, dz_t;                // dz (B, Out) and dzᵀ (Out, B) compressed
    std::vector<std::uint32_t> cursor;  // scratch of transpose
};
inline sparse_workspace& sparse_scratch() {
    thread_local sparse_workspace ws;
    return ws;
}
}  // namespace detail

// y = Act(x · w + bias)        x (B, In), w (In, Out), bias (Out), y (B, Out)
// Elementwise activations are applied on the register tile; Softmax runs row-wise afterwards.
template <std::size_t In, std::size_t Out, class Act, class Arch = simd_arch>
void dense_forward(std::size_t batch, const float* x, const float* w, const float* bias, float* y) {
    using Fused = std::conditional_t<Act::elementwise, Act, Linear>;
    if (batch <= small_batch_forward)
        gemm_small_m<Arch, Fused, Out, In>(batch, Out, In, x, In, w, Out, y, Out, bias);
    else
        gemm<Arch, layout::row_major, layout::row_major, Fused, 0, Out, In>(batch, Out, In, x, In, w, Out, y, Out,
                                                                                 bias);
    if constexpr (!Act::elementwise) activation_forward<Out, Act, Arch>(batch, y, y);
}

// dx = dz · wᵀ                  dz (B, Out), w (In, Out), dx (B, In)
template <std::size_t In, std::size_t Out, class Arch = simd_arch>
void dense_backward_data(std::size_t batch, const float* dz, const float* w, float* dx) {
    if (batch <= small_batch_backward_data)
        gemm_small_m_nt<Arch, In, Out>(batch, In, Out, dz, Out, w, Out, dx, In);
    else if (batch <= few_rows_backward_data<Arch>)
        gemm_nt_few_rows<Arch, In, Out>(batch, In, Out, dz, Out, w, Out, dx, In);
    else  // wᵀ (Out, In) is w read column-major with stride Out
        gemm<Arch, layout::row_major, layout::col_major, Linear, 0, In, Out>(batch, In, Out, dz, Out, w, Out, dx,
                                                                                  In);
}

// dw = xᵀ · dz, db = column sums of dz (overwrite)   dw (In, Out), db (Out)
// db is summed while dz is packed, so it costs no extra pass over dz.
template <std::size_t In, std::size_t Out, class Arch = simd_arch>
void dense_backward_weights(std::size_t batch, const float* x, const float* dz, float* dw, float* db) {
    if (batch == 0) {
        std::fill(dw, dw + In * Out, 0.0f);
        std::fill(db, db + Out, 0.0f);
        return;
    }
    // xᵀ (In, B) is x read column-major with stride In.
    gemm<Arch, layout::col_major, layout::row_major, Linear, In, Out, 0>(In, Out, batch, x, In, dz, Out, dw, Out,
                                                                              nullptr, db);
}

// Both backward products of a Dense layer: dw = xᵀ · dz, db = column sums of dz, and dx = dz · wᵀ
// unless dx is nullptr. When dz is mostly zeros (a ReLU or Dropout after the layer) they are
// computed from its nonzero entries: dx = dz · wᵀ row by row, dw = (dzᵀ · x)ᵀ column by column.
// Returns whether it took that sparse path (for tests and benchmarks).
template <std::size_t In, std::size_t Out, class Arch = simd_arch>
bool dense_backward(std::size_t batch, const float* x, const float* dz, const float* w, float* dw, float* db,
                    float* dx) {
    detail::sparse_workspace& ws = detail::sparse_scratch();
    const auto max_nonzeros = static_cast<std::size_t>(sparse_max_density * double(batch * Out));
    if (batch > 0 && sparse_products_enabled.load(std::memory_order_relaxed) &&
        sampled_density(batch, Out, dz, 16) <= 2 * sparse_max_density &&
        compress_rows<Arch>(batch, Out, dz, max_nonzeros, ws.dz)) {
        if (dx != nullptr) sparse_times_transpose<In, Arch>(ws.dz, w, dx);  // dx = dz · wᵀ
        transpose(ws.dz, ws.dz_t, ws.cursor);
        sparse_times_dense_transposed<In, Arch>(ws.dz_t, x, dw);  // dw = (dzᵀ · x)ᵀ
        for (std::size_t o = 0; o < Out; ++o) {
            float sum = 0.0f;
            for (std::size_t e = ws.dz_t.start[o]; e < ws.dz_t.start[o + 1]; ++e) sum += ws.dz_t.value[e];
            db[o] = sum;
        }
        return true;
    }
    dense_backward_weights<In, Out, Arch>(batch, x, dz, dw, db);
    if (dx != nullptr) dense_backward_data<In, Out, Arch>(batch, dz, w, dx);
    return false;
}

}  // namespace ctnn::kernels
