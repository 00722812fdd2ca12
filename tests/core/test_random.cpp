// Rng: the random access into SplitMix64's stream that parallel dropout masks rely on.
#include <doctest/doctest.h>

#include <cstdint>
#include <vector>

#include <ctnn/core/random.hpp>

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace core_test_random {

TEST_CASE("Rng::draw_at(i) is the draw next_u64 returns after i others, and discard(n) skips n draws") {
    for (std::uint64_t seed : {std::uint64_t{0}, std::uint64_t{42}, ~std::uint64_t{0}}) {
        ctnn::Rng ahead(seed), walking(seed);
        std::vector<std::uint64_t> draws;
        for (int i = 0; i < 100; ++i) draws.push_back(walking.next_u64());
        for (std::uint64_t i = 0; i < draws.size(); ++i) CHECK(ahead.draw_at(i) == draws[i]);
        CHECK(ahead.next_u64() == draws[0]);  // draw_at did not move it
        ahead.discard(98);
        CHECK(ahead.next_u64() == draws[99]);
        CHECK(ahead.next_u64() == walking.next_u64());
    }
}

}  // namespace core_test_random
