// ctnn/losses/losses.hpp — every loss policy, and the Loss concept a custom loss must meet.
//
// A LOSS provides `name`, `sparse_targets` (true: one int32 class per sample; false: N floats),
// `target_type`, `sum<N>(B, p, t)` (Σ of per-sample losses) and `gradient<N>(B, p, t, dp)`
// (of the MEAN loss w.r.t. the network output). Optionally `fuses_with_softmax` and
// `softmax_gradient<N>` for the cheaper gradient through a softmax output.
#pragma once

#include <concepts>
#include <cstddef>
#include <string_view>

#include "ctnn/losses/binary_crossentropy.hpp"
#include "ctnn/losses/categorical_crossentropy.hpp"
#include "ctnn/losses/mean_squared_error.hpp"
#include "ctnn/losses/sparse_categorical_crossentropy.hpp"

namespace ctnn {

template <class L, std::size_t N>
concept Loss = requires(const L& loss, const float* p, const typename L::target_type* t, float* dp) {
    { L::name } -> std::convertible_to<std::string_view>;
    { L::sparse_targets } -> std::convertible_to<bool>;
    { loss.template sum<N>(std::size_t{}, p, t) } -> std::convertible_to<double>;
    loss.template gradient<N>(std::size_t{}, p, t, dp);
};

}  // namespace ctnn
