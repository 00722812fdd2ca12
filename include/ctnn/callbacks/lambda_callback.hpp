// ctnn/callbacks/lambda_callback.hpp — LambdaCallback: a callback assembled from lambdas, as
// Keras's LambdaCallback; every hook is optional and an unset one does nothing.
//
//   callbacks::LambdaCallback log{.on_epoch_end = [](std::size_t epoch, const Logs& logs) { ... }};
//
// A lambda may also take fewer arguments: (epoch) or () for epoch/batch hooks, () for train hooks.
// For access to the model, capture it (Keras's lambdas do the same).
#pragma once

#include <cstddef>
#include <functional>
#include <type_traits>
#include <utility>

#include "ctnn/core/logs.hpp"

namespace ctnn::callbacks {

// A std::function that is a no-op when empty (the hook protocol calls every member it finds).
template <class... Args>
class OptionalHook {
public:
    OptionalHook() = default;
    template <class F>
        requires(!std::is_same_v<std::remove_cvref_t<F>, OptionalHook> &&
                 (std::is_invocable_v<F&, Args...> ||
                  (sizeof...(Args) == 2 && std::is_invocable_v<F&, std::size_t>) || std::is_invocable_v<F&>))
    OptionalHook(F f) {  // NOLINT: implicit, so that `.on_epoch_end = [](...) {...}` works
        if constexpr (std::is_invocable_v<F&, Args...>) {
            function_ = std::move(f);
        } else if constexpr (sizeof...(Args) == 2 && std::is_invocable_v<F&, std::size_t>) {
            function_ = [g = std::move(f)](std::size_t index, const Logs&) mutable { g(index); };
        } else {
            function_ = [g = std::move(f)](Args...) mutable { g(); };
        }
    }
    void operator()(Args... args) const {
        if (function_) function_(std::forward<Args>(args)...);
    }
    explicit operator bool() const noexcept { return static_cast<bool>(function_); }

private:
    std::function<void(Args...)> function_;
};

using EpochHook = OptionalHook<std::size_t, const Logs&>;  // (epoch or batch index, logs)
using TrainHook = OptionalHook<const Logs&>;               // (logs)

// Members in the order of Keras's LambdaCallback arguments, for designated initializers.
struct LambdaCallback {
    EpochHook on_epoch_begin{};
    EpochHook on_epoch_end{};
    EpochHook on_batch_begin{};
    EpochHook on_batch_end{};
    TrainHook on_train_begin{};
    TrainHook on_train_end{};
};

}  // namespace ctnn::callbacks
