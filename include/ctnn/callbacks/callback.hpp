// ctnn/callbacks/callback.hpp — callbacks as policies: the hooks a callback may have and how they are
// detected are in core/callback_policy.hpp (CallbackPolicy); here is how fit/evaluate/predict call
// them (detail::call_on_*, CallbackList), and the Keras-style virtual Callback base class.
#pragma once

#include <cstddef>
#include <tuple>
#include <type_traits>
#include <utility>

#include "ctnn/core/callback_policy.hpp"
#include "ctnn/core/logs.hpp"
#include "ctnn/core/model_interface.hpp"
#include "ctnn/core/training_state.hpp"

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
    // State a backup keeps (callbacks/backup_and_restore.hpp); nothing by default.
    virtual void save_state(StateWriter&) const {}
    virtual void load_state(const StateReader&) {}

protected:
    ModelInterface* model = nullptr;
    FitParams params;
};

namespace detail {

// call_HOOK(c, index, logs): calls c.HOOK with (index, logs), (logs), (index) or () — the first form the
// callback declares (has_HOOK in core/callback_policy.hpp detects the same four); nothing if none.
#define CTNN_DETAIL_DISPATCH_HOOK(hook)                                                               \
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

// The callbacks of one fit/evaluate/predict call, held by reference; each event is a fold over them.
template <class... Cs>
class CallbackList {
public:
    explicit CallbackList(Cs&... cbs) : callbacks_(cbs...) {}

    // Under data-parallel fit, ranks other than 0 skip the callbacks that run on the first rank only.
    void set_rank(int rank) noexcept { first_rank_ = rank == 0; }

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

    // Each stateful callback's state under "callbacks/<k>/", k its position from the `first`th
    // callback of the list on (fit's own History and progress bar come first).
    void save_state(StateWriter& w, std::size_t first) {
        std::size_t i = 0;
        each([&](auto& c) {
            using C = std::remove_cvref_t<decltype(c)>;
            if constexpr (detail::has_save_state<C>)
                if (i >= first) {
                    StateWriter scoped = w.scoped("callbacks/" + std::to_string(i - first));
                    c.save_state(scoped);
                }
            ++i;
        }, true);
    }
    void load_state(const StateReader& r, std::size_t first) {
        std::size_t i = 0;
        each([&](auto& c) {
            using C = std::remove_cvref_t<decltype(c)>;
            if constexpr (detail::has_load_state<C>)
                if (i >= first) c.load_state(r.scoped("callbacks/" + std::to_string(i - first)));
            ++i;
        }, true);
    }
    // The C++ types of the callbacks from the `first`th on, one per line: a backup made with other
    // callbacks is refused.
    static std::string type_names(std::size_t first) {
        std::string names;
        std::size_t i = 0;
        ((names += i++ >= first ? detail::type_name<Cs>() + "\n" : std::string()), ...);
        return names;
    }

    // Whether any callback wants per-batch events: if none does, fit skips building batch logs.
    static constexpr bool wants_train_batch_end =
        ((detail::has_on_train_batch_end<Cs> || detail::has_on_batch_end<Cs>) || ...);

private:
    // count_all: a callback that does not run on this rank reaches f as a hookless Skipped, so the
    // state walk numbers the callbacks the same way on every rank.
    template <class F> void each(F&& f, bool count_all = false) {
        std::apply([&](auto&... c) { (call_if_on_this_rank(f, c, count_all), ...); }, callbacks_);
    }
    template <class F, class C> void call_if_on_this_rank(F& f, C& c, bool count_all) {
        if constexpr (callback_ranks<C> == CallbackRanks::first) {
            if (!first_rank_) {
                if (count_all) {
                    Skipped none;
                    f(none);
                }
                return;
            }
        }
        f(c);
    }
    struct Skipped {};
    std::tuple<Cs&...> callbacks_;
    bool first_rank_ = true;
};

// A callback that runs on every rank under data-parallel fit, e.g. a TensorBoard writing one log
// directory per rank: fit(x, y, options, on_every_rank(callbacks::TensorBoard{{.log_dir = dir}})).
template <class C>
struct OnEveryRank : C {
    explicit OnEveryRank(C c) : C(std::move(c)) {}
    static constexpr CallbackRanks ranks = CallbackRanks::every;
};
// A callback that runs on rank 0 only (a user's callback otherwise runs on every rank).
template <class C>
struct OnFirstRank : C {
    explicit OnFirstRank(C c) : C(std::move(c)) {}
    static constexpr CallbackRanks ranks = CallbackRanks::first;
};
template <class C> OnEveryRank<std::remove_cvref_t<C>> on_every_rank(C&& callback) {
    return OnEveryRank<std::remove_cvref_t<C>>(std::forward<C>(callback));
}
template <class C> OnFirstRank<std::remove_cvref_t<C>> on_first_rank(C&& callback) {
    return OnFirstRank<std::remove_cvref_t<C>>(std::forward<C>(callback));
}

}  // namespace ctnn
