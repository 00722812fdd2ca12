// ctnn/kernels/merge.hpp — the arithmetic of the merge layers (Add, Concatenate) of blocks.
//
// B = batch, P = positions per sample (H·W for images, 1 for vectors), C_i = channels of input i.
// Concatenate joins along the last axis (channels, as Keras's default axis=-1): each position's
// channels of input 0, then of input 1, ... Sums run in input order, so the bits never depend on
// the thread count.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>

#include "ctnn/kernels/simd.hpp"

namespace ctnn::kernels {

// y (B, Size) = in[0] + in[1] + ... (in input order).
// One pass over the elements, vectorized and split among threads: each element's sum is the same
// chain ((in[0] + in[1]) + in[2]) ..., whatever the split.
template <std::size_t Size, std::size_t N, class Arch = simd_arch>
inline void add_forward(std::size_t batch, const std::array<const float*, N>& in, float* y) {
    static_assert(N >= 1, "add_forward: at least one input");
    detail::simd_for_parallel<Arch>(batch * Size, [&in, y](std::size_t k, auto l) {
        auto sum = detail::load(l, in[0] + k);
        for (std::size_t i = 1; i < N; ++i) sum = sum + detail::load(l, in[i] + k);
        detail::store(y + k, sum);
    });
}

// acc (n) += a (n)
template <class Arch = simd_arch> inline void accumulate(std::size_t n, const float* a, float* acc) {
    detail::simd_for_parallel<Arch>(n, [=](std::size_t k, auto l) {
        detail::store(acc + k, detail::load(l, acc + k) + detail::load(l, a + k));
    });
}

// y (B, P, C_0 + C_1 + ...) from in[i] (B, P, C_i).
template <std::size_t Positions, std::size_t... Channels>
inline void concatenate_forward(std::size_t batch, const std::array<const float*, sizeof...(Channels)>& in, float* y) {
    constexpr std::array<std::size_t, sizeof...(Channels)> channels{Channels...};
    constexpr std::size_t total = (Channels + ...);
    const std::size_t rows = batch * Positions;
    for (std::size_t r = 0; r < rows; ++r) {
        float* out = y + r * total;
        for (std::size_t i = 0; i < channels.size(); ++i) {
            const float* src = in[i] + r * channels[i];
            out = std::copy(src, src + channels[i], out);
        }
    }
}

// dy_i (B, P, Channels): input i's part of dy (B, P, Total), its channels starting at Offset.
template <std::size_t Positions, std::size_t Offset, std::size_t Channels, std::size_t Total>
inline void concatenate_backward(std::size_t batch, const float* dy, float* dy_i) {
    const std::size_t rows = batch * Positions;
    for (std::size_t r = 0; r < rows; ++r) std::copy_n(dy + r * Total + Offset, Channels, dy_i + r * Channels);
}

}  // namespace ctnn::kernels
