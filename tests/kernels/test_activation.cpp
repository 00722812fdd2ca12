// Tests of ctnn/kernels/activation.hpp: the vectorised activation kernels against their naive twins
// over sizes that hit every SIMD remainder, hand-computed values, and a central-difference gradient
// check of activation_backward against activation_forward for every activation.
#include <doctest/doctest.h>

#include <cmath>
#include <cstddef>
#include <sstream>
#include <string>
#include <type_traits>
#include <vector>

#include "ctnn/activations.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/kernels/activation.hpp"
#include "ctnn/kernels/reference.hpp"
#include "for_each_arch.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace kernels_test_activation {

namespace {

namespace kn = ctnn::kernels;
namespace ref = ctnn::kernels::reference;
using ctnn::testing::for_each_arch;

// Calls f(std::integral_constant<std::size_t, N>{}) for each N: one instantiation per size.
template <std::size_t... Ns, class F> void for_sizes(F&& f) { (f(std::integral_constant<std::size_t, Ns>{}), ...); }
// Feature sizes around every multiple of 4/8/16 lanes, plus the model's 500 and 1000.
template <class F> void for_sweep_sizes(F&& f) { for_sizes<1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 33, 500, 1000>(f); }
constexpr std::size_t sweep_batches[] = {1, 3, 32};

std::vector<float> random_vector(std::size_t n, std::uint64_t seed, float lo, float hi) {
    ctnn::Rng rng(seed);
    std::vector<float> v(n);
    for (auto& x : v) x = rng.uniform(lo, hi);
    return v;
}

// Element-by-element comparison; reports the first mismatch with its index.
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

template <class Act> std::string act_name() { return std::string(Act::name); }

template <class Act, class Arch> void sweep_forward_backward() {
    for_sweep_sizes([](auto n) {
        constexpr std::size_t N = decltype(n)::value;
        for (std::size_t batch : sweep_batches) {
            const std::string what = act_name<Act>() + " N=" + std::to_string(N) + " B=" + std::to_string(batch) + " " +
                                     std::string(kn::arch_name<Arch>());
            const auto x = random_vector(batch * N, 17 + N * 31 + batch, -4.0f, 4.0f);  // (B, N)
            std::vector<float> y(x.size()), y_ref(x.size());
            kn::activation_forward<N, Act, Arch>(batch, x.data(), y.data());
            ref::activation_forward_naive<N, Act>(batch, x.data(), y_ref.data());
            check_close(y, y_ref, 1e-5, "forward " + what);

            // In place (x and y alias), as the Activation layer may call it.
            std::vector<float> inplace = x;
            kn::activation_forward<N, Act, Arch>(batch, inplace.data(), inplace.data());
            check_close(inplace, y_ref, 1e-5, "forward in place " + what);

            const auto dy = random_vector(batch * N, 99 + N + batch, -1.0f, 1.0f);
            std::vector<float> dz = dy, dz_ref = dy;
            kn::activation_backward<N, Act, Arch>(batch, y_ref.data(), dz.data());
            ref::activation_backward_naive<N, Act>(batch, y_ref.data(), dz_ref.data());
            check_close(dz, dz_ref, 1e-5, "backward " + what);
        }
    });
}

// Result of a gradient check: a log of every mismatch, convertible to bool (true = passed).
struct GradientCheck {
    std::string log;
    bool ok = true;
    explicit operator bool() const { return ok; }
};

// Checks activation_backward against central differences of activation_forward for one row x:
// with L(x) = Σ_j w_j · f(x)_j, backward(y, w) must equal dL/dx. The differences are formed in
// double from the float forward outputs, over the step actually taken in float.
template <std::size_t N, class Act, class Arch> GradientCheck gradient_check(const std::vector<float>& x, const std::vector<float>& w) {
    GradientCheck result;
    std::vector<float> y(N);
    kn::activation_forward<N, Act, Arch>(1, x.data(), y.data());
    std::vector<float> analytic = w;
    kn::activation_backward<N, Act, Arch>(1, y.data(), analytic.data());

    auto loss = [&](const std::vector<float>& xs) {
        std::vector<float> ys(N);
        kn::activation_forward<N, Act, Arch>(1, xs.data(), ys.data());
        double l = 0;
        for (std::size_t j = 0; j < N; ++j) l += double(w[j]) * double(ys[j]);
        return l;
    };
    for (std::size_t i = 0; i < N; ++i) {
        std::vector<float> plus = x, minus = x;
        plus[i] += 1e-2f;
        minus[i] -= 1e-2f;
        const double numeric = (loss(plus) - loss(minus)) / (double(plus[i]) - double(minus[i]));
        const double tolerance = 2e-3 * (1.0 + std::fabs(numeric));
        if (std::fabs(numeric - analytic[i]) > tolerance) {
            std::ostringstream os;
            os << Act::name << " x[" << i << "]=" << x[i] << ": numeric " << numeric << " vs backward " << analytic[i]
               << "\n";
            result.log += os.str();
            result.ok = false;
        }
    }
    return result;
}

// Sigmoid's forward with Tanh's derivative: what the gradient check exists to catch.
struct WrongSigmoid : ctnn::Sigmoid {
    template <class T> static T derivative_from_output(T y) noexcept { return T(1.0f) - y * y; }
};

}  // namespace

