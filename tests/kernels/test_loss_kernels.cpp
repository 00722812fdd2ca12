// Tests of ctnn/kernels/loss.hpp: every loss sum, accuracy count and the fused softmax + CE gradient
// against its naive twin over sizes that hit every SIMD remainder, hand-computed Keras values
// (renormalisation, clipping, ties), label validation, and thread-independent summation order.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#if defined(_OPENMP)
#include <omp.h>
#endif

#include "ctnn/core/random.hpp"
#include "ctnn/kernels/loss.hpp"
#include "ctnn/kernels/reference.hpp"
#include "for_each_arch.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace kernels_test_loss_kernels {

namespace {

namespace kn = ctnn::kernels;
namespace ref = ctnn::kernels::reference;
using ctnn::testing::for_each_arch;

template <std::size_t... Ns, class F> void for_sizes(F&& f) { (f(std::integral_constant<std::size_t, Ns>{}), ...); }
template <class F> void for_sweep_sizes(F&& f) { for_sizes<1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 500, 1000>(f); }
constexpr std::size_t sweep_batches[] = {1, 3, 32};

// A block of test data: probabilities (rows of positive numbers that need not sum to 1, so the
// renormalisation matters), soft targets, one-hot targets and the matching labels.
struct LossData {
    std::vector<float> p, soft, onehot;  // (B, N)
    std::vector<std::int32_t> labels;    // (B)
};

LossData make_data(std::size_t batch, std::size_t n, std::uint64_t seed) {
    ctnn::Rng rng(seed);
    LossData d;
    d.p.resize(batch * n);
    d.soft.resize(batch * n);
    d.onehot.assign(batch * n, 0.0f);
    d.labels.resize(batch);
    for (auto& v : d.p) v = rng.uniform(0.001f, 1.0f);
    for (auto& v : d.soft) v = rng.uniform();
    for (std::size_t r = 0; r < batch; ++r) {
        d.labels[r] = static_cast<std::int32_t>(rng.below(n));
        d.onehot[r * n + static_cast<std::size_t>(d.labels[r])] = 1.0f;
    }
    // Some exact 0 and 1 probabilities so the clipping runs (a lone 0 in a 1-wide row would be 0/0).
    if (batch * n > 4 && n > 1) {
        d.p[1] = 0.0f;
        d.p[batch * n - 2] = 1.0f;
    }
    return d;
}

}  // namespace

TEST_CASE("LossKernels.sums_match_naive_twin_over_all_remainders") {
    for_each_arch([]<class Arch>() {
        for_sweep_sizes([](auto n) {
            constexpr std::size_t N = decltype(n)::value;
            for (std::size_t batch : sweep_batches) {
                INFO("N=" << N << " B=" << batch);
                const LossData d = make_data(batch, N, 1000 * N + batch);
                CHECK(kn::categorical_crossentropy_sum<N, Arch>(batch, d.p.data(), d.onehot.data()) ==
                      doctest::Approx(ref::categorical_crossentropy_sum_naive<N>(batch, d.p.data(), d.onehot.data()))
                          .epsilon(1e-5));
                CHECK(kn::categorical_crossentropy_sum<N, Arch>(batch, d.p.data(), d.soft.data()) ==
                      doctest::Approx(ref::categorical_crossentropy_sum_naive<N>(batch, d.p.data(), d.soft.data()))
                          .epsilon(1e-5));
                CHECK(kn::sparse_categorical_crossentropy_sum<N, Arch>(batch, d.p.data(), d.labels.data()) ==
                      doctest::Approx(ref::sparse_categorical_crossentropy_sum_naive<N>(batch, d.p.data(), d.labels.data()))
                          .epsilon(1e-5));
                CHECK(kn::mean_squared_error_sum<N, Arch>(batch, d.p.data(), d.soft.data()) ==
                      doctest::Approx(ref::mean_squared_error_sum_naive<N>(batch, d.p.data(), d.soft.data())).epsilon(1e-5));
                CHECK(kn::binary_crossentropy_sum<N, Arch>(batch, d.p.data(), d.soft.data()) ==
                      doctest::Approx(ref::binary_crossentropy_sum_naive<N>(batch, d.p.data(), d.soft.data())).epsilon(1e-5));
                CHECK(kn::argmax_match_count<N>(batch, d.p.data(), d.soft.data()) ==
                      ref::argmax_match_count_naive<N>(batch, d.p.data(), d.soft.data()));
                CHECK(kn::argmax_label_match_count<N>(batch, d.p.data(), d.labels.data()) ==
                      ref::argmax_label_match_count_naive<N>(batch, d.p.data(), d.labels.data()));
            }
        });
    });
}

