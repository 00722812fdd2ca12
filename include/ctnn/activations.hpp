// ctnn/activations.hpp — activation functions as stateless policies.
//
// An elementwise activation provides `forward(z)` and `derivative_from_output(y)` for both a
// float and an xsimd batch (one template serves the scalar tail and the vector body). The
// derivative is written in terms of the output y = f(z), so layers keep only their outputs.
// Softmax is row-wise, not elementwise; its kernels live in kernels/activation.hpp.
#pragma once

#include <cmath>
#include <string_view>

#include "ctnn/detail/simd_headers.hpp"

namespace ctnn {

namespace detail {
// xsimd::select has no scalar overload in xsimd 8; this gives the scalar tail the same spelling.
inline float select(bool cond, float a, float b) noexcept { return cond ? a : b; }
template <class B, class M> B select(const M& cond, const B& a, const B& b) noexcept {
    return xsimd::select(cond, a, b);
}
}  // namespace detail

struct Linear {
    static constexpr std::string_view name = "linear";
    static constexpr bool elementwise = true;
    template <class T> static T forward(T z) noexcept { return z; }
    template <class T> static T derivative_from_output(T) noexcept { return T(1.0f); }
};

struct Relu {
    static constexpr std::string_view name = "relu";
    static constexpr bool elementwise = true;
    // Written as a select, not max: max(NaN, 0) is 0 on x86, and a NaN must stay visible (as in TF).
    template <class T> static T forward(T z) noexcept { return detail::select(z < T(0.0f), T(0.0f), z); }
    template <class T> static T derivative_from_output(T y) noexcept {
        return detail::select(y > T(0.0f), T(1.0f), T(0.0f));
    }
};

struct Sigmoid {
    static constexpr std::string_view name = "sigmoid";
    static constexpr bool elementwise = true;
    template <class T> static T forward(T z) noexcept { return T(1.0f) / (T(1.0f) + xsimd::exp(-z)); }
    template <class T> static T derivative_from_output(T y) noexcept { return y * (T(1.0f) - y); }
};

struct Tanh {
    static constexpr std::string_view name = "tanh";
    static constexpr bool elementwise = true;
    template <class T> static T forward(T z) noexcept { return xsimd::tanh(z); }
    template <class T> static T derivative_from_output(T y) noexcept { return T(1.0f) - y * y; }
};

// Row-wise: y_i = exp(z_i - max z) / sum_j exp(z_j - max z).
struct Softmax {
    static constexpr std::string_view name = "softmax";
    static constexpr bool elementwise = false;
};

}  // namespace ctnn
