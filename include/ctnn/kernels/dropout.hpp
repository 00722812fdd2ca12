// ctnn/kernels/dropout.hpp — inverted dropout with a byte mask (1 = kept): mask generation,
// forward and backward. Keras meaning: `rate` is the fraction DROPPED, survivors are scaled by
// scale = 1/(1 − rate). Oracles: the *_naive twins in kernels/reference.hpp.
//
// n = number of units in the block (batch · features); x, y, dy, keep are all (n).
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>

#include "ctnn/core/random.hpp"
#include "ctnn/kernels/simd.hpp"

namespace ctnn::kernels {

namespace detail {

// A unit is dropped when a 16-bit chunk of a draw is below rate · 2^16, so P(keep) is 1 − rate
// rounded to a multiple of 2^-16 (1.5e-5: far below the sampling noise of any layer). rate 0 gives
// threshold 0 (all kept), rate 1 gives 65536 (none kept).
inline std::uint32_t dropout_threshold(float rate) {
    if (!(rate >= 0.0f && rate <= 1.0f))  // also rejects NaN
        throw std::invalid_argument("dropout_make_mask(n, rate, rng, keep): rate must be in [0, 1], got " +
                                    std::to_string(rate));
    return static_cast<std::uint32_t>(static_cast<double>(rate) * 65536.0 + 0.5);
}

}  // namespace detail

// keep[k] = 1 with probability 1 − rate, else 0.                                       keep (n)
// One 64-bit draw feeds four units, its 16-bit chunks taken from the low end (unit 4i+j gets bits
// 16j..16j+15 of draw i); the last draw's unused chunks are discarded. So the mask, and the state
// the Rng is left in (ceil(n/4) draws), depend only on the Rng state and n: the threads draw their
// parts of the stream at their offsets (Rng::draw_at), which gives the bits of drawing in order.
inline void dropout_make_mask(std::size_t n, float rate, ctnn::Rng& rng, std::uint8_t* keep) {
    const std::uint32_t threshold = detail::dropout_threshold(rate);
    const auto unit_keeps = [threshold](std::uint64_t draw, unsigned j) -> std::uint32_t {
        return ((draw >> (16 * j)) & 0xFFFFu) >= threshold ? 1u : 0u;
    };
    const std::size_t full_draws = n / 4;
    const auto draw_range = [&](std::size_t first, std::size_t last) {
        for (std::size_t i = first; i < last; ++i) {
            const std::uint64_t draw = rng.draw_at(i);
            // Build four bytes, store once: lets the compiler keep everything in registers.
            std::uint32_t packed = 0;
            for (unsigned j = 0; j < 4; ++j) packed |= unit_keeps(draw, j) << (8 * j);
            if constexpr (std::endian::native == std::endian::little) {
                std::memcpy(keep + 4 * i, &packed, 4);
            } else {
                for (unsigned j = 0; j < 4; ++j) keep[4 * i + j] = static_cast<std::uint8_t>(packed >> (8 * j));
            }
        }
    };
    constexpr std::size_t draws_per_part = detail::parallel_chunk / 4;
    if (full_draws <= draws_per_part) draw_range(0, full_draws);
    else detail::parallel_parts(full_draws, draws_per_part, draw_range);
    if (full_draws * 4 < n) {
        const std::uint64_t draw = rng.draw_at(full_draws);
        for (std::size_t k = full_draws * 4; k < n; ++k) keep[k] = static_cast<std::uint8_t>(unit_keeps(draw, unsigned(k % 4)));
    }
    rng.discard((n + 3) / 4);
}

// y = keep ? x · scale : 0.      A dropped unit gives exactly 0, even where x is inf or NaN.
template <class Arch = simd_arch>
inline void dropout_forward(std::size_t n, const float* x, const std::uint8_t* keep, float scale, float* y) {
    detail::simd_for_parallel<Arch>(n, [=](std::size_t k, auto l) {
        detail::store(y + k, detail::select(detail::load_mask(l, keep + k), detail::load(l, x + k) * detail::splat(l, scale),
                                            detail::splat(l, 0.0f)));
    });
}

// In place: dy = keep ? dy · scale : 0.
template <class Arch = simd_arch>
inline void dropout_backward(std::size_t n, const std::uint8_t* keep, float scale, float* dy) {
    detail::simd_for_parallel<Arch>(n, [=](std::size_t k, auto l) {
        detail::store(dy + k, detail::select(detail::load_mask(l, keep + k), detail::load(l, dy + k) * detail::splat(l, scale),
                                             detail::splat(l, 0.0f)));
    });
}

}  // namespace ctnn::kernels
