// Tests of kernels/sparse.hpp and of the sparse path of dense_backward: compression against
// hand-written matrices, the sparse transpose against compressing the dense transpose, the two
// products against naive double-precision loops over sizes that hit every chunk and block edge, and
// dense_backward (sparse path asserted taken) against the naive twins of the two backward products.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "ctnn/core/random.hpp"
#include "ctnn/kernels/dense.hpp"
#include "ctnn/kernels/reference.hpp"
#include "ctnn/kernels/sparse.hpp"
#include "for_each_arch.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace kernels_test_sparse {

namespace {

using namespace ctnn::kernels;
using ctnn::testing::for_each_arch;

// (rows, cols) floats in [-1, 1), each kept with probability `density`, else exactly 0.
std::vector<float> sparse_matrix(std::size_t rows, std::size_t cols, double density, std::uint64_t seed) {
    ctnn::Rng rng(seed);
    std::vector<float> m(rows * cols);
    for (auto& v : m) {
        const float value = rng.uniform(-1.0f, 1.0f);
        v = rng.uniform(0.0f, 1.0f) < density ? value : 0.0f;
    }
    return m;
}

std::vector<float> dense_of(const sparse_rows& s) {
    std::vector<float> m(s.rows * s.cols, 0.0f);
    for (std::size_t r = 0; r < s.rows; ++r)
        for (std::size_t e = s.start[r]; e < s.start[r + 1]; ++e) m[r * s.cols + s.index[e]] = s.value[e];
    return m;
}

// Compares got[i][j] (row stride ld) with Σ_p a[i][p] · b_at(p, j) in double precision, for a (m, k).
template <class BAt> std::size_t count_wrong(const std::vector<float>& a, std::size_t m, std::size_t k, std::size_t n,
                                            BAt b_at, const float* got, std::size_t row_step, std::size_t col_step,
                                            const std::string& what) {
    std::size_t bad = 0;
    for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < n; ++j) {
            double want = 0, mag = 0;
            for (std::size_t p = 0; p < k; ++p) {
                want += double(a[i * k + p]) * b_at(p, j);
                mag += std::abs(double(a[i * k + p]) * b_at(p, j));
            }
            const double tol = 2.0 * double(k + 2) * 0x1.0p-24 * mag + 1e-30;
            const float value = got[i * row_step + j * col_step];
            if (!(std::abs(value - want) <= tol) && bad++ < 5)
                FAIL_CHECK(what << ": element (" << i << ", " << j << ") = " << value << ", expected " << want << " ± "
                                << tol << " (m=" << m << " k=" << k << " n=" << n << ")");
        }
    return bad;
}

// C (m, N) = S · Bᵀ, B (N, k): every element of C written (it starts at 7) and right.
template <std::size_t N, class Arch> void check_times_transpose(std::size_t m, std::size_t k, double density) {
    const std::vector<float> a = sparse_matrix(m, k, density, 1 + m + k), b = sparse_matrix(N, k, 1.0, 2);
    sparse_rows s;
    REQUIRE(compress_rows<Arch>(m, k, a.data(), m * k, s));
    std::vector<float> c(m * N, 7.0f);
    sparse_times_transpose<N, Arch>(s, b.data(), c.data());
    const auto b_at = [&](std::size_t p, std::size_t j) { return double(b[j * k + p]); };
    CHECK(count_wrong(a, m, k, N, b_at, c.data(), N, 1, std::string("S · Bᵀ ") + arch_name<Arch>().data()) == 0);
}

// Cᵀ (N, m) = (S · B)ᵀ, B (k, N): every element of Cᵀ written (it starts at 7) and right.
template <std::size_t N, class Arch> void check_times_dense_transposed(std::size_t m, std::size_t k, double density) {
    const std::vector<float> a = sparse_matrix(m, k, density, 3 + m + k), b = sparse_matrix(k, N, 1.0, 4);
    sparse_rows s;
    REQUIRE(compress_rows<Arch>(m, k, a.data(), m * k, s));
    std::vector<float> ct(N * m, 7.0f);
    sparse_times_dense_transposed<N, Arch>(s, b.data(), ct.data());
    const auto b_at = [&](std::size_t p, std::size_t j) { return double(b[p * N + j]); };
    CHECK(count_wrong(a, m, k, N, b_at, ct.data(), 1, m, std::string("(S · B)ᵀ ") + arch_name<Arch>().data()) == 0);  // C[i][j] is ct[j][i]
}

