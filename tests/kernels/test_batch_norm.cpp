// Tests of kernels/batch_norm.hpp: the statistics, the normalization and the backward (with the batch's
// statistics and with constant ones) against their naive twins in kernels/reference_norm.hpp for every
// arch this build contains, over channel counts around the vector widths and the 64-channel tile (1, 3,
// 16, 17, 64, 65, 130) and row counts around the 128-row block (1, 2, 7, 129, 300); data far from zero
// (the two-pass variance must not cancel); a hand-computed case; and the promise of one summation
// order (identical bits on one thread and on all).
#include <cmath>
#include <cstddef>
#include <cstring>
#include <vector>

#include <doctest/doctest.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "ctnn/core/random.hpp"
#include "ctnn/core/tensor.hpp"
#include "ctnn/kernels/batch_norm.hpp"
#include "ctnn/kernels/reference_norm.hpp"
#include "for_each_arch.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace kernels_test_batch_norm {

namespace {

using namespace ctnn::kernels;
using ctnn::testing::for_each_arch;
constexpr double eps = 0x1.0p-24;
// A float sum of up to a block of terms (then exact enough in double): its error bound, relative to
// the sum of the terms' magnitudes.
constexpr double sum_rel = 2.0 * double(detail::norm_block + 2) * eps;

// n random floats in [center − 1, center + 1) starting `offset` floats past a 64-byte boundary.
struct Data {
    ctnn::Buffer storage;
    float* p;
    Data(std::size_t n, std::size_t offset, std::uint64_t seed, float center = 0.0f)
        : storage(n + offset + 1), p(storage.data() + offset) {
        ctnn::Rng rng(seed);
        for (auto& v : storage) v = center + rng.uniform(-1.0f, 1.0f);
    }
};

// |got − want| <= bound[i] for every i (the first few failures printed).
std::size_t count_mismatches(const char* what, const float* got, const float* want, const std::vector<double>& bound) {
    std::size_t bad = 0;
    for (std::size_t i = 0; i < bound.size(); ++i)
        if (!(std::abs(double(got[i]) - double(want[i])) <= bound[i]) && bad++ < 5)
            FAIL_CHECK(what << "[" << i << "] = " << got[i] << ", expected " << want[i] << " (bound " << bound[i] << ")");
    return bad;
}

template <std::size_t C> void check_batch_norm(std::size_t rows, std::size_t offset) {
    INFO("C=" << C << " rows=" << rows << " offset=" << offset);
    const std::size_t n = rows * C;
    Data x(n, offset, 1, 3.0f), dy(n, offset, 2), gamma(C, offset, 3, 1.0f), beta(C, offset, 4);
    std::vector<float> mean(C), variance(C), inv_std(C);
    reference::batch_norm_statistics_naive<C>(rows, x.p, mean.data(), variance.data());
    batch_norm_inverse_std<C>(variance.data(), 1e-3, inv_std.data());
    std::vector<float> want_y(n), want_dx(n), want_dx_const(n), want_dg(C), want_db(C), want_dg_const(C),
        want_db_const(C);
    reference::batch_norm_forward_naive<C>(rows, x.p, mean.data(), inv_std.data(), gamma.p, beta.p, want_y.data());
    reference::batch_norm_backward_naive<C>(rows, x.p, dy.p, mean.data(), inv_std.data(), gamma.p, true,
                                            want_dg.data(), want_db.data(), want_dx.data());
    reference::batch_norm_backward_naive<C>(rows, x.p, dy.p, mean.data(), inv_std.data(), gamma.p, false,
                                            want_dg_const.data(), want_db_const.data(), want_dx_const.data());
    CHECK(want_dg == want_dg_const);  // the parameters' gradients do not depend on where the statistics came from
    CHECK(want_db == want_db_const);

    // Bounds from the magnitudes of what is summed: Σ|x|, Σ(x − mean)², Σ|dy|, Σ|dy · xhat| per channel.
    std::vector<double> mean_bound(C), var_bound(C), db_bound(C), dg_bound(C), y_bound(n), dx_bound(n),
        dx_const_bound(n);
    for (std::size_t c = 0; c < C; ++c) {
        double ax = 0, sq = 0, ady = 0, adg = 0;
        for (std::size_t r = 0; r < rows; ++r) {
            const double d = double(x.p[r * C + c]) - mean[c];
            ax += std::abs(x.p[r * C + c]);
            sq += d * d;
            ady += std::abs(dy.p[r * C + c]);
            adg += std::abs(dy.p[r * C + c] * d * inv_std[c]);
        }
        mean_bound[c] = sum_rel * ax / double(rows) + 1e-30;
        // The fast kernel's mean differs from the exact one by up to mean_bound: (x − mean)² moves by
        // about 2·|x − mean|·mean_bound per row.
        var_bound[c] = (sum_rel * sq + 2.0 * std::sqrt(sq * double(rows)) * mean_bound[c]) / double(rows) + 1e-30;
        db_bound[c] = sum_rel * ady + 1e-30;
        dg_bound[c] = sum_rel * adg + 1e-30;
        for (std::size_t r = 0; r < rows; ++r) {
            const std::size_t i = r * C + c;
            const double xhat = std::abs((double(x.p[i]) - mean[c]) * inv_std[c]);
            const double gs = std::abs(double(gamma.p[c]) * inv_std[c]);
            y_bound[i] = 8.0 * eps * (std::abs(gamma.p[c]) * (xhat + 1.0) + std::abs(beta.p[c])) + 1e-30;
            dx_const_bound[i] = 8.0 * eps * gs * std::abs(dy.p[i]) + 1e-30;
            // The batch term (dbeta + xhat · dgamma) / R from float sums (db_bound, dg_bound), plus rounding.
            dx_bound[i] = gs * (8.0 * eps * (std::abs(dy.p[i]) + (ady + xhat * adg) / double(rows)) +
                                (db_bound[c] + xhat * dg_bound[c]) / double(rows)) +
                          1e-30;
        }
    }

    for_each_arch([&]<class Arch>() {
        Data m(C, offset, 5), v(C, offset, 6), y(n, offset, 7), dx(n, offset, 8), dg(C, offset, 9), db(C, offset, 10);
        batch_norm_statistics<C, Arch>(rows, x.p, m.p, v.p);
        CHECK(count_mismatches("mean", m.p, mean.data(), mean_bound) == 0);
        CHECK(count_mismatches("variance", v.p, variance.data(), var_bound) == 0);
        // The rest from the naive statistics, so that each kernel is compared alone.
        batch_norm_forward<C, Arch>(rows, x.p, mean.data(), inv_std.data(), gamma.p, beta.p, y.p);
        CHECK(count_mismatches("y", y.p, want_y.data(), y_bound) == 0);
        batch_norm_backward<C, Arch>(rows, x.p, dy.p, mean.data(), inv_std.data(), gamma.p, true, dg.p, db.p, dx.p);
        CHECK(count_mismatches("dgamma", dg.p, want_dg.data(), dg_bound) == 0);
        CHECK(count_mismatches("dbeta", db.p, want_db.data(), db_bound) == 0);
        CHECK(count_mismatches("dx", dx.p, want_dx.data(), dx_bound) == 0);
        Data dx2(n, offset, 11), dg2(C, offset, 12), db2(C, offset, 13);
        batch_norm_backward<C, Arch>(rows, x.p, dy.p, mean.data(), inv_std.data(), gamma.p, false, dg2.p, db2.p,
                                     dx2.p);
        CHECK(std::memcmp(dg2.p, dg.p, C * sizeof(float)) == 0);
        CHECK(std::memcmp(db2.p, db.p, C * sizeof(float)) == 0);
        CHECK(count_mismatches("dx (constant statistics)", dx2.p, want_dx_const.data(), dx_const_bound) == 0);
        // dx nullptr: the parameters' gradients alone, the same bits.
        Data dg3(C, offset, 14), db3(C, offset, 15);
        batch_norm_backward<C, Arch>(rows, x.p, dy.p, mean.data(), inv_std.data(), gamma.p, true, dg3.p, db3.p,
                                     nullptr);
        CHECK(std::memcmp(dg3.p, dg.p, C * sizeof(float)) == 0);
        CHECK(std::memcmp(db3.p, db.p, C * sizeof(float)) == 0);
    });
}

template <std::size_t... Cs> void check_all() {
    for (std::size_t rows : {1, 2, 7, 129, 300}) (check_batch_norm<Cs>(rows, rows % 3), ...);
}

// Runs f once with the default thread count and once on a single thread (restoring the default).
template <class F> void on_one_thread(F&& f) {
#ifdef _OPENMP
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    f();
    omp_set_num_threads(threads);
#else
    f();
#endif
}

}  // namespace

