// Tests of kernels/gemm.hpp: the packed GEMM (NN, NT, TN), its fused epilogues and the small-M
// paths, at run-time sizes that hit every edge of the MR x NR tile and of the MC/KC/NC blocks,
// against a plain double-precision product computed here.
#include <atomic>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include <doctest/doctest.h>

#include "ctnn/activations.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/core/tensor.hpp"
#include "ctnn/kernels/gemm.hpp"
#include "for_each_arch.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace kernels_test_gemm {

namespace {

using namespace ctnn::kernels;
using ctnn::testing::for_each_arch;

// A buffer of n random floats in [-1, 1) starting `offset` floats past a 64-byte boundary.
struct Operand {
    ctnn::Buffer storage;
    float* data;
    Operand(std::size_t n, std::size_t offset, std::uint64_t seed)
        : storage(n + offset + 1), data(storage.data() + offset) {
        ctnn::Rng rng(seed);
        for (auto& v : storage) v = rng.uniform(-1.0f, 1.0f);
    }
};

template <layout L> double at(const float* p, std::size_t ld, std::size_t r, std::size_t c) {
    return L == layout::row_major ? p[r * ld + c] : p[c * ld + r];
}

// Checks c against bias + A · B (Relu applied if relu): error bound 2·K·eps·Σ|a·b| per element,
// the standard bound for a float dot product of length K, plus a few ulps for the bias.
template <layout LA, layout LB> void check_product(std::size_t m, std::size_t n, std::size_t k, const float* a,
                                                   std::size_t lda, const float* b, std::size_t ldb, const float* c,
                                                   std::size_t ldc, const float* bias, bool relu) {
    std::size_t bad = 0;
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            double acc = bias ? bias[j] : 0.0, mag = bias ? std::abs(bias[j]) : 0.0;
            for (std::size_t p = 0; p < k; ++p) {
                const double t = at<LA>(a, lda, i, p) * at<LB>(b, ldb, p, j);
                acc += t;
                mag += std::abs(t);
            }
            if (relu) acc = acc > 0 ? acc : 0;
            const double tol = 2.0 * double(k + 2) * 0x1.0p-24 * mag + 1e-30;
            if (std::abs(c[i * ldc + j] - acc) > tol && bad++ < 5)
                FAIL_CHECK("C[" << i << "][" << j << "] = " << c[i * ldc + j] << ", expected " << acc << " ± " << tol
                                << " (m=" << m << " n=" << n << " k=" << k << ")");
        }
    CHECK(bad == 0);
}

template <layout LA, layout LB, class Arch = gemm_arch>
void run_case(std::size_t m, std::size_t n, std::size_t k, bool with_bias, std::size_t offset) {
    // A (m, k) stored as LA with a padded leading dimension, to catch a wrong stride.
    const std::size_t lda = (LA == layout::row_major ? k : m) + 3, ldb = (LB == layout::row_major ? n : k) + 5;
    const std::size_t ldc = n + 2;
    Operand a((LA == layout::row_major ? m : k) * lda, offset, 1 + m);
    Operand b((LB == layout::row_major ? k : n) * ldb, offset, 2 + n);
    Operand bias(n, offset, 3 + k);
    Operand c(m * ldc, offset, 4);
    Operand sums(n, offset, 5);
    // Column sums only without bias: a row-major B is then read in place (no pack to sum it in).
    float* colsum = with_bias ? nullptr : sums.data;
    gemm<Arch, LA, LB, ctnn::Relu>(m, n, k, a.data, lda, b.data, ldb, c.data, ldc, with_bias ? bias.data : nullptr,
                                   colsum);
    check_product<LA, LB>(m, n, k, a.data, lda, b.data, ldb, c.data, ldc, with_bias ? bias.data : nullptr, true);
    for (std::size_t j = 0; j < n && colsum; ++j) {
        double s = 0, mag = 0;
        for (std::size_t p = 0; p < k; ++p) {
            s += at<LB>(b.data, ldb, p, j);
            mag += std::abs(at<LB>(b.data, ldb, p, j));
        }
        CHECK(std::abs(sums.data[j] - s) <= 2.0 * double(k + 1) * 0x1.0p-24 * mag);
    }
    // Elements between rows (the ld padding) must be untouched: c was filled from seed 4.
    Operand fresh(m * ldc, offset, 4);
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = n; j < ldc; ++j) CHECK(c.data[i * ldc + j] == fresh.data[i * ldc + j]);
}

