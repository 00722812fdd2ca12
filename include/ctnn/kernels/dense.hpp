// ctnn/kernels/dense.hpp — the three matrix products of a Dense layer, statically sized.
// B = batch (run time); In, Out compile time. Row-major. Same contracts as the naive twins
// in kernels/reference.hpp, which the tests compare against. Which GEMM path runs (packed and
// blocked, or unpacked for a few rows) is decided here; the GEMMs themselves are in gemm.hpp.
#pragma once

#include <algorithm>
#include <cstddef>
#include <type_traits>

#include "ctnn/activations.hpp"
#include "ctnn/kernels/activation.hpp"
#include "ctnn/kernels/gemm.hpp"

namespace ctnn::kernels {

// Up to this many rows the products stream w unpacked: packing w (a full read and write of it)
// would cost more than the few rows reuse it.
inline constexpr std::size_t small_batch_forward = 8;
inline constexpr std::size_t small_batch_backward_data = 4;
// Up to this many rows dx = dz · wᵀ is computed transposed (w read in place, see gemm_nt_few_rows).
inline constexpr std::size_t few_rows_backward_data = detail::direct_max_panels * gemm_config<gemm_arch>::NR;

// y = Act(x · w + bias)        x (B, In), w (In, Out), bias (Out), y (B, Out)
// Elementwise activations are applied on the register tile; Softmax runs row-wise afterwards.
template <std::size_t In, std::size_t Out, class Act>
void dense_forward(std::size_t batch, const float* x, const float* w, const float* bias, float* y) {
    using Fused = std::conditional_t<Act::elementwise, Act, Linear>;
    if (batch <= small_batch_forward)
        gemm_small_m<gemm_arch, Fused, Out, In>(batch, Out, In, x, In, w, Out, y, Out, bias);
    else
        gemm<gemm_arch, layout::row_major, layout::row_major, Fused, 0, Out, In>(batch, Out, In, x, In, w, Out, y, Out,
                                                                                 bias);
    if constexpr (!Act::elementwise) activation_forward<Out, Act>(batch, y, y);
}

// dx = dz · wᵀ                  dz (B, Out), w (In, Out), dx (B, In)
template <std::size_t In, std::size_t Out>
void dense_backward_data(std::size_t batch, const float* dz, const float* w, float* dx) {
    if (batch <= small_batch_backward_data)
        gemm_small_m_nt<gemm_arch, In, Out>(batch, In, Out, dz, Out, w, Out, dx, In);
    else if (batch <= few_rows_backward_data)
        gemm_nt_few_rows<gemm_arch, In, Out>(batch, In, Out, dz, Out, w, Out, dx, In);
    else  // wᵀ (Out, In) is w read column-major with stride Out
        gemm<gemm_arch, layout::row_major, layout::col_major, Linear, 0, In, Out>(batch, In, Out, dz, Out, w, Out, dx,
                                                                                  In);
}

// dw = xᵀ · dz, db = column sums of dz (overwrite)   dw (In, Out), db (Out)
// db is summed while dz is packed, so it costs no extra pass over dz.
template <std::size_t In, std::size_t Out>
void dense_backward_weights(std::size_t batch, const float* x, const float* dz, float* dw, float* db) {
    if (batch == 0) {
        std::fill(dw, dw + In * Out, 0.0f);
        std::fill(db, db + Out, 0.0f);
        return;
    }
    // xᵀ (In, B) is x read column-major with stride In.
    gemm<gemm_arch, layout::col_major, layout::row_major, Linear, In, Out, 0>(In, Out, batch, x, In, dz, Out, dw, Out,
                                                                              nullptr, db);
}

}  // namespace ctnn::kernels