TEST_CASE_TEMPLATE("ActivationKernels.match_naive_twin_over_all_remainders", Act, ctnn::Linear, ctnn::Relu,
                   ctnn::Sigmoid, ctnn::Tanh, ctnn::Softmax) {
    for_each_arch([]<class Arch>() { sweep_forward_backward<Act, Arch>(); });
}

TEST_CASE_TEMPLATE("ActivationKernels.match_naive_twin_on_multithreaded_blocks", Act, ctnn::Relu, ctnn::Sigmoid,
                   ctnn::Softmax) {
    for_each_arch([]<class Arch>() {
        // Above the OpenMP threshold (64K elements): both the chunked elementwise path and the row-parallel one.
        {
            INFO("1000 features");
            constexpr std::size_t N = 1000, B = 70;
            const auto x = random_vector(B * N, 5, -3.0f, 3.0f);
            std::vector<float> y(x.size()), y_ref(x.size());
            kn::activation_forward<N, Act, Arch>(B, x.data(), y.data());
            ref::activation_forward_naive<N, Act>(B, x.data(), y_ref.data());
            check_close(y, y_ref, 1e-5, "forward");
            auto dz = random_vector(B * N, 6, -1.0f, 1.0f), dz_ref = dz;
            kn::activation_backward<N, Act, Arch>(B, y_ref.data(), dz.data());
            ref::activation_backward_naive<N, Act>(B, y_ref.data(), dz_ref.data());
            check_close(dz, dz_ref, 1e-5, "backward");
        }
        {
            INFO("10 classes, many rows");
            constexpr std::size_t N = 10, B = 7001;
            const auto x = random_vector(B * N, 7, -3.0f, 3.0f);
            std::vector<float> y(x.size()), y_ref(x.size());
            kn::activation_forward<N, Act, Arch>(B, x.data(), y.data());
            ref::activation_forward_naive<N, Act>(B, x.data(), y_ref.data());
            check_close(y, y_ref, 1e-5, "forward");
        }
    });
}

