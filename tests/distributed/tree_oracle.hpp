// tests/distributed/tree_oracle.hpp — the serial oracle for sum_shards_in_tree_order and the data it
// is checked on; shared by the thread-rank unit tests and the programs run under mpirun.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <random>
#include <utility>
#include <vector>

namespace ctnn::testing {

// `shards` vectors of `length` floats of both signs and magnitudes 2^-20 .. 2^20: their sums round
// differently under different groupings, so a wrong order shows up in the bits. Built from the raw
// bits of a fixed mt19937_64 sequence (no library distribution), the same on every rank and compiler.
inline std::vector<std::vector<float>> mixed_magnitude_shards(std::size_t shards, std::size_t length,
                                                              std::uint64_t seed) {
    std::mt19937_64 bits(seed);
    std::vector<std::vector<float>> data(shards, std::vector<float>(length));
    for (auto& shard : data)
        for (float& x : shard) {
            const std::uint64_t r = bits();
            const auto mantissa = static_cast<std::uint32_t>(r & 0x7fffffu);
            const auto exponent = static_cast<std::uint32_t>(127 - 20 + static_cast<int>((r >> 23) % 41));
            const auto sign = static_cast<std::uint32_t>((r >> 40) & 1u);
            x = std::bit_cast<float>((sign << 31) | (exponent << 23) | mantissa);
        }
    return data;
}

// The seed of the (shards, length) cases of the tests: + 2 is the first offset at which a
// left-to-right sum differs from the tree in the bits for every case, even those of one element
// (which a different grouping often happens to round alike).
inline std::uint64_t case_seed(std::size_t shards, std::size_t length) { return 1000 * shards + length + 2; }

// The definition, written plainly: level 0 is the shards, each next level adds neighbours pairwise
// (left + right) until one vector is left. `shards.size()` must be a power of two.
inline std::vector<float> serial_tree_sum(std::vector<std::vector<float>> level) {
    while (level.size() > 1) {
        std::vector<std::vector<float>> next(level.size() / 2);
        for (std::size_t i = 0; i < next.size(); ++i) {
            next[i] = level[2 * i];
            for (std::size_t k = 0; k < next[i].size(); ++k) next[i][k] = level[2 * i][k] + level[2 * i + 1][k];
        }
        level = std::move(next);
    }
    return level.front();
}

// Another grouping of the same sum: ((s0 + s1) + s2) + ... — what the tree must not be.
inline std::vector<float> left_to_right_sum(const std::vector<std::vector<float>>& shards) {
    std::vector<float> sum = shards.front();
    for (std::size_t i = 1; i < shards.size(); ++i)
        for (std::size_t k = 0; k < sum.size(); ++k) sum[k] = sum[k] + shards[i][k];
    return sum;
}

// The number of elements whose bits differ (0: bit-identical).
inline std::size_t bits_differing(const std::vector<float>& a, const std::vector<float>& b) {
    if (a.size() != b.size()) return a.size() > b.size() ? a.size() : b.size();
    std::size_t n = 0;
    for (std::size_t k = 0; k < a.size(); ++k)
        n += std::bit_cast<std::uint32_t>(a[k]) != std::bit_cast<std::uint32_t>(b[k]);
    return n;
}

// FNV-1a over the floats' bytes: one number to compare between separate runs.
inline std::uint64_t fnv1a(const std::vector<float>& v, std::uint64_t hash = 0xcbf29ce484222325ull) {
    for (float x : v) {
        unsigned char bytes[sizeof(float)];
        std::memcpy(bytes, &x, sizeof x);
        for (unsigned char b : bytes) hash = (hash ^ b) * 0x100000001b3ull;
    }
    return hash;
}

}  // namespace ctnn::testing
