// Tests of ctnn/kernels/optimizer.hpp: SGD (plain, momentum, Nesterov), RMSprop and Adam against
// their naive twins over sizes that hit every SIMD remainder and over the model's parameter count
// (multithreaded), for several consecutive steps, plus first steps computed by hand.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "ctnn/core/random.hpp"
#include "ctnn/kernels/optimizer.hpp"
#include "ctnn/kernels/reference.hpp"
#include "for_each_arch.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace kernels_test_optimizer_kernels {

namespace {

namespace kn = ctnn::kernels;
namespace ref = ctnn::kernels::reference;
using ctnn::testing::for_each_arch;

// Every remainder of 4/8/16 lanes, the model's layer sizes, and the MNIST MLP's 1 290 510 parameters.
constexpr std::size_t sweep_sizes[] = {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 500, 1000, 10, 5010, 1'290'510};

std::vector<float> random_vector(std::size_t n, std::uint64_t seed, float lo, float hi) {
    ctnn::Rng rng(seed);
    std::vector<float> v(n);
    for (auto& x : v) x = rng.uniform(lo, hi);
    return v;
}

void check_close(const std::vector<float>& got, const std::vector<float>& want, double eps, const std::string& what) {
    REQUIRE(got.size() == want.size());
    for (std::size_t k = 0; k < got.size(); ++k) {
        if (got[k] != doctest::Approx(want[k]).epsilon(eps)) {
            INFO(what << ": first mismatch at " << k << ": got " << got[k] << ", want " << want[k]);
            CHECK(got[k] == doctest::Approx(want[k]).epsilon(eps));
            return;
        }
    }
}

struct State {
    std::vector<float> param, s1, s2;  // (n) each: parameters and up to two state buffers
};

State initial_state(std::size_t n, std::uint64_t seed, bool zero_state) {
    State s{random_vector(n, seed, -1.0f, 1.0f), std::vector<float>(n, 0.0f), std::vector<float>(n, 0.0f)};
    if (!zero_state) {
        s.s1 = random_vector(n, seed + 1, -0.1f, 0.1f);
        s.s2 = random_vector(n, seed + 2, 0.0f, 0.01f);
    }
    return s;
}

}  // namespace

TEST_CASE("OptimizerKernels.match_naive_twin") {
    for_each_arch([]<class Arch>() {
        {
            INFO("adam");
            for (std::size_t n : sweep_sizes) {
                INFO("n=" << n);
                State fast = initial_state(n, n, false), naive = fast;
                for (int step = 1; step <= 3; ++step) {
                    const auto g = random_vector(n, 1000 * step + n, -1.0f, 1.0f);
                    const float lr_t = 0.001f * std::sqrt(1.0f - std::pow(0.999f, step)) / (1.0f - std::pow(0.9f, step));
                    kn::adam_update<Arch>(n, fast.param.data(), g.data(), fast.s1.data(), fast.s2.data(), lr_t, 0.9f, 0.999f, 1e-7f);
                    ref::adam_update_naive(n, naive.param.data(), g.data(), naive.s1.data(), naive.s2.data(), lr_t, 0.9f,
                                           0.999f, 1e-7f);
                }
                check_close(fast.param, naive.param, 1e-6, "param");
                check_close(fast.s1, naive.s1, 1e-6, "m");
                check_close(fast.s2, naive.s2, 1e-6, "v");
            }
        }
        {
            INFO("rmsprop");
            for (std::size_t n : sweep_sizes) {
                INFO("n=" << n);
                State fast = initial_state(n, n, false), naive = fast;
                for (int step = 1; step <= 3; ++step) {
                    const auto g = random_vector(n, 2000 * step + n, -1.0f, 1.0f);
                    kn::rmsprop_update<Arch>(n, fast.param.data(), g.data(), fast.s2.data(), 0.001f, 0.9f, 1e-7f);
                    ref::rmsprop_update_naive(n, naive.param.data(), g.data(), naive.s2.data(), 0.001f, 0.9f, 1e-7f);
                }
                check_close(fast.param, naive.param, 1e-6, "param");
                check_close(fast.s2, naive.s2, 1e-6, "avg_sq");
            }
        }
        {
            INFO("sgd with momentum, plain and Nesterov");
            for (bool nesterov : {false, true}) {
                for (std::size_t n : sweep_sizes) {
                    INFO("nesterov=" << nesterov << " n=" << n);
                    State fast = initial_state(n, n, false), naive = fast;
                    for (int step = 1; step <= 3; ++step) {
                        const auto g = random_vector(n, 3000 * step + n, -1.0f, 1.0f);
                        kn::sgd_update<Arch>(n, fast.param.data(), g.data(), fast.s1.data(), 0.01f, 0.9f, nesterov);
                        ref::sgd_update_naive(n, naive.param.data(), g.data(), naive.s1.data(), 0.01f, 0.9f, nesterov);
                    }
                    check_close(fast.param, naive.param, 1e-6, "param");
                    check_close(fast.s1, naive.s1, 1e-6, "velocity");
                }
            }
        }
        {
            INFO("sgd without momentum");
            for (std::size_t n : sweep_sizes) {
                INFO("n=" << n);
                State fast = initial_state(n, n, true), naive = fast;
                const auto g = random_vector(n, 4000 + n, -1.0f, 1.0f);
                kn::sgd_update<Arch>(n, fast.param.data(), g.data(), nullptr, 0.01f, 0.0f, false);
                ref::sgd_update_naive(n, naive.param.data(), g.data(), nullptr, 0.01f, 0.0f, false);
                check_close(fast.param, naive.param, 1e-6, "param");
            }
        }
    });
}