TEST_CASE("LossKernels.softmax_crossentropy_backward_matches_naive_twin") {
    for_each_arch([]<class Arch>() {
        for_sweep_sizes([](auto n) {
            constexpr std::size_t N = decltype(n)::value;
            for (std::size_t batch : sweep_batches) {
                INFO("N=" << N << " B=" << batch);
                const LossData d = make_data(batch, N, 7 * N + batch);
                const float scale = 1.0f / static_cast<float>(batch);
                std::vector<float> dz(batch * N), dz_ref(batch * N);
                kn::softmax_crossentropy_backward<N, Arch>(batch, d.p.data(), d.onehot.data(), scale, dz.data());
                ref::softmax_crossentropy_backward_naive<N>(batch, d.p.data(), d.onehot.data(), scale, dz_ref.data());
                CHECK(dz == dz_ref);  // one subtract and one multiply per element: bit-identical
            }
        });
    });
}

TEST_CASE("LossKernels.large_batches_are_summed_row_by_row_in_order") {
    for_each_arch([]<class Arch>() {
        // 10 000 x 10 is above the OpenMP threshold: rows are reduced on several threads, then added
        // in row order. Adding single-row calls in the same order must give the same double exactly.
        constexpr std::size_t N = 10, B = 10'000;
        const LossData d = make_data(B, N, 77);
        double ce = 0, mse = 0, bce = 0, sparse = 0;
        for (std::size_t r = 0; r < B; ++r) {
            ce += kn::categorical_crossentropy_sum<N, Arch>(1, d.p.data() + r * N, d.onehot.data() + r * N);
            sparse += kn::sparse_categorical_crossentropy_sum<N, Arch>(1, d.p.data() + r * N, d.labels.data() + r);
            mse += kn::mean_squared_error_sum<N, Arch>(1, d.p.data() + r * N, d.soft.data() + r * N);
            bce += kn::binary_crossentropy_sum<N, Arch>(1, d.p.data() + r * N, d.soft.data() + r * N);
        }
        CHECK(kn::categorical_crossentropy_sum<N, Arch>(B, d.p.data(), d.onehot.data()) == ce);
        CHECK(kn::sparse_categorical_crossentropy_sum<N, Arch>(B, d.p.data(), d.labels.data()) == sparse);
        CHECK(kn::mean_squared_error_sum<N, Arch>(B, d.p.data(), d.soft.data()) == mse);
        CHECK(kn::binary_crossentropy_sum<N, Arch>(B, d.p.data(), d.soft.data()) == bce);
    #if defined(_OPENMP)
        // One thread or two: the same bits.
        const int threads = omp_get_max_threads();
        omp_set_num_threads(1);
        const double ce_one_thread = kn::categorical_crossentropy_sum<N, Arch>(B, d.p.data(), d.onehot.data());
        omp_set_num_threads(2);
        const double ce_two_threads = kn::categorical_crossentropy_sum<N, Arch>(B, d.p.data(), d.onehot.data());
        omp_set_num_threads(threads);
        CHECK(ce_one_thread == ce);
        CHECK(ce_two_threads == ce);
    #endif
        // And they still agree with the naive twins.
        CHECK(ce == doctest::Approx(ref::categorical_crossentropy_sum_naive<N>(B, d.p.data(), d.onehot.data())).epsilon(1e-6));
        CHECK(kn::argmax_match_count<N>(B, d.p.data(), d.soft.data()) ==
              ref::argmax_match_count_naive<N>(B, d.p.data(), d.soft.data()));
        CHECK(kn::argmax_label_match_count<N>(B, d.p.data(), d.labels.data()) ==
              ref::argmax_label_match_count_naive<N>(B, d.p.data(), d.labels.data()));
    });
}