// Sizes around the arch's register tile.
template <class Arch> std::vector<std::size_t> edge_sizes() {
    constexpr std::size_t MR = gemm_config<Arch>::MR, NR = gemm_config<Arch>::NR;
    return {1, 2, MR - 1, MR, MR + 1, NR - 1, NR, NR + 1, 2 * NR + 3, 100};
}

}  // namespace

TEST_CASE("gemm.nn_edges") {
    for_each_arch([]<class Arch>() {
        for (std::size_t m : edge_sizes<Arch>())
            for (std::size_t n : edge_sizes<Arch>())
                for (std::size_t k : {std::size_t{1}, std::size_t{7}, std::size_t{33}})
                    run_case<layout::row_major, layout::row_major, Arch>(m, n, k, true, 1);
    });
}

TEST_CASE("gemm.nt_edges") {
    for_each_arch([]<class Arch>() {
        for (std::size_t m : edge_sizes<Arch>())
            for (std::size_t n : edge_sizes<Arch>())
                for (std::size_t k : {std::size_t{1}, std::size_t{8}, std::size_t{17}})
                    run_case<layout::row_major, layout::col_major, Arch>(m, n, k, false, 0);
    });
}

TEST_CASE("gemm.tn_edges") {
    for_each_arch([]<class Arch>() {
        for (std::size_t m : edge_sizes<Arch>())
            for (std::size_t n : edge_sizes<Arch>())
                for (std::size_t k : {std::size_t{1}, std::size_t{6}, std::size_t{31}})
                    run_case<layout::col_major, layout::row_major, Arch>(m, n, k, false, 1);
    });
}

TEST_CASE("gemm.blocks") {
    for_each_arch([]<class Arch>() {
        using cfg = gemm_config<Arch>;
        // Sizes crossing MC, KC (several k-blocks: load-and-accumulate tiles) and the thread split.
        {
            INFO("several k blocks");
            run_case<layout::row_major, layout::row_major, Arch>(37, 45, 2 * cfg::KC + 11, true, 1);
        }
        {
            INFO("several m blocks");
            run_case<layout::row_major, layout::col_major, Arch>(2 * cfg::MC + 7, 70, 40, false, 0);
        }
        {
            INFO("rows and columns split");
            run_case<layout::col_major, layout::row_major, Arch>(301, 9, 600, false, 1);
        }
        {
            INFO("large");
            run_case<layout::row_major, layout::row_major, Arch>(250, 333, 515, true, 0);
        }
        {
            INFO("B in place, several k blocks");
            run_case<layout::row_major, layout::row_major, Arch>(50, 131, 600, true, 1);
        }
        // Up to 64 rows per thread read B in place: on two threads 120 rows do (columns split), on one not.
        {
            INFO("B in place, 120 rows");
            run_case<layout::row_major, layout::row_major, Arch>(120, 131, 300, true, 0);
        }
        {
            INFO("A in place, several k blocks");
            run_case<layout::col_major, layout::row_major, Arch>(301, 40, 1100, false, 0);
        }
        // From 2 x MC rows per thread the team claims row blocks (down to one MR tile, the last one partial).
        {
            INFO("rows claimed");
            run_case<layout::row_major, layout::row_major, Arch>(4 * cfg::MC + 7, 45, 300, true, 1);
        }
        {
            INFO("rows claimed, column-major A");
            run_case<layout::col_major, layout::row_major, Arch>(4 * cfg::MC + 11, 37, 260, false, 0);
        }
    });
}

// The generic scalar fallback (4 x 4 tile) that a build without a known SIMD ISA would use.
TEST_CASE("gemm.generic_arch_edges") {
    using Arch = generic_arch;
    using other = gemm_config<Arch>;
    for (std::size_t m : {std::size_t{1}, other::MR - 1, other::MR + 1, std::size_t{70}})
        for (std::size_t n : {std::size_t{1}, other::NR - 1, other::NR + 1, std::size_t{70}}) {
            run_case<layout::row_major, layout::row_major, Arch>(m, n, 300, true, 1);
            run_case<layout::row_major, layout::col_major, Arch>(m, n, 9, false, 0);
            run_case<layout::col_major, layout::row_major, Arch>(m, n, 13, false, 1);
        }
}

TEST_CASE("compact_zero_k keeps, in order, the k at which some row of the panel is nonzero") {
    constexpr std::size_t MR = 3, kc = 6;
    // k = 1 and 4 are all zero (one as -0.0f); k = 5 holds a NaN, which must be kept.
    float panel[kc * MR] = {1, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 3, -0.0f, 0, 0, 0, 0, NAN};
    std::uint8_t kept[kc] = {};
    REQUIRE(compact_zero_k<MR>(panel, kc, kept) == 4);
    CHECK(kept[0] == 0);
    CHECK(kept[1] == 2);
    CHECK(kept[2] == 3);
    CHECK(kept[3] == 5);
    CHECK(panel[0] == 1.0f);
    CHECK(panel[1 * MR + 1] == 2.0f);  // k = 2 moved to column 1
    CHECK(panel[2 * MR + 2] == 3.0f);  // k = 3 to column 2
    CHECK(std::isnan(panel[3 * MR + 2]));
}

