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

namespace ctnn::kernels {

// y (B, Size) = in[0] + in[1] + ... (in input order).
template <std::size_t Size, std::size_t N>
inline void add_forward(std::size_t batch, const std::array<const float*, N>& in, float* y) {
    static_assert(N >= 1, "add_forward: at least one input");
    const std::size_t n = batch * Size;
    if (in[0] != y) std::copy(in[0], in[0] + n, y);
    for (std::size_t i = 1; i < N; ++i) {
        const float* a = in[i];
        for (std::size_t k = 0; k < n; ++k) y[k] += a[k];
    }
}

// acc (n) += a (n)
inline void accumulate(std::size_t n, const float* a, float* acc) {
    for (std::size_t k = 0; k < n; ++k) acc[k] += a[k];
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