TEST_CASE("LossKernels.hand_computed_values") {
    for_each_arch([]<class Arch>() {
        {
            INFO("categorical cross-entropy of one row: −log 0.7");
            const float p[3] = {0.1f, 0.2f, 0.7f}, t[3] = {0, 0, 1};
            CHECK(kn::categorical_crossentropy_sum<3, Arch>(1, p, t) == doctest::Approx(0.35667494).epsilon(1e-6));
        }
        {
            INFO("probabilities are renormalised per row: [1, 2, 7] is [0.1, 0.2, 0.7]");
            const float p[3] = {1, 2, 7}, t[3] = {0, 0, 1};
            CHECK(kn::categorical_crossentropy_sum<3, Arch>(1, p, t) == doctest::Approx(0.35667494).epsilon(1e-6));
            const std::int32_t label[1] = {2};
            CHECK(kn::sparse_categorical_crossentropy_sum<3, Arch>(1, p, label) == doctest::Approx(0.35667494).epsilon(1e-6));
        }
        {
            INFO("a zero probability is clipped to 1e-7: −log 1e-7 per row, summed over 2 rows");
            const float p[4] = {0, 1, 0, 1}, t[4] = {1, 0, 1, 0};
            const std::int32_t labels[2] = {0, 0};
            CHECK(kn::categorical_crossentropy_sum<2, Arch>(2, p, t) == doctest::Approx(2 * 16.118095).epsilon(1e-5));
            CHECK(kn::sparse_categorical_crossentropy_sum<2, Arch>(2, p, labels) == doctest::Approx(2 * 16.118095).epsilon(1e-5));
        }
        {
            INFO("soft targets: −Σ t log p");
            const float p[2] = {0.25f, 0.75f}, t[2] = {0.5f, 0.5f};
            CHECK(kn::categorical_crossentropy_sum<2, Arch>(1, p, t) ==
                  doctest::Approx(-0.5 * (std::log(0.25) + std::log(0.75))).epsilon(1e-6));
        }
        {
            INFO("mean squared error: mean over columns, sum over rows");
            const float p[4] = {1, 2, 3, 3}, t[4] = {0, 0, 3, 1};
            CHECK(kn::mean_squared_error_sum<2, Arch>(2, p, t) == doctest::Approx(2.5 + 2.0));
        }
        {
            INFO("binary cross-entropy: log 2 at p = 0.5; clipped certain misses as Keras in float32");
            // p = 1 is clipped to float(1 − 1e-7) = 1 − 2^-23, so the loss is −log 2^-23 = 23 log 2;
            // p = 0 is clipped to 1e-7, so the loss is −log 1e-7.
            const float p[3] = {0.5f, 1.0f, 0.0f}, t[3] = {1.0f, 0.0f, 1.0f};
            CHECK(kn::binary_crossentropy_sum<1, Arch>(1, p, t) == doctest::Approx(0.69314718).epsilon(1e-6));
            CHECK(kn::binary_crossentropy_sum<1, Arch>(1, p + 1, t + 1) == doctest::Approx(23 * 0.69314718).epsilon(1e-5));
            CHECK(kn::binary_crossentropy_sum<1, Arch>(1, p + 2, t + 2) == doctest::Approx(16.118095).epsilon(1e-5));
            CHECK(kn::binary_crossentropy_sum<3, Arch>(1, p, t) ==
                  doctest::Approx((0.69314718 + 23 * 0.69314718 + 16.118095) / 3).epsilon(1e-5));
        }
        {
            INFO("argmax: the first maximum wins, as numpy");
            const float p[3] = {1, 3, 3};
            const float t_first[3] = {0, 1, 0}, t_second[3] = {0, 0, 1};
            CHECK(kn::argmax_match_count<3>(1, p, t_first) == 1);
            CHECK(kn::argmax_match_count<3>(1, p, t_second) == 0);
            const std::int32_t l1[1] = {1}, l2[1] = {2};
            CHECK(kn::argmax_label_match_count<3>(1, p, l1) == 1);
            CHECK(kn::argmax_label_match_count<3>(1, p, l2) == 0);
        }
        {
            INFO("accuracy counts over 9-wide rows (vector body + tail)");
            std::vector<float> p(3 * 9, 0.0f), t(3 * 9, 0.0f);
            p[0 * 9 + 8] = 1;  // row 0: predicted 8, target 8
            t[0 * 9 + 8] = 1;
            p[1 * 9 + 2] = 1;  // row 1: predicted 2, target 5
            t[1 * 9 + 5] = 1;
            p[2 * 9 + 0] = 1;  // row 2: predicted 0, target 0
            t[2 * 9 + 0] = 1;
            CHECK(kn::argmax_match_count<9>(3, p.data(), t.data()) == 2);
            const std::int32_t labels[3] = {8, 5, 1};
            CHECK(kn::argmax_label_match_count<9>(3, p.data(), labels) == 1);
        }
        {
            INFO("fused softmax + CE gradient: (p − t) / B");
            const float p[3] = {0.1f, 0.2f, 0.7f}, t[3] = {0, 0, 1};
            float dz[3];
            kn::softmax_crossentropy_backward<3, Arch>(1, p, t, 0.5f, dz);
            CHECK(dz[0] == doctest::Approx(0.05));
            CHECK(dz[1] == doctest::Approx(0.1));
            CHECK(dz[2] == doctest::Approx(-0.15));
        }
    });
}

TEST_CASE("LossKernels.labels_outside_the_classes_are_rejected") {
    for_each_arch([]<class Arch>() {
        const float p[6] = {0.2f, 0.3f, 0.5f, 0.2f, 0.3f, 0.5f};
        for (std::int32_t bad : {-1, 3, 1'000'000}) {
            const std::int32_t labels[2] = {0, bad};
            INFO("label=" << bad);
            try {
                (void)kn::sparse_categorical_crossentropy_sum<3, Arch>(2, p, labels);
                FAIL("no exception");
            } catch (const std::invalid_argument& e) {
                const std::string what = e.what();
                CHECK(what.find("sparse_categorical_crossentropy_sum") != std::string::npos);
                CHECK(what.find("labels[1]") != std::string::npos);
                CHECK(what.find("[0, 3)") != std::string::npos);
                CHECK(what.find(std::to_string(bad)) != std::string::npos);
            }
            CHECK_THROWS_AS((void)kn::argmax_label_match_count<3>(2, p, labels), std::invalid_argument);
        }
    });
}

}  // namespace kernels_test_loss_kernels