TEST_CASE("ActivationKernels.hand_computed_values") {
    for_each_arch([]<class Arch>() {
        {
            INFO("softmax of [1, 2, 3]");
            const float x[3] = {1, 2, 3};
            float y[3];
            kn::activation_forward<3, ctnn::Softmax, Arch>(1, x, y);
            CHECK(y[0] == doctest::Approx(0.09003057).epsilon(1e-6));
            CHECK(y[1] == doctest::Approx(0.24472847).epsilon(1e-6));
            CHECK(y[2] == doctest::Approx(0.66524096).epsilon(1e-6));
        }
        {
            INFO("softmax subtracts the row maximum: huge logits do not overflow");
            const float x[6] = {1000, 1001, 1002, -1e30f, 0, -1e30f};
            float y[6];
            kn::activation_forward<3, ctnn::Softmax, Arch>(2, x, y);
            CHECK(y[0] == doctest::Approx(0.09003057).epsilon(1e-6));
            CHECK(y[2] == doctest::Approx(0.66524096).epsilon(1e-6));
            CHECK(y[3] == 0.0f);
            CHECK(y[4] == doctest::Approx(1.0));
            CHECK(y[5] == 0.0f);
        }
        {
            INFO("softmax rows of 17 sum to one");
            const auto x = random_vector(3 * 17, 3, -20.0f, 20.0f);
            std::vector<float> y(x.size());
            kn::activation_forward<17, ctnn::Softmax, Arch>(3, x.data(), y.data());
            for (std::size_t r = 0; r < 3; ++r) {
                double s = 0;
                for (std::size_t c = 0; c < 17; ++c) s += y[r * 17 + c];
                CHECK(s == doctest::Approx(1.0).epsilon(1e-6));
            }
        }
        {
            INFO("relu, sigmoid, tanh on 9 values (vector body + tail)");
            const float x[9] = {-2, -1, -0.5f, 0, 0.5f, 1, 2, 3, -3};
            float relu[9], sig[9], tanh_[9];
            kn::activation_forward<9, ctnn::Relu, Arch>(1, x, relu);
            kn::activation_forward<9, ctnn::Sigmoid, Arch>(1, x, sig);
            kn::activation_forward<9, ctnn::Tanh, Arch>(1, x, tanh_);
            for (std::size_t k = 0; k < 9; ++k) {
                CHECK(relu[k] == (x[k] > 0 ? x[k] : 0.0f));
                CHECK(sig[k] == doctest::Approx(1.0 / (1.0 + std::exp(-double(x[k])))).epsilon(1e-6));
                CHECK(tanh_[k] == doctest::Approx(std::tanh(double(x[k]))).epsilon(1e-6));
            }
        }
        {
            INFO("relu backward passes the gradient only where the output is positive");
            const float y[9] = {0, 0, 0, 0, 0.5f, 1, 2, 3, 0};
            float dy[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
            kn::activation_backward<9, ctnn::Relu, Arch>(1, y, dy);
            const float want[9] = {0, 0, 0, 0, 5, 6, 7, 8, 0};
            for (std::size_t k = 0; k < 9; ++k) CHECK(dy[k] == want[k]);
        }
        {
            INFO("softmax backward of a one-hot gradient: y_i (δ_ij − y_j)");
            const float x[3] = {1, 2, 3};
            float y[3];
            kn::activation_forward<3, ctnn::Softmax, Arch>(1, x, y);
            float dy[3] = {0, 0, 1};
            kn::activation_backward<3, ctnn::Softmax, Arch>(1, y, dy);
            CHECK(dy[0] == doctest::Approx(-double(y[0]) * y[2]).epsilon(1e-6));
            CHECK(dy[1] == doctest::Approx(-double(y[1]) * y[2]).epsilon(1e-6));
            CHECK(dy[2] == doctest::Approx(double(y[2]) * (1 - y[2])).epsilon(1e-6));
        }
    });
}

TEST_CASE_TEMPLATE("ActivationKernels.backward_matches_central_differences_of_forward", Act, ctnn::Linear, ctnn::Relu,
                   ctnn::Sigmoid, ctnn::Tanh, ctnn::Softmax) {
    for_each_arch([]<class Arch>() {
        auto run = [](auto n, std::uint64_t seed) {
            constexpr std::size_t N = decltype(n)::value;
            auto x = random_vector(N, seed, -2.5f, 2.5f);
            // Keep away from Relu's kink at 0, where the derivative is not defined.
            for (auto& v : x)
                if (std::fabs(v) < 0.1f) v += v < 0 ? -0.2f : 0.2f;
            const auto w = random_vector(N, seed + 1, -1.0f, 1.0f);
            const GradientCheck check = gradient_check<N, Act, Arch>(x, w);
            INFO(check.log);
            CHECK(static_cast<bool>(check));
        };
        {
            INFO("3 features");
            run(std::integral_constant<std::size_t, 3>{}, 11);
        }
        {
            INFO("9 features (vector body + tail)");
            run(std::integral_constant<std::size_t, 9>{}, 12);
        }
        {
            INFO("17 features");
            run(std::integral_constant<std::size_t, 17>{}, 13);
        }
    });
}

TEST_CASE("ActivationKernels.gradient_check_can_fail") {
    // The checker must reject a wrong derivative: Sigmoid's forward with Tanh's backward.
    const auto x = random_vector(9, 21, -2.0f, 2.0f);
    const auto w = random_vector(9, 22, -1.0f, 1.0f);
    CHECK_FALSE(static_cast<bool>(gradient_check<9, WrongSigmoid, kn::simd_arch>(x, w)));
    CHECK(static_cast<bool>(gradient_check<9, ctnn::Sigmoid, kn::simd_arch>(x, w)));
}

}  // namespace kernels_test_activation