// A with zeros as the data has them: whole k-columns (background pixels of every image), runs of
// rows (a pixel dark in some images, units ReLU zeroed) and scattered single zeros.
template <layout LA, layout LB, class Arch>
void check_zero_skipping(std::size_t m, std::size_t n, std::size_t k, std::uint64_t seed) {
    const std::size_t lda = LA == layout::row_major ? k : m, ldb = LB == layout::row_major ? n : k;
    Operand a(m * k, 0, seed), b(k * n, 0, seed + 1), bias(n, 0, seed + 2);
    ctnn::Rng rng(seed + 3);
    for (std::size_t p = 0; p < k; ++p) {
        const float kind = rng.uniform();
        for (std::size_t i = 0; i < m; ++i) {
            float& v = LA == layout::row_major ? a.data[i * lda + p] : a.data[p * lda + i];
            if (kind < 0.25f || (kind < 0.6f && (i / 7 + p) % 3 != 0) || rng.uniform() < 0.3f) v = 0.0f;
        }
    }
    Operand skipped(m * n, 0, 9), every_k(m * n, 0, 9);
    gemm<Arch, LA, LB, ctnn::Relu>(m, n, k, a.data, lda, b.data, ldb, skipped.data, n, bias.data, nullptr);
    zero_k_skipping_enabled = false;
    gemm<Arch, LA, LB, ctnn::Relu>(m, n, k, a.data, lda, b.data, ldb, every_k.data, n, bias.data, nullptr);
    zero_k_skipping_enabled = true;
    std::size_t differ = 0;
    for (std::size_t i = 0; i < m * n; ++i) differ += std::memcmp(&skipped.data[i], &every_k.data[i], sizeof(float)) != 0;
    CHECK_MESSAGE(differ == 0, differ << " of " << m * n << " elements differ (m=" << m << " n=" << n << " k=" << k << ")");
    check_product<LA, LB>(m, n, k, a.data, lda, b.data, ldb, skipped.data, n, bias.data, true);
}

TEST_CASE("gemm: skipping the all-zero k of packed A panels gives the bits of running every k") {
    for_each_arch([]<class Arch>() {
        using cfg = gemm_config<Arch>;
        // Forward-like (row-major A), weight-gradient-like (A read column-major), several k and m
        // blocks, partial tiles, and enough rows for the team to claim blocks.
        check_zero_skipping<layout::row_major, layout::row_major, Arch>(4 * cfg::MC + 7, 3 * cfg::NR + 5, 2 * cfg::KC + 13, 1);
        check_zero_skipping<layout::col_major, layout::row_major, Arch>(2 * cfg::MC + 5, 2 * cfg::NR + 1, cfg::KC + 40, 2);
        check_zero_skipping<layout::row_major, layout::col_major, Arch>(300, 5 * cfg::NR, 100, 3);
    });
}

TEST_CASE("gemm_small_m: one row skips its zero k and gives the bits of the multi-row path, which reads them all") {
    for_each_arch([]<class Arch>() {
        constexpr std::size_t W = detail::simd_ops<Arch>::width;
        const std::size_t k = 301, n = 12 * W + 3;  // W-wide blocks, then scalar columns
        Operand a(2 * k, 0, 7), b(k * n, 0, 8), bias(n, 0, 9);
        ctnn::Rng rng(10);
        for (std::size_t p = 0; p < k; ++p) {
            if (p % 5 < 2 || rng.uniform() < 0.3f) a.data[p] = 0.0f;  // runs of zeros and scattered ones
            a.data[k + p] = a.data[p];                               // row 1 = row 0
        }
        Operand one(n, 0, 11), two(2 * n, 0, 12);
        gemm_small_m<Arch, ctnn::Relu>(1, n, k, a.data, k, b.data, n, one.data, n, bias.data);
        gemm_small_m<Arch, ctnn::Relu>(2, n, k, a.data, k, b.data, n, two.data, n, bias.data);
        CHECK(std::memcmp(one.data, two.data, n * sizeof(float)) == 0);
        CHECK(std::memcmp(one.data, two.data + n, n * sizeof(float)) == 0);
        check_product<layout::row_major, layout::row_major>(1, n, k, a.data, k, b.data, n, one.data, n, bias.data, true);
    });
}