TEST_CASE("batch_norm.matches_naive") { check_all<1, 3, 16, 17, 64, 65, 130>(); }

// Two rows, two channels: x = [[1, 2], [3, 6]] has mean (2, 4) and biased variance (1, 4).
TEST_CASE("batch_norm.hand_computed") {
    const float x[4] = {1, 2, 3, 6}, gamma[2] = {2, 0.5f}, beta[2] = {1, -1}, dy[4] = {1, 0, 3, 2};
    for_each_arch([&]<class Arch>() {
        float mean[2], variance[2], inv_std[2], y[4], dg[2], db[2], dx[4];
        batch_norm_statistics<2, Arch>(2, x, mean, variance);
        CHECK(mean[0] == 2.0f);
        CHECK(mean[1] == 4.0f);
        CHECK(variance[0] == 1.0f);
        CHECK(variance[1] == 4.0f);
        batch_norm_inverse_std<2>(variance, 0.0, inv_std);  // epsilon 0: xhat = ±1
        CHECK(inv_std[0] == 1.0f);
        CHECK(inv_std[1] == 0.5f);
        batch_norm_forward<2, Arch>(2, x, mean, inv_std, gamma, beta, y);
        const float want_y[4] = {-1, -1.5f, 3, -0.5f};  // gamma · (∓1) + beta
        for (int i = 0; i < 4; ++i) CHECK(y[i] == want_y[i]);
        // dbeta = (4, 2), dgamma = Σ dy · xhat = (−1 + 3, 0 + 2) = (2, 2); with xhat = ±1 and N = 2 the batch
        // term (dbeta + xhat · dgamma) / 2 equals dy in every row: dx = 0. Constant statistics: gamma · inv_std · dy.
        batch_norm_backward<2, Arch>(2, x, dy, mean, inv_std, gamma, true, dg, db, dx);
        CHECK(db[0] == 4.0f);
        CHECK(db[1] == 2.0f);
        CHECK(dg[0] == 2.0f);
        CHECK(dg[1] == 2.0f);
        for (int i = 0; i < 4; ++i) CHECK(dx[i] == 0.0f);
        batch_norm_backward<2, Arch>(2, x, dy, mean, inv_std, gamma, false, dg, db, dx);
        const float want_dx[4] = {2, 0, 6, 0.5f};
        for (int i = 0; i < 4; ++i) CHECK(dx[i] == want_dx[i]);
    });
}

