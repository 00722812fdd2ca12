// ctnn/callbacks/callback.hpp — callbacks as policies: any object with any subset of Keras's hooks.
//
// fit/evaluate/predict call, when the object has them (detected at compile time, so an absent
// hook costs nothing):
//   on_train_begin(logs)           on_train_end(logs)
//   on_epoch_begin(epoch, logs)    on_epoch_end(epoch, logs)        epoch is 0-based
//   on_train_batch_begin(batch, logs) / on_batch_begin(batch, logs)  (aliases, as in Keras)
//   on_train_batch_end(batch, logs)   / on_batch_end(batch, logs)
//   on_test_begin/end(logs), on_test_batch_begin/end(batch, logs)     (evaluate and in-fit validation)
//   on_predict_begin/end(logs), on_predict_batch_begin/end(batch, logs)
//   set_model(ModelInterface&), set_params(const FitParams&)
// `logs` (const Logs&) may be left out of any hook's parameters, and so may the index.
// Batch logs: loss, accuracy (running means over the epoch, as Keras), size (samples in the batch),
// raw_loss, raw_accuracy (this batch alone). Epoch logs: loss, accuracy, val_loss, val_accuracy.
// A callback stops training by setting `model.stop_training = true` on the ModelInterface it got.
#pragma once

#include <cstddef>
#include <tuple>

#include "ctnn/core/logs.hpp"
#include "ctnn/core/model_interface.hpp"

namespace ctnn {

// For those who prefer Keras's subclassing style: override what you need.
class Callback {
public:
    virtual ~Callback() = default;
    virtual void set_model(ModelInterface& m) { model = &m; }
    virtual void set_params(const FitParams& p) { params = p; }
    virtual void on_train_begin(const Logs&) {}
    virtual void on_train_end(const Logs&) {}
    virtual void on_epoch_begin(std::size_t, const Logs&) {}
    virtual void on_epoch_end(std::size_t, const Logs&) {}
    virtual void on_train_batch_begin(std::size_t, const Logs&) {}
    virtual void on_train_batch_end(std::size_t, const Logs&) {}
    virtual void on_test_begin(const Logs&) {}
    virtual void on_test_end(const Logs&) {}
    virtual void on_test_batch_begin(std::size_t, const Logs&) {}
    virtual void on_test_batch_end(std::size_t, const Logs&) {}
    virtual void on_predict_begin(const Logs&) {}
    virtual void on_predict_end(const Logs&) {}
    virtual void on_predict_batch_begin(std::size_t, const Logs&) {}
    virtual void on_predict_batch_end(std::size_t, const Logs&) {}

protected:
    ModelInterface* model = nullptr;
    FitParams params;
};

namespace detail {

// Calls cb.HOOK with (index, logs), (logs), (index) or () — whichever the callback declares.
#define CTNN_DETAIL_DISPATCH_HOOK(hook)                                                               \
    template <class C>                                                                                \
    constexpr bool has_##hook = requires(C& c, std::size_t i, const Logs& l) { c.hook(i, l); } ||     \
                                requires(C& c, const Logs& l) { c.hook(l); } ||                       \
                                requires(C& c, std::size_t i) { c.hook(i); } || requires(C& c) { c.hook(); }; \
    template <class C> void call_##hook(C& c, [[maybe_unused]] std::size_t index, [[maybe_unused]] const Logs& logs) { \
        if constexpr (requires { c.hook(index, logs); }) c.hook(index, logs);                         \
        else if constexpr (requires { c.hook(logs); }) c.hook(logs);                                  \
        else if constexpr (requires { c.hook(index); }) c.hook(index);                                \
        else if constexpr (requires { c.hook(); }) c.hook();                                          \
    }

CTNN_DETAIL_DISPATCH_HOOK(on_train_begin)
CTNN_DETAIL_DISPATCH_HOOK(on_train_end)
CTNN_DETAIL_DISPATCH_HOOK(on_epoch_begin)
CTNN_DETAIL_DISPATCH_HOOK(on_epoch_end)
CTNN_DETAIL_DISPATCH_HOOK(on_train_batch_begin)
CTNN_DETAIL_DISPATCH_HOOK(on_train_batch_end)
CTNN_DETAIL_DISPATCH_HOOK(on_batch_begin)
CTNN_DETAIL_DISPATCH_HOOK(on_batch_end)
CTNN_DETAIL_DISPATCH_HOOK(on_test_begin)
CTNN_DETAIL_DISPATCH_HOOK(on_test_end)
CTNN_DETAIL_DISPATCH_HOOK(on_test_batch_begin)
CTNN_DETAIL_DISPATCH_HOOK(on_test_batch_end)
CTNN_DETAIL_DISPATCH_HOOK(on_predict_begin)
CTNN_DETAIL_DISPATCH_HOOK(on_predict_end)
CTNN_DETAIL_DISPATCH_HOOK(on_predict_batch_begin)
CTNN_DETAIL_DISPATCH_HOOK(on_predict_batch_end)
#undef CTNN_DETAIL_DISPATCH_HOOK

}  // namespace detail