template <std::size_t In, std::size_t Out, class Arch> void check_sparse_backward(std::size_t batch, double density) {
    const std::vector<float> x = sparse_matrix(batch, In, 1.0, 11), w = sparse_matrix(In, Out, 1.0, 12);
    const std::vector<float> dz = sparse_matrix(batch, Out, density, 13);
    std::vector<float> dx(batch * In, 9.0f), dw(In * Out, 9.0f), db(Out, 9.0f);
    std::vector<float> dx_ref(batch * In), dw_ref(In * Out), db_ref(Out);
    const bool sparse = dense_backward<In, Out, Arch>(batch, x.data(), dz.data(), w.data(), dw.data(), db.data(), dx.data());
    CHECK_MESSAGE(sparse, "dz with " << density << " nonzeros did not take the sparse path");
    reference::dense_backward_data_naive<In, Out>(batch, dz.data(), w.data(), dx_ref.data());
    reference::dense_backward_weights_naive<In, Out>(batch, x.data(), dz.data(), dw_ref.data(), db_ref.data());
    std::size_t bad = 0;
    auto expect_close = [&](const std::string& what, std::size_t i, float got, float want, double mag,
                            std::size_t terms) {
        const double tol = 2.0 * double(terms + 2) * 0x1.0p-24 * mag + 1e-30;
        if (!(std::abs(double(got) - want) <= tol) && bad++ < 5)
            FAIL_CHECK(what << "[" << i << "] = " << got << ", expected " << want << " ± " << tol << " (In=" << In
                            << " Out=" << Out << " batch=" << batch << ", " << arch_name<Arch>() << ")");
    };
    for (std::size_t r = 0; r < batch; ++r)
        for (std::size_t i = 0; i < In; ++i) {
            double mag = 0;
            for (std::size_t o = 0; o < Out; ++o) mag += std::abs(double(dz[r * Out + o]) * w[i * Out + o]);
            expect_close("dx", r * In + i, dx[r * In + i], dx_ref[r * In + i], mag, Out);
        }
    for (std::size_t i = 0; i < In; ++i)
        for (std::size_t o = 0; o < Out; ++o) {
            double mag = 0;
            for (std::size_t r = 0; r < batch; ++r) mag += std::abs(double(x[r * In + i]) * dz[r * Out + o]);
            expect_close("dw", i * Out + o, dw[i * Out + o], dw_ref[i * Out + o], mag, batch);
        }
    for (std::size_t o = 0; o < Out; ++o) {
        double mag = 0;
        for (std::size_t r = 0; r < batch; ++r) mag += std::abs(dz[r * Out + o]);
        expect_close("db", o, db[o], db_ref[o], mag, batch);
    }
    CHECK(bad == 0);
}

}  // namespace

TEST_CASE("compress_rows.keeps_exactly_the_nonzero_entries_in_row_order") {
    for_each_arch([]<class Arch>() {
        const float nan = std::nanf("");
        // 3 x 11: more than one vector per row on every ISA, an empty row, -0 (zero) and NaN (not zero).
        const std::vector<float> a = {0, 2, 0, 0, 0, 0, 0, 0, 0, 0, -3,  //
                                      0, 0, 0, 0, 0, 0, 0, 0, -0.0f, 0, 0,  //
                                      nan, 0, 0, 0, 0, 0, 0, 0, 0, 5, 0};
        sparse_rows s;
        REQUIRE(compress_rows<Arch>(3, 11, a.data(), 33, s));
        CHECK(s.rows == 3);
        CHECK(s.cols == 11);
        REQUIRE(s.start == std::vector<std::uint32_t>{0, 2, 2, 4});
        CHECK(s.index[0] == 1);
        CHECK(s.value[0] == 2.0f);
        CHECK(s.index[1] == 10);
        CHECK(s.value[1] == -3.0f);
        CHECK(s.index[2] == 0);
        CHECK(std::isnan(s.value[2]));
        CHECK(s.index[3] == 9);
        CHECK(s.value[3] == 5.0f);
        CHECK(compress_rows<Arch>(3, 11, a.data(), 4, s));
        CHECK_FALSE(compress_rows<Arch>(3, 11, a.data(), 3, s));  // one entry over the limit
    });
}

