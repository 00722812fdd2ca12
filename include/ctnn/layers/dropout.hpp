// ctnn/layers/dropout.hpp — Dropout<Rate> with Keras's meaning: Rate is the fraction of units
// DROPPED while training (Dropout<0.9> keeps 10%). Kept units are scaled by 1/(1 - Rate)
// ("inverted dropout"), so inference is the identity and needs no rescaling.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "ctnn/core/concepts.hpp"
#include "ctnn/kernels/dropout.hpp"

namespace ctnn {

template <std::size_t N, double Rate>
class DropoutLayer {
public:
    static constexpr std::size_t input_size = N;
    static constexpr std::size_t output_size = N;
    static constexpr std::size_t param_count = 0;
    static constexpr std::string_view kind = "dropout";
    static constexpr std::string_view type_name = "Dropout";
    static constexpr double rate = Rate;
    static constexpr float scale = static_cast<float>(1.0 / (1.0 - Rate));

    void initialize(Rng&) {}
    void reserve(std::size_t max_batch) { keep_.resize(max_batch * N); }

    void forward(const float* x, float* y, const ForwardContext& ctx) {
        const std::size_t n = ctx.batch * N;
        if (ctx.phase == Phase::inference || Rate == 0.0) {
            if (x != y) std::copy(x, x + n, y);
            used_mask_ = false;
            return;
        }
        if (keep_.size() < n) keep_.resize(n);  // only if fit did not reserve
        kernels::dropout_make_mask(n, static_cast<float>(Rate), *ctx.rng, keep_.data());
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

template <double Rate>
struct Dropout {
    static_assert(Rate >= 0.0 && Rate < 1.0,
                  "Dropout<Rate>: Rate is the fraction of units DROPPED (Keras meaning) and must be in [0, 1)");
    template <std::size_t N> using bind = DropoutLayer<N, Rate>;
};

}  // namespace ctnn