TEST_CASE("OptimizerKernels.hand_computed_steps") {
    for_each_arch([]<class Arch>() {
        {
            INFO("adam's first step from zero state is about −lr · sign(g)");
            // m = 0.1 g, v = 0.001 g², lr_t = lr · sqrt(0.001) / 0.1  ⇒  Δ = −lr · g / |g| (up to epsilon).
            const float lr = 0.001f;
            const float lr_t = lr * std::sqrt(1.0f - 0.999f) / (1.0f - 0.9f);
            std::vector<float> g = {0.5f, -2.0f, 1e-3f, -3e-2f, 7.0f, -0.25f, 0.125f, 4.0f, -1.0f};  // 9: body + tail
            std::vector<float> param(g.size(), 1.0f), m(g.size(), 0.0f), v(g.size(), 0.0f);
            kn::adam_update<Arch>(g.size(), param.data(), g.data(), m.data(), v.data(), lr_t, 0.9f, 0.999f, 1e-7f);
            for (std::size_t k = 0; k < g.size(); ++k) {
                INFO("k=" << k);
                CHECK(param[k] - 1.0f == doctest::Approx(g[k] > 0 ? -lr : lr).epsilon(1e-3));
                CHECK(m[k] == doctest::Approx(0.1 * g[k]).epsilon(1e-6));
                CHECK(v[k] == doctest::Approx(0.001 * g[k] * g[k]).epsilon(1e-5));
            }
        }
        {
            INFO("sgd with Nesterov momentum");
            // velocity = 0.9 · 0.2 − 0.1 · 0.5 = 0.13;  param = 1 + 0.9 · 0.13 − 0.1 · 0.5 = 1.067
            float param = 1.0f, velocity = 0.2f;
            const float g = 0.5f;
            kn::sgd_update<Arch>(1, &param, &g, &velocity, 0.1f, 0.9f, true);
            CHECK(velocity == doctest::Approx(0.13).epsilon(1e-6));
            CHECK(param == doctest::Approx(1.067).epsilon(1e-6));
        }
        {
            INFO("sgd with plain momentum");
            float param = 1.0f, velocity = 0.2f;
            const float g = 0.5f;
            kn::sgd_update<Arch>(1, &param, &g, &velocity, 0.1f, 0.9f, false);
            CHECK(velocity == doctest::Approx(0.13).epsilon(1e-6));
            CHECK(param == doctest::Approx(1.13).epsilon(1e-6));
        }
        {
            INFO("sgd without momentum ignores the (null) velocity");
            std::vector<float> param(9, 1.0f), g(9, 0.5f);
            kn::sgd_update<Arch>(9, param.data(), g.data(), nullptr, 0.1f, 0.0f, true);
            for (float p : param) CHECK(p == doctest::Approx(0.95).epsilon(1e-6));
        }
        {
            INFO("rmsprop first step");
            // avg_sq = 0.1 · 4 = 0.4;  param = 1 − 0.01 · 2 / sqrt(0.4 + 1e-7)
            std::vector<float> param(9, 1.0f), g(9, 2.0f), avg(9, 0.0f);
            kn::rmsprop_update<Arch>(9, param.data(), g.data(), avg.data(), 0.01f, 0.9f, 1e-7f);
            for (std::size_t k = 0; k < 9; ++k) {
                CHECK(avg[k] == doctest::Approx(0.4).epsilon(1e-6));
                CHECK(param[k] == doctest::Approx(1.0 - 0.02 / std::sqrt(0.4 + 1e-7)).epsilon(1e-6));
            }
        }
    });
}

}  // namespace kernels_test_optimizer_kernels