// Which hooks a fit can call. A type with none of them is almost certainly a mistake.
template <class C>
concept CallbackPolicy =
    detail::has_on_train_begin<C> || detail::has_on_train_end<C> || detail::has_on_epoch_begin<C> ||
    detail::has_on_epoch_end<C> || detail::has_on_train_batch_begin<C> || detail::has_on_train_batch_end<C> ||
    detail::has_on_batch_begin<C> || detail::has_on_batch_end<C> || detail::has_on_test_begin<C> ||
    detail::has_on_test_end<C> || detail::has_on_test_batch_begin<C> || detail::has_on_test_batch_end<C> ||
    detail::has_on_predict_begin<C> || detail::has_on_predict_end<C> || detail::has_on_predict_batch_begin<C> ||
    detail::has_on_predict_batch_end<C>;

// The callbacks of one fit/evaluate/predict call, held by reference; each event is a fold over them.
template <class... Cs>
class CallbackList {
public:
    explicit CallbackList(Cs&... cbs) : callbacks_(cbs...) {}

    void set_model(ModelInterface& m) {
        each([&](auto& c) {
            if constexpr (requires { c.set_model(m); }) c.set_model(m);
        });
    }
    void set_params(const FitParams& p) {
        each([&](auto& c) {
            if constexpr (requires { c.set_params(p); }) c.set_params(p);
        });
    }
    void train_begin(const Logs& l) { each([&](auto& c) { detail::call_on_train_begin(c, 0, l); }); }
    void train_end(const Logs& l) { each([&](auto& c) { detail::call_on_train_end(c, 0, l); }); }
    void epoch_begin(std::size_t e, const Logs& l) { each([&](auto& c) { detail::call_on_epoch_begin(c, e, l); }); }
    void epoch_end(std::size_t e, const Logs& l) { each([&](auto& c) { detail::call_on_epoch_end(c, e, l); }); }
    // Keras: on_train_batch_* forwards to the older on_batch_* names when not overridden.
    void train_batch_begin(std::size_t b, const Logs& l) {
        each([&](auto& c) {
            using C = std::remove_cvref_t<decltype(c)>;
            if constexpr (detail::has_on_train_batch_begin<C>) detail::call_on_train_batch_begin(c, b, l);
            else detail::call_on_batch_begin(c, b, l);
        });
    }
    void train_batch_end(std::size_t b, const Logs& l) {
        each([&](auto& c) {
            using C = std::remove_cvref_t<decltype(c)>;
            if constexpr (detail::has_on_train_batch_end<C>) detail::call_on_train_batch_end(c, b, l);
            else detail::call_on_batch_end(c, b, l);
        });
    }
    void test_begin(const Logs& l) { each([&](auto& c) { detail::call_on_test_begin(c, 0, l); }); }
    void test_end(const Logs& l) { each([&](auto& c) { detail::call_on_test_end(c, 0, l); }); }
    void test_batch_begin(std::size_t b, const Logs& l) { each([&](auto& c) { detail::call_on_test_batch_begin(c, b, l); }); }
    void test_batch_end(std::size_t b, const Logs& l) { each([&](auto& c) { detail::call_on_test_batch_end(c, b, l); }); }
    void predict_begin(const Logs& l) { each([&](auto& c) { detail::call_on_predict_begin(c, 0, l); }); }
    void predict_end(const Logs& l) { each([&](auto& c) { detail::call_on_predict_end(c, 0, l); }); }
    void predict_batch_begin(std::size_t b, const Logs& l) {
        each([&](auto& c) { detail::call_on_predict_batch_begin(c, b, l); });
    }
    void predict_batch_end(std::size_t b, const Logs& l) {
        each([&](auto& c) { detail::call_on_predict_batch_end(c, b, l); });
    }

    // Whether any callback wants per-batch events: if none does, fit skips building batch logs.
    static constexpr bool wants_train_batch_end =
        ((detail::has_on_train_batch_end<Cs> || detail::has_on_batch_end<Cs>) || ...);

private:
    template <class F> void each(F&& f) {
        std::apply([&](auto&... c) { (f(c), ...); }, callbacks_);
    }
    std::tuple<Cs&...> callbacks_;
};

}  // namespace ctnn