TEST_CASE("gemm.k_zero_leaves_c_and_zeroes_colsums") {
    Operand a(8, 0, 1), b(8, 0, 2), c(6, 0, 3), fresh(6, 0, 3);
    std::vector<float> sums(2, 7.0f);
    gemm<simd_arch, layout::row_major, layout::row_major, ctnn::Linear>(3, 2, 0, a.data, 1, b.data, 2, c.data, 2,
                                                                        nullptr, sums.data());
    for (std::size_t i = 0; i < 6; ++i) CHECK(c.data[i] == fresh.data[i]);
    CHECK(sums[0] == 0.0f);
    CHECK(sums[1] == 0.0f);
}

TEST_CASE("gemm.small_m_paths") {
    for_each_arch([]<class Arch>() {
        for (std::size_t m : {1, 2, 3, 4, 5, 6, 7, 13})
            for (std::size_t n :
                 {std::size_t{1}, std::size_t{7}, std::size_t{8}, std::size_t{9}, gemm_config<Arch>::NR * 8 + 5, std::size_t{130}}) {
                const std::size_t k = 29;
                Operand a(m * k, 1, m), b(k * n, 1, n), bias(n, 1, 3), c(m * n, 1, 4);
                gemm_small_m<Arch, ctnn::Relu>(m, n, k, a.data, k, b.data, n, c.data, n, bias.data);
                check_product<layout::row_major, layout::row_major>(m, n, k, a.data, k, b.data, n, c.data, n, bias.data,
                                                                    true);
                // NT: B given as (n, k) row-major.
                gemm_small_m_nt<Arch>(m, n, k, a.data, k, b.data, k, c.data, n);
                check_product<layout::row_major, layout::col_major>(m, n, k, a.data, k, b.data, k, c.data, n, nullptr,
                                                                    false);
            }
    });
}

TEST_CASE("parallel.split_covers_the_range_on_grain_boundaries") {
    for (std::size_t n : {0, 1, 15, 16, 17, 1000})
        for (int parts : {1, 2, 3, 8}) {
            std::size_t expect = 0;
            for (int p = 0; p < parts; ++p) {
                const auto r = parallel::split(n, parts, p, 16);
                CHECK(r.begin == expect);
                CHECK(r.end >= r.begin);
                if (r.end < n) CHECK(r.end % 16 == 0);
                expect = r.end;
            }
            CHECK(expect == n);
        }
}

TEST_CASE("parallel.claim_hands_out_shrinking_blocks_that_tile_the_range") {
    for (std::size_t n : {0, 1, 5, 6, 7, 143, 1000, 5000})
        for (int threads : {1, 2, 3}) {
            std::atomic<std::size_t> next{0};
            std::size_t expect = 0, previous = ~std::size_t{0};
            for (auto r = parallel::claim(next, n, threads, 6, 144); r.begin < r.end;
                 r = parallel::claim(next, n, threads, 6, 144)) {
                const std::size_t size = r.end - r.begin;
                CHECK(r.begin == expect);
                CHECK(r.begin % 6 == 0);
                CHECK(size <= 144);
                CHECK(size <= previous);  // guided: never larger than the block before
                if (r.end < n) CHECK(size % 6 == 0);
                previous = size;
                expect = r.end;
            }
            CHECK(expect == n);
            CHECK(parallel::claim(next, n, threads, 6, 144).begin == n);  // stays empty
        }
    // At 1000 rows on two threads: blocks of 144 first, single 6-row tiles at the end.
    std::atomic<std::size_t> next{0};
    CHECK(parallel::claim(next, 1000, 2, 6, 144).end == 144);
    std::size_t last = 0;
    for (auto r = parallel::claim(next, 1000, 2, 6, 144); r.begin < r.end; r = parallel::claim(next, 1000, 2, 6, 144))
        last = r.end - r.begin;
    CHECK(last == 4);  // 1000 = 166 tiles of 6 + 4 rows
}

TEST_CASE("parallel.claim_gives_each_row_to_exactly_one_thread") {
    constexpr std::size_t n = 100000;
    std::vector<int> owner_count(n, 0);
    std::atomic<std::size_t> next{0};
    parallel::run(2, [&](int, int nt) {
        for (auto r = parallel::claim(next, n, nt, 8, 512); r.begin < r.end; r = parallel::claim(next, n, nt, 8, 512))
            for (std::size_t i = r.begin; i < r.end; ++i) ++owner_count[i];
    });
    std::size_t wrong = 0;
    for (int count : owner_count) wrong += count != 1;
    CHECK(wrong == 0);
}

}  // namespace kernels_test_gemm