TEST_CASE("batch_norm.results_are_bit_identical_across_calls_and_thread_counts") {
    constexpr std::size_t C = 200;  // four tiles of channels
    const std::size_t rows = 3000;  // enough work for every thread
    Data x(rows * C, 0, 21, -2.0f), dy(rows * C, 0, 22), gamma(C, 0, 23, 1.0f), beta(C, 0, 24);
    struct Out {
        std::vector<float> mean, variance, inv_std, y, dg, db, dx;
    };
    auto all = [&] {
        Out o{std::vector<float>(C), std::vector<float>(C), std::vector<float>(C), std::vector<float>(rows * C),
              std::vector<float>(C), std::vector<float>(C), std::vector<float>(rows * C)};
        batch_norm_statistics<C>(rows, x.p, o.mean.data(), o.variance.data());
        batch_norm_inverse_std<C>(o.variance.data(), 1e-3, o.inv_std.data());
        batch_norm_forward<C>(rows, x.p, o.mean.data(), o.inv_std.data(), gamma.p, beta.p, o.y.data());
        batch_norm_backward<C>(rows, x.p, dy.p, o.mean.data(), o.inv_std.data(), gamma.p, true, o.dg.data(),
                               o.db.data(), o.dx.data());
        return o;
    };
    const Out a = all(), b = all();
    Out c;
    on_one_thread([&] { c = all(); });
    for (const Out* o : {&b, static_cast<const Out*>(&c)}) {
        CHECK(o->mean == a.mean);
        CHECK(o->variance == a.variance);
        CHECK(o->y == a.y);
        CHECK(o->dg == a.dg);
        CHECK(o->db == a.db);
        CHECK(o->dx == a.dx);
    }
}

}  // namespace kernels_test_batch_norm