TEST_CASE("sampled_density.counts_the_nonzeros_of_the_rows_it_samples") {
    std::vector<float> a(40 * 10, 0.0f);
    for (std::size_t r = 0; r < 40; ++r) {
        a[r * 10 + r % 10] = 1.0f;
        a[r * 10 + (r + 3) % 10] = std::nanf("");  // NaN is not zero
        if (r % 2 == 1) a[r * 10 + (r + 5) % 10] = -2.0f;
    }
    CHECK(sampled_density(40, 10, a.data(), 40) == doctest::Approx(0.25));  // every row: 2 or 3 of 10
    CHECK(sampled_density(40, 10, a.data(), 20) == doctest::Approx(0.2));   // rows 0, 2, 4, ...: 2 of 10
    CHECK(sampled_density(40, 10, a.data(), 100) == doctest::Approx(0.25));  // at most every row
    CHECK(sampled_density(0, 10, a.data(), 16) == 0.0);
}

TEST_CASE("compress_rows.round_trips_random_matrices") {
    for_each_arch([]<class Arch>() {
        for (double density : {0.0, 0.01, 0.3, 1.0}) {
            CAPTURE(density);
            const std::vector<float> a = sparse_matrix(37, 45, density, 7);
            sparse_rows s;
            REQUIRE(compress_rows<Arch>(37, 45, a.data(), 37 * 45, s));
            CHECK(dense_of(s) == a);
        }
    });
}

TEST_CASE("transpose.of_a_sparse_matrix_is_the_compressed_dense_transpose") {
    const std::size_t rows = 29, cols = 41;
    const std::vector<float> a = sparse_matrix(rows, cols, 0.2, 9);
    std::vector<float> at(rows * cols);
    for (std::size_t r = 0; r < rows; ++r)
        for (std::size_t c = 0; c < cols; ++c) at[c * rows + r] = a[r * cols + c];
    sparse_rows s, t, expect;
    std::vector<std::uint32_t> cursor;
    REQUIRE(compress_rows(rows, cols, a.data(), rows * cols, s));
    REQUIRE(compress_rows(cols, rows, at.data(), rows * cols, expect));
    transpose(s, t, cursor);
    CHECK(t.rows == cols);
    CHECK(t.cols == rows);
    CHECK(t.start == expect.start);
    const std::size_t n = expect.nonzeros();
    CHECK(std::vector<std::uint32_t>(t.index.begin(), t.index.begin() + n) ==
          std::vector<std::uint32_t>(expect.index.begin(), expect.index.begin() + n));
    CHECK(std::vector<float>(t.value.begin(), t.value.begin() + n) ==
          std::vector<float>(expect.value.begin(), expect.value.begin() + n));
}

// Both products at each size: N crosses the vector, the 8-vector chunk (64 floats with AVX2) and, when
// large enough for two threads, their split; m crosses the 8 x 8 transposed blocks and the 16-row
// staging groups of the (S · B)ᵀ writes; k the 8 x 8 blocks of the panel transpose of S · Bᵀ.
template <std::size_t N, class Arch> void check_both_products(std::size_t m, std::size_t k, double density) {
    check_times_transpose<N, Arch>(m, k, density);
    check_times_dense_transposed<N, Arch>(m, k, density);
}

TEST_CASE("sparse_products.match_the_naive_product_at_every_edge") {
    for_each_arch([]<class Arch>() {
        for (double density : {0.0, 0.05, 0.5, 1.0}) {
            CAPTURE(density);
            check_both_products<1, Arch>(5, 9, density);
            check_both_products<7, Arch>(13, 3, density);
            check_both_products<8, Arch>(16, 20, density);
            check_both_products<9, Arch>(17, 17, density);
            check_both_products<63, Arch>(33, 30, density);
            check_both_products<64, Arch>(8, 64, density);
            check_both_products<65, Arch>(24, 5, density);
            check_both_products<200, Arch>(40, 50, density);
        }
        // The reference net's shapes, with work enough for two threads (and few rows where the naive check,
        // m·k·N multiply-adds, would be slow under the sanitizers).
        check_times_transpose<1000, Arch>(16, 500, 0.03);        // dx = dz · wᵀ
        check_times_transpose<784, Arch>(8, 1000, 0.01);
        check_times_dense_transposed<784, Arch>(200, 64, 0.03);  // dw = (dzᵀ · x)ᵀ
        check_times_dense_transposed<1000, Arch>(64, 200, 0.02);
    });
}

