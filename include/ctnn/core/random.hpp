// ctnn/core/random.hpp — one seeded generator for initialisation, shuffling and dropout.
//
// std::mt19937 is portable but its distributions are not (libstdc++ and libc++ differ), so the
// same seed would give other weights elsewhere. SplitMix64 plus our own float mapping is tiny,
// fast enough for dropout masks, and gives identical streams everywhere.
#pragma once

#include <cstdint>
#include <utility>

namespace ctnn {

class Rng {
public:
    explicit constexpr Rng(std::uint64_t seed = 0) noexcept : state_(seed) {}

    constexpr std::uint64_t next_u64() noexcept { return mix(state_ += gamma); }
    // The draw that next_u64 would return after i others, without moving. SplitMix64's state is a
    // counter, so its stream can be cut into parts drawn on several threads with the same bits.
    constexpr std::uint64_t draw_at(std::uint64_t i) const noexcept { return mix(state_ + (i + 1) * gamma); }
    // Moves on by n draws, as n calls of next_u64 would.
    constexpr void discard(std::uint64_t n) noexcept { state_ += n * gamma; }
    // Uniform in [0, 1) with 24 random bits: every float it returns is exactly representable.
    constexpr float uniform() noexcept { return static_cast<float>(next_u64() >> 40) * 0x1.0p-24f; }
    constexpr float uniform(float lo, float hi) noexcept { return lo + (hi - lo) * uniform(); }
    // Uniform integer in [0, n); the modulo bias is below 2^-40 for any data set size.
    constexpr std::uint64_t below(std::uint64_t n) noexcept { return next_u64() % n; }
    // An independent stream, e.g. one per layer, so adding a layer does not shift the others' draws.
    constexpr Rng split() noexcept { return Rng(next_u64()); }
    // The whole state: Rng(state()) continues this stream exactly (what a training backup stores).
    constexpr std::uint64_t state() const noexcept { return state_; }

    template <class RandomIt>
    constexpr void shuffle(RandomIt first, RandomIt last) noexcept {
        for (auto n = last - first; n > 1; --n) {
            auto j = static_cast<decltype(n)>(below(static_cast<std::uint64_t>(n)));
            std::swap(first[n - 1], first[j]);
        }
    }

private:
    static constexpr std::uint64_t gamma = 0x9E3779B97F4A7C15ULL;
    static constexpr std::uint64_t mix(std::uint64_t z) noexcept {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        return z ^ (z >> 31);
    }
    std::uint64_t state_;
};

}  // namespace ctnn
