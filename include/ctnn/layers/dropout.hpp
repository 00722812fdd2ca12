// ctnn/layers/dropout.hpp — Dropout<Rate> with Keras's meaning: Rate is the fraction of units
// DROPPED while training (Dropout<0.9> keeps 10%). Kept units are scaled by 1/(1 - Rate)
// ("inverted dropout"), so inference is the identity and needs no rescaling.
//
// Two spellings of the rate, one layer type:
//   Dropout<0.9>            a floating-point template argument (g++ >= 11, clang++ >= 18, MSVC)
//   Dropout<rate<9, 10>>    a ratio, for every C++20 compiler: clang++ before 18 (and Apple clang
//                           before 17) has no floating-point template arguments.
// The ratio is a value, std::ratio<9, 10>{} (ctnn::rate<9, 10> is that value), not the type
// std::ratio<9, 10>: a template parameter is either a type or a value, and Dropout<0.9> needs a value.
#pragma once

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <ratio>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ctnn/core/concepts.hpp"
#include "ctnn/kernels/dropout.hpp"

// 1 when double template arguments work. clang 18 and 19 accept them but still report
// __cpp_nontype_template_args as 201411, so clang is told by its version (Apple clang 17 is LLVM 19).
#ifndef CTNN_FLOAT_TEMPLATE_ARGS
#if defined(__cpp_nontype_template_args) && __cpp_nontype_template_args >= 201911L
#define CTNN_FLOAT_TEMPLATE_ARGS 1
#elif defined(__clang__) && defined(__apple_build_version__)
#define CTNN_FLOAT_TEMPLATE_ARGS (__clang_major__ >= 17)
#elif defined(__clang__)
#define CTNN_FLOAT_TEMPLATE_ARGS (__clang_major__ >= 18)
#else
#define CTNN_FLOAT_TEMPLATE_ARGS 0
#endif
#endif

namespace ctnn {

// The portable spelling of a rate: Dropout<rate<9, 10>> is Dropout<0.9>.
template <std::intmax_t Num, std::intmax_t Den = 1>
inline constexpr std::ratio<Num, Den> rate{};

namespace detail {

template <class T>
concept ratio_like = requires {
    { T::num } -> std::convertible_to<std::intmax_t>;
    { T::den } -> std::convertible_to<std::intmax_t>;
};

template <auto R> consteval bool is_rate() {
    using T = decltype(R);
    return std::floating_point<T> || (std::integral<T> && !std::same_as<T, bool>) || ratio_like<T>;
}

// Compared exactly: a ratio by its integers, so rate<1, 1> is out of range however it would round.
template <auto R> consteval bool rate_in_range() {
    using T = decltype(R);
    if constexpr (ratio_like<T>) return T::den > 0 && T::num >= 0 && T::num < T::den;
    else if constexpr (is_rate<R>()) return R >= 0 && R < 1;
    else return true;  // not a rate at all: is_rate's message says so
}

template <auto R> consteval double rate_as_double() {
    using T = decltype(R);
    if constexpr (ratio_like<T>) return static_cast<double>(T::num) / static_cast<double>(T::den);
    else if constexpr (is_rate<R>()) return static_cast<double>(R);
    else return 0.0;
}

// The layer's template argument, one per rate whatever its spelling: a double where the compiler takes
// double template arguments (9.0 / 10.0 rounds to the same double as 0.9), else the reduced ratio.
template <auto R> consteval auto canonical_valid_rate() {
    if constexpr (std::floating_point<decltype(R)>) {
        return static_cast<double>(R);
    } else {
#if CTNN_FLOAT_TEMPLATE_ARGS
        return rate_as_double<R>();
#else
        if constexpr (ratio_like<decltype(R)>) return std::ratio<decltype(R)::num, decltype(R)::den>{};
        else return std::ratio<static_cast<std::intmax_t>(R), 1>{};
#endif
    }
}
// An invalid rate binds as 0, so that only Dropout's own message is printed.
template <auto R> consteval auto canonical_rate() {
    if constexpr (is_rate<R>() && rate_in_range<R>()) return canonical_valid_rate<R>();
    else return canonical_valid_rate<std::intmax_t{0}>();
}

}  // namespace detail

// Use it through Dropout<Rate>::bind<S> (Sequential does): Rate is then one value per rate. Units are
// dropped independently, whatever the shape S of a sample.
template <ShapeType S, auto Rate>
class DropoutLayer {
    static_assert(detail::is_rate<Rate>(), "DropoutLayer<Shape, Rate>: Rate must be a number such as 0.9 or a ratio "
                                           "such as ctnn::rate<9, 10>");
    static_assert(detail::rate_in_range<Rate>(), "DropoutLayer<Shape, Rate>: Rate is the fraction of units DROPPED "
                                                 "(Keras meaning) and must be in [0, 1)");
    static constexpr std::size_t N = S::size;

public:
    using input_shape = S;
    using output_shape = S;
    static constexpr std::size_t param_count = 0;
    static constexpr std::string_view kind = "dropout";
    static constexpr std::string_view type_name = "Dropout";
    static constexpr double rate = detail::rate_as_double<Rate>();
    static constexpr float scale = rate < 1.0 ? static_cast<float>(1.0 / (1.0 - rate)) : 1.0f;

    void initialize(Rng&) {}
    void reserve(std::size_t max_batch) { keep_.resize(max_batch * N); }

    void forward(const float* x, float* y, const ForwardContext& ctx) {
        const std::size_t n = ctx.batch * N;
        if (ctx.phase == Phase::inference || rate == 0.0) {
            if (x != y) std::copy(x, x + n, y);
            used_mask_ = false;
            return;
        }
        if (keep_.size() < n) keep_.resize(n);  // only if fit did not reserve
        kernels::dropout_make_mask(n, static_cast<float>(rate), *ctx.rng, keep_.data());
        kernels::dropout_forward(n, x, keep_.data(), scale, y);
        used_mask_ = true;
    }
    void backward(const float*, const float*, float* dy, float* dx, std::size_t batch, bool) {
        const std::size_t n = batch * N;
        if (used_mask_) kernels::dropout_backward(n, keep_.data(), scale, dy);
        if (dx != nullptr) std::copy(dy, dy + n, dx);
    }
    template <class F> void visit_parameters(F&&) {}

    const std::vector<std::uint8_t>& mask() const noexcept { return keep_; }  // 1 = kept (tests)

private:
    std::vector<std::uint8_t> keep_;  // (B, N) of the last training forward pass
    bool used_mask_ = false;
};

template <auto Rate>
struct Dropout {
    static_assert(detail::is_rate<Rate>(),
                  "Dropout<Rate>: Rate must be a number such as 0.9 or a ratio such as ctnn::rate<9, 10> "
                  "(or std::ratio<9, 10>{})");
    static_assert(detail::rate_in_range<Rate>(),
                  "Dropout<Rate>: Rate is the fraction of units DROPPED (Keras meaning) and must be in [0, 1)");
    static constexpr double rate = detail::rate_as_double<Rate>();
    template <ShapeType S> using bind = DropoutLayer<S, detail::canonical_rate<Rate>()>;
};

}  // namespace ctnn