TEST_CASE("dense_backward.sparse_path_matches_naive") {
    for_each_arch([]<class Arch>() {
        constexpr std::size_t b = 256;  // rows enough for the density of a small Out to stay near its mean
        check_sparse_backward<1, 1, Arch>(b, 0.1);
        check_sparse_backward<17, 33, Arch>(b + 7, 0.05);
        check_sparse_backward<100, 10, Arch>(b + 1, 0.1);
        check_sparse_backward<1000, 50, Arch>(b, 0.03);  // In = 1000 as the reference net's dx: 15 chunks + 5 vectors
        check_sparse_backward<130, 200, Arch>(b + 3, 0.1);
        check_sparse_backward<784, 1000, Arch>(1, 0.05);  // a single row, and a few: no batch is too small
        check_sparse_backward<100, 1000, Arch>(5, 0.03);
    });
}

TEST_CASE("dense_backward.takes_the_gemms_when_dz_is_dense_or_the_switch_is_off") {
    constexpr std::size_t In = 20, Out = 30;
    auto run = [](std::size_t batch, double density) {
        const std::vector<float> x = sparse_matrix(batch, In, 1.0, 1), w = sparse_matrix(In, Out, 1.0, 2);
        const std::vector<float> dz = sparse_matrix(batch, Out, density, 3);
        std::vector<float> dx(batch * In), dw(In * Out), db(Out);
        return dense_backward<In, Out>(batch, x.data(), dz.data(), w.data(), dw.data(), db.data(), dx.data());
    };
    CHECK(run(256, 0.02));
    CHECK(run(3, 0.0));
    CHECK_FALSE(run(256, 0.5));  // too dense at first look (sampled rows)
    CHECK_FALSE(run(256, 0.2));  // too dense, found while compressing
    CHECK_FALSE(run(0, 0.0));    // no rows: the GEMM path's own case
    sparse_products_enabled = false;
    CHECK_FALSE(run(256, 0.02));
    sparse_products_enabled = true;
}

TEST_CASE("dense_backward.sparse_path_is_bit_identical_across_calls_and_thread_counts") {
    for_each_arch([]<class Arch>() {
        constexpr std::size_t In = 784, Out = 1000, batch = 133;
        const std::vector<float> x = sparse_matrix(batch, In, 1.0, 1), w = sparse_matrix(In, Out, 1.0, 2);
        const std::vector<float> dz = sparse_matrix(batch, Out, 0.05, 3);
        std::vector<float> dx[3], dw[3], db[3];
        for (int run = 0; run < 3; ++run) {
            dx[run].assign(batch * In, 0.0f);
            dw[run].assign(In * Out, 0.0f);
            db[run].assign(Out, 0.0f);
            auto call = [&] {
                CHECK(dense_backward<In, Out, Arch>(batch, x.data(), dz.data(), w.data(), dw[run].data(), db[run].data(),
                                              dx[run].data()));
            };
    #ifdef _OPENMP
            if (run == 2) {
                const int threads = omp_get_max_threads();
                omp_set_num_threads(1);
                call();
                omp_set_num_threads(threads);
                continue;
            }
    #endif
            call();
        }
        for (int run = 1; run < 3; ++run) {
            CAPTURE(run);
            CHECK(std::memcmp(dx[0].data(), dx[run].data(), dx[0].size() * sizeof(float)) == 0);
            CHECK(std::memcmp(dw[0].data(), dw[run].data(), dw[0].size() * sizeof(float)) == 0);
            CHECK(std::memcmp(db[0].data(), db[run].data(), db[0].size() * sizeof(float)) == 0);
        }
    });
}

}  // namespace kernels_test_sparse
