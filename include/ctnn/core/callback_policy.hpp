// ctnn/core/callback_policy.hpp — the callback contract: any object with any subset of Keras's hooks.
//
// fit/evaluate/predict call, when the object has them (detected at compile time, so an absent
// hook costs nothing):
//   on_train_begin(logs)           on_train_end(logs)
//   on_epoch_begin(epoch, logs)    on_epoch_end(epoch, logs)        epoch is 0-based
//   on_train_batch_begin(batch, logs) / on_batch_begin(batch, logs)  (aliases, as in Keras)
//   on_train_batch_end(batch, logs)   / on_batch_end(batch, logs)
//   on_test_begin/end(logs), on_test_batch_begin/end(batch, logs)     (evaluate and in-fit validation)
//   on_predict_begin/end(logs), on_predict_batch_begin/end(batch, logs)
//   set_model(ModelInterface&), set_params(const FitParams&)          (optional; not hooks by themselves)
// `logs` (const Logs&) may be left out of any hook's parameters, and so may the index: a hook is
// called as hook(index, logs), hook(logs), hook(index) or hook(), the first form it declares.
// Batch logs: loss, accuracy (running means over the epoch, as Keras), size (samples in the batch),
// raw_loss, raw_accuracy (this batch alone). Epoch logs: loss, accuracy, val_loss, val_accuracy.
// A callback stops training by setting `model.stop_training = true` on the ModelInterface it got.
//
// Under data-parallel fit (FitOptions::data_parallel) a callback runs on every rank, and sees the same
// global logs there, unless it declares `static constexpr CallbackRanks ranks = CallbackRanks::first;`
// (the built-in writers do: progress bar, TensorBoard, ModelCheckpoint, CSVLogger). on_every_rank(cb)
// and on_first_rank(cb) in callbacks/callback.hpp override that for one callback.
//
// This header only detects hooks; callbacks/callback.hpp calls them (detail::call_on_*, CallbackList)
// and holds the Keras-style virtual Callback base class.
#pragma once

#include <cstddef>
#include <type_traits>

#include "ctnn/core/logs.hpp"

namespace ctnn {

namespace detail {

// has_HOOK<C>: whether C declares HOOK in one of the four parameter forms above.
#define CTNN_DETAIL_DETECT_HOOK(hook)                                                                 \
    template <class C>                                                                                \
    constexpr bool has_##hook = requires(C& c, std::size_t i, const Logs& l) { c.hook(i, l); } ||     \
                                requires(C& c, const Logs& l) { c.hook(l); } ||                       \
                                requires(C& c, std::size_t i) { c.hook(i); } || requires(C& c) { c.hook(); };

CTNN_DETAIL_DETECT_HOOK(on_train_begin)
CTNN_DETAIL_DETECT_HOOK(on_train_end)
CTNN_DETAIL_DETECT_HOOK(on_epoch_begin)
CTNN_DETAIL_DETECT_HOOK(on_epoch_end)
CTNN_DETAIL_DETECT_HOOK(on_train_batch_begin)
CTNN_DETAIL_DETECT_HOOK(on_train_batch_end)
CTNN_DETAIL_DETECT_HOOK(on_batch_begin)
CTNN_DETAIL_DETECT_HOOK(on_batch_end)
CTNN_DETAIL_DETECT_HOOK(on_test_begin)
CTNN_DETAIL_DETECT_HOOK(on_test_end)
CTNN_DETAIL_DETECT_HOOK(on_test_batch_begin)
CTNN_DETAIL_DETECT_HOOK(on_test_batch_end)
CTNN_DETAIL_DETECT_HOOK(on_predict_begin)
CTNN_DETAIL_DETECT_HOOK(on_predict_end)
CTNN_DETAIL_DETECT_HOOK(on_predict_batch_begin)
CTNN_DETAIL_DETECT_HOOK(on_predict_batch_end)
#undef CTNN_DETAIL_DETECT_HOOK

}  // namespace detail

enum class CallbackRanks { every, first };

// Where a callback runs under data-parallel fit: its `ranks`, or every rank when it does not say.
template <class C>
constexpr CallbackRanks callback_ranks = [] {
    if constexpr (requires { requires std::is_same_v<std::remove_cv_t<decltype(C::ranks)>, CallbackRanks>; }) return C::ranks;
    else return CallbackRanks::every;
}();

// Which hooks a fit can call. A type with none of them is almost certainly a mistake.
template <class C>
concept CallbackPolicy =
    detail::has_on_train_begin<C> || detail::has_on_train_end<C> || detail::has_on_epoch_begin<C> ||
    detail::has_on_epoch_end<C> || detail::has_on_train_batch_begin<C> || detail::has_on_train_batch_end<C> ||
    detail::has_on_batch_begin<C> || detail::has_on_batch_end<C> || detail::has_on_test_begin<C> ||
    detail::has_on_test_end<C> || detail::has_on_test_batch_begin<C> || detail::has_on_test_batch_end<C> ||
    detail::has_on_predict_begin<C> || detail::has_on_predict_end<C> || detail::has_on_predict_batch_begin<C> ||
    detail::has_on_predict_batch_end<C>;

}  // namespace ctnn
