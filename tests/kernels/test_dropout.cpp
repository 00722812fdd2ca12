// Tests of ctnn/kernels/dropout.hpp: mask generation (same bits as the naive twin, keep rate within
// statistical bounds, determinism per seed, edge rates, bad rates) and the vectorised forward/backward
// against their naive twins over sizes that hit every SIMD remainder.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "ctnn/core/random.hpp"
#include "ctnn/kernels/dropout.hpp"
#include "ctnn/kernels/reference.hpp"
#include "for_each_arch.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace kernels_test_dropout {

namespace {

namespace kn = ctnn::kernels;
namespace ref = ctnn::kernels::reference;
using ctnn::testing::for_each_arch;

constexpr std::size_t sweep_sizes[] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 500, 1000, 3 * 1000, 32 * 1000, 500 * 1000 + 3};

std::vector<float> random_vector(std::size_t n, std::uint64_t seed, float lo, float hi) {
    ctnn::Rng rng(seed);
    std::vector<float> v(n);
    for (auto& x : v) x = rng.uniform(lo, hi);
    return v;
}

std::vector<std::uint8_t> make_mask(std::size_t n, float rate, std::uint64_t seed) {
    ctnn::Rng rng(seed);
    std::vector<std::uint8_t> keep(n);
    kn::dropout_make_mask(n, rate, rng, keep.data());
    return keep;
}

std::size_t count_kept(const std::vector<std::uint8_t>& keep) {
    std::size_t kept = 0;
    for (auto k : keep) kept += k;
    return kept;
}

}  // namespace

TEST_CASE("DropoutKernels.mask_matches_naive_twin") {
    for (float rate : {0.0f, 0.1f, 0.5f, 0.9f, 1.0f, 0.3333f}) {
        for (std::size_t n : sweep_sizes) {
            INFO("rate=" << rate << " n=" << n);
            ctnn::Rng rng(42 + n), rng_ref(42 + n);
            std::vector<std::uint8_t> keep(n, 7), keep_ref(n, 7);
            kn::dropout_make_mask(n, rate, rng, keep.data());
            ref::dropout_make_mask_naive(n, rate, rng_ref, keep_ref.data());
            CHECK(keep == keep_ref);
            // Both consumed the same number of draws: the next mask of a layer is the same too.
            CHECK(rng.next_u64() == rng_ref.next_u64());
        }
    }
}

TEST_CASE("DropoutKernels.mask_keep_rate") {
    constexpr std::size_t n = 1'000'000;
    for (float rate : {0.1f, 0.5f, 0.9f}) {
        INFO("rate=" << rate);
        const auto keep = make_mask(n, rate, 2024);
        const double p = 1.0 - rate;
        // Binomial(n, p): 6 standard deviations, plus the 2^-16 rounding of the threshold.
        const double bound = 6.0 * std::sqrt(n * p * (1.0 - p)) + n * 0x1.0p-16;
        CHECK(std::fabs(double(count_kept(keep)) - n * p) < bound);
        for (auto k : keep) REQUIRE((k == 0 || k == 1));
    }
}

TEST_CASE("DropoutKernels.mask_determinism") {
    SUBCASE("equal seeds give equal masks") { CHECK(make_mask(100'003, 0.5f, 7) == make_mask(100'003, 0.5f, 7)); }
    SUBCASE("different seeds give different masks") { CHECK(make_mask(1000, 0.5f, 7) != make_mask(1000, 0.5f, 8)); }
    SUBCASE("consecutive masks from one generator differ") {
        ctnn::Rng rng(3);
        std::vector<std::uint8_t> a(1000), b(1000);
        kn::dropout_make_mask(a.size(), 0.5f, rng, a.data());
        kn::dropout_make_mask(b.size(), 0.5f, rng, b.data());
        CHECK(a != b);
    }
}

TEST_CASE("DropoutKernels.mask_edge_rates") {
    SUBCASE("rate 0 keeps every unit") { CHECK(count_kept(make_mask(100'001, 0.0f, 1)) == 100'001); }
    SUBCASE("rate 1 drops every unit") { CHECK(count_kept(make_mask(100'001, 1.0f, 1)) == 0); }
    SUBCASE("n = 0 writes nothing and draws nothing") {
        ctnn::Rng rng(5), untouched(5);
        kn::dropout_make_mask(0, 0.5f, rng, nullptr);
        CHECK(rng.next_u64() == untouched.next_u64());
    }
    SUBCASE("a rate outside [0, 1] or NaN is rejected with the argument named") {
        ctnn::Rng rng(1);
        std::uint8_t keep[4];
        for (float bad : {-0.1f, 1.5f, std::numeric_limits<float>::quiet_NaN()}) {
            INFO("rate=" << bad);
            CHECK_THROWS_AS(kn::dropout_make_mask(4, bad, rng, keep), std::invalid_argument);
            try {
                kn::dropout_make_mask(4, bad, rng, keep);
            } catch (const std::invalid_argument& e) {
                CHECK(std::string(e.what()).find("rate must be in [0, 1]") != std::string::npos);
            }
        }
    }
}

TEST_CASE("DropoutKernels.forward_backward_match_naive_twin") {
    for_each_arch([]<class Arch>() {
        for (std::size_t n : sweep_sizes) {
            INFO("n=" << n);
            const float scale = 1.0f / (1.0f - 0.3f);
            const auto keep = make_mask(n, 0.3f, n);
            const auto x = random_vector(n, 100 + n, -5.0f, 5.0f);
            std::vector<float> y(n, -1.0f), y_ref(n, -2.0f);
            kn::dropout_forward<Arch>(n, x.data(), keep.data(), scale, y.data());
            ref::dropout_forward_naive(n, x.data(), keep.data(), scale, y_ref.data());
            CHECK(y == y_ref);  // the same single multiply per unit: bit-identical
    
            auto dy = random_vector(n, 200 + n, -1.0f, 1.0f), dy_ref = dy;
            kn::dropout_backward<Arch>(n, keep.data(), scale, dy.data());
            ref::dropout_backward_naive(n, keep.data(), scale, dy_ref.data());
            CHECK(dy == dy_ref);
        }
    });
}

TEST_CASE("DropoutKernels.forward_by_hand") {
    for_each_arch([]<class Arch>() {
        {
            INFO("kept units are scaled, dropped ones are exactly zero even for inf and NaN");
            const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
            const float x[11] = {1, 2, 3, 4, 5, 6, 7, 8, 9, inf, nan};
            const std::uint8_t keep[11] = {1, 0, 1, 0, 1, 1, 0, 0, 1, 0, 0};
            float y[11];
            kn::dropout_forward<Arch>(11, x, keep, 2.0f, y);
            const float want[11] = {2, 0, 6, 0, 10, 12, 0, 0, 18, 0, 0};
            for (std::size_t k = 0; k < 11; ++k) CHECK(y[k] == want[k]);
        }
        {
            INFO("in place (x and y alias)");
            float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
            const std::uint8_t keep[9] = {0, 1, 0, 1, 0, 1, 0, 1, 0};
            kn::dropout_forward<Arch>(9, x, keep, 0.5f, x);
            const float want[9] = {0, 1, 0, 2, 0, 3, 0, 4, 0};
            for (std::size_t k = 0; k < 9; ++k) CHECK(x[k] == want[k]);
        }
    });
}

}  // namespace kernels_test_dropout
