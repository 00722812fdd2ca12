// ctnn/model/model.hpp — Model: a network type compiled with an optimizer, a loss and metrics,
// trained and used with Keras's fit / evaluate / predict.
//
//   auto model = compile<MnistMlp>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
//   History history = model.fit(x, y, {.epochs = 10, .batch_size = 1000}, my_callback);
//
// B = batch, In = Net::input_size, Out = Net::output_size. Buffers for activations, gradients and
// optimizer state are allocated once per call for the largest batch; the batch loop allocates nothing.
//
// Data-parallel (FitOptions::data_parallel): every rank holds the whole network and data set, and
// computes its shards of each global batch; see train_step_data_parallel for why the bits do not
// depend on the number of ranks.
//
// The class in order: public fit / evaluate / predict and weights; the training state that save,
// load and BackupAndRestore read and write (FitRun … flush_saves, arrays named in
// core/training_state.hpp); one training step; data parallelism; evaluation; argument checks.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <iostream>
#include <map>
#include <optional>
#include <numeric>
#include <span>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "ctnn/activations.hpp"
#include "ctnn/callbacks/callback.hpp"
#include "ctnn/callbacks/history.hpp"
#include "ctnn/callbacks/progbar.hpp"
#include "ctnn/core/communicator.hpp"
#include "ctnn/core/concepts.hpp"
#include "ctnn/core/cpu.hpp"
#include "ctnn/core/logs.hpp"
#include "ctnn/core/model_interface.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/core/tensor.hpp"
#include "ctnn/core/training_state.hpp"
#include "ctnn/io/npz.hpp"
#include "ctnn/kernels/gather.hpp"
#include "ctnn/losses/losses.hpp"
#include "ctnn/model/data_parallel.hpp"
#include "ctnn/model/fit_options.hpp"

namespace ctnn {

namespace detail {
template <class Net>
constexpr bool ends_in_softmax() {
    using Last = typename Net::template layer_type<Net::layer_count - 1>;
    if constexpr (requires { typename Last::activation; }) return std::is_same_v<typename Last::activation, Softmax>;
    else return false;
}
template <class LossT>
using targets_container = std::conditional_t<LossT::sparse_targets, Labels, Matrix>;
}  // namespace detail

template <class Net, Optimizer Opt, class LossT, class... Metrics>
class Model final : public ModelInterface {
    // Keras reduces a loss and its metrics over the last axis and averages over every other one: an
    // output of shape (Steps, Classes) is scored as Steps samples of Classes each, and a sample's loss
    // is the mean over its steps (Keras on (batch, steps, classes)).
    static constexpr std::size_t output_classes = Net::output_shape::dims[Net::output_shape::rank - 1];
    static constexpr std::size_t output_positions = Net::output_size / output_classes;
    static_assert(Loss<LossT, output_classes>,
                  "compile<Net>(optimizer, loss, metrics...): loss must be a loss policy such as "
                  "losses::CategoricalCrossentropy (see core/concepts.hpp for what a custom loss needs)");
    static_assert(!LossT::sparse_targets || output_positions == 1,
                  "compile<Net>(optimizer, loss, metrics...): a sparse loss takes one integer label per sample, but "
                  "this network's output is a sequence (Shape<Steps, Classes>): use one-hot targets with "
                  "losses::CategoricalCrossentropy (y: one row of Steps x Classes per sample)");
    static_assert((Metric<Metrics> && ...),
                  "compile<Net>(optimizer, loss, metrics...): every metric must be a metric policy such as "
                  "metrics::Accuracy (see core/concepts.hpp)");

public:
    using network_type = Net;
    using optimizer_type = Opt;
    using loss_type = LossT;
    using target_type = typename LossT::target_type;              // float rows or int32 labels
    using targets_container = detail::targets_container<LossT>;  // Matrix or Labels
    static constexpr std::size_t input_size = Net::input_size;
    static constexpr std::size_t output_size = Net::output_size;
    static constexpr std::size_t param_count = Net::param_count;
    // Softmax output + cross-entropy: the gradient w.r.t. the logits is (p − t)/B directly.
    static constexpr bool fused_softmax_loss = [] {
        if constexpr (requires { LossT::fuses_with_softmax; }) return LossT::fuses_with_softmax && detail::ends_in_softmax<Net>();
        else return false;
    }();

    explicit Model(Opt optimizer = {}, LossT loss = {}, Metrics... metrics)
        : optimizer_(std::move(optimizer)), loss_(std::move(loss)), metrics_(std::move(metrics)...) {
        collect_parameters();
        initialize(0);
    }
    // parameters_ point into network_, so a moved model re-points them at its own layers.
    Model(Model&& other) noexcept(false)
        : ModelInterface(other), network_(std::move(other.network_)), optimizer_(std::move(other.optimizer_)),
          loss_(std::move(other.loss_)), metrics_(std::move(other.metrics_)), states_(std::move(other.states_)),
          rng_(other.rng_), pending_resume_(std::move(other.pending_resume_)) {
        collect_parameters();
    }
    Model(const Model&) = delete;
    Model& operator=(const Model&) = delete;
    Model& operator=(Model&&) = delete;

    // Fresh weights (Glorot-uniform kernels, zero biases) and optimizer state from `seed`; the
    // same seed and thread count give the same weights, shuffles, dropout masks and History.
    void initialize(std::uint64_t seed) {
        Rng rng(seed);
        network_.initialize(rng);
        rng_ = rng.split();
        reset_optimizer();
    }
    void reset_optimizer() {
        optimizer_.iterations = 0;
        states_.clear();
        for (Parameter* p : parameters_)
            if (p->trainable()) states_.push_back(optimizer_.make_state(*p));
    }

    Net& network() noexcept { return network_; }
    const Net& network() const noexcept { return network_; }
    Opt& optimizer() noexcept { return optimizer_; }
    const std::vector<Parameter*>& parameters() const noexcept { return parameters_; }

    void summary(std::ostream& os = std::cout) const {
        if constexpr (requires { Net::name; }) Net::summary(os, Net::name);
        else Net::summary(os);
        os << "Kernels: " << compiled_isa() << '\n';  // after Keras's table: the SIMD ISA compiled in
    }

    // Keras's model.metrics_names: what evaluate returns, in order.
    static const std::vector<std::string>& metrics_names() {
        static const std::vector<std::string> names = [] {
            std::vector<std::string> n{"loss"};
            (n.emplace_back(Metrics::name), ...);
            return n;
        }();
        return names;
    }

    // ---- fit ------------------------------------------------------------------------------------
    template <class Targets, class... Callbacks>
    History fit(const Matrix& x, const Targets& y, const FitOptions& options = {}, Callbacks&&... callbacks) {
        static_assert(std::is_same_v<Targets, targets_container>, "fit(x, y): y must be a ctnn::Matrix of one row "
                      "per sample for this loss, or ctnn::Labels (int32 class indices) for SparseCategoricalCrossentropy");
        static_assert((CallbackPolicy<std::remove_cvref_t<Callbacks>> && ...),
                      "fit(x, y, options, callbacks...): every callback needs at least one hook, e.g. "
                      "void on_epoch_end(std::size_t epoch, const ctnn::Logs& logs) (see core/callback_policy.hpp)");
        check_options(options);
        check_data("fit(x, y)", x, y);
        const DataParallel& data_parallel = options.data_parallel;
        detail::check_data_parallel("fit", data_parallel);

        // Validation: explicit data, else the last validation_split of the samples (before shuffling).
        const std::size_t total = x.shape(0);
        std::size_t train_count = total;
        ValidationSet validation;
        if (options.validation_data.present()) {
            validation = validation_set(options.validation_data);
        } else if (options.validation_split > 0.0) {
            train_count = static_cast<std::size_t>(std::ceil(double(total) * (1.0 - options.validation_split)));
            if (train_count == 0 || train_count == total)
                throw std::invalid_argument(std::string("fit(x, y): validation_split = ") + std::to_string(options.validation_split) +
                                            " leaves " + std::to_string(train_count) + " of " + std::to_string(total) +
                                            " samples for training; both parts must be non-empty");
            validation = {x.data() + train_count * input_size, target_row(y, train_count), total - train_count};
        }

        const std::size_t batch_size = std::min(options.batch_size, train_count);
        const std::size_t steps = (train_count + batch_size - 1) / batch_size;
        const std::size_t validation_batch = options.validation_batch_size ? options.validation_batch_size : batch_size;

        History history;
        callbacks::ProgbarLogger progbar(options.verbose);
        CallbackList<History, callbacks::ProgbarLogger, std::remove_reference_t<Callbacks>...> list(history, progbar, callbacks...);
        FitParams params{batch_size, options.epochs, options.initial_epoch, train_count, steps, options.verbose,
                         validation.count > 0, metrics_names()};
        if (validation.count > 0)
            for (const auto& n : metrics_names()) params.metrics.push_back("val_" + n);
        if (data_parallel.enabled()) {
            params.rank = data_parallel.communicator->rank();
            params.ranks = data_parallel.communicator->size();
            list.set_rank(params.rank);
        }
        stop_training = false;
        list.set_model(*this);
        list.set_params(params);

        // Everything the batch loop touches, allocated here once.
        reserve(std::max(batch_size, validation.count ? std::min(validation_batch, validation.count) : 0));
        // GCC 12 at -O2 warns that a disengaged optional's payload "may be used uninitialized" here
        // (GCC bug 80635, a false positive): silenced for this line only, so -Werror builds pass.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
        if (options.seed) rng_ = Rng(*options.seed);
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif
        detail::DataParallelStep sharded;
        if (data_parallel.enabled()) {
            // Every check above ran on every rank: only now the first collective call.
            detail::agree_across_ranks("fit", *data_parallel.communicator,
                               {{"training samples", double(train_count)},
                                {"validation samples", double(validation.count)},
                                {"batch_size", double(batch_size)},
                                {"epochs", double(options.epochs)},
                                {"data_parallel.shards", double(data_parallel.shards)},
                                {"data_parallel.reduction", double(static_cast<int>(data_parallel.reduction))}});
            detail::share_rank_zero_state(*data_parallel.communicator, parameters_, rng_);
            sharded = detail::DataParallelStep(data_parallel, parameters_, 1 + metric_count);
        }
        Rng shuffle_rng = rng_.split(), dropout_rng = rng_.split();
        std::vector<std::size_t> order(train_count);
        std::iota(order.begin(), order.end(), std::size_t{0});

        Logs batch_logs{{"batch", 0.0}, {"size", 0.0}};
        Logs epoch_logs;
        // Where the loop is, what a backup saves and a restore sets (see save_state / resume).
        FitRun run{.epoch = options.initial_epoch, .step = 0, .epochs = options.epochs, .train_count = train_count,
                   .validation_count = validation.count, .batch_size = batch_size, .steps = steps,
                   .shuffle = options.shuffle, .shuffle_start = shuffle_rng, .shuffle_rng = &shuffle_rng,
                   .dropout_rng = &dropout_rng, .order = &order, .epoch_logs = &epoch_logs, .history = &history,
                   .communicator = data_parallel.communicator};
        run.save_callbacks = [&](StateWriter& w) { list.save_state(w, 2); };
        run.load_callbacks = [&](const StateReader& r) { list.load_state(r, 2); };
        run.callback_types = decltype(list)::type_names(2);
        run_ = &run;
        struct EndRun {
            Model* model;
            ~EndRun() {
                model->run_ = nullptr;
                model->pending_saves_.clear();
            }
        } end_run{this};

        run.saves_allowed = run.in_train_begin = true;
        list.train_begin(Logs{});  // BackupAndRestore calls load() here
        run.saves_allowed = run.in_train_begin = false;
        const bool resumed_mid_epoch_stopped = resume_pending(run) && stop_training && run.step > 0;
        if (data_parallel.enabled())  // every rank restored the same backup, or none did
            detail::agree_across_ranks("fit (resuming)", *data_parallel.communicator,
                                       {{"epoch to resume at", double(run.epoch)}, {"batch to resume at", double(run.step)}});
        flush_saves(run, run.epoch, run.step);
        for (; run.epoch < options.epochs && (!stop_training || resumed_mid_epoch_stopped); ++run.epoch, run.step = 0) {
            const std::size_t epoch = run.epoch;
            if (run.step == 0) {  // a resumed epoch was begun and shuffled before the backup
                run.running = RunningMeans{};
                list.epoch_begin(epoch, Logs{});
                if (options.shuffle) {
                    shuffle_rng.shuffle(order.begin(), order.end());
                    ++run.shuffles;
                }
            }
            const bool skip_batches = resumed_mid_epoch_stopped && epoch == run.first_epoch;
            for (; run.step < steps && !skip_batches;) {
                const std::size_t step = run.step;
                const std::size_t first = step * batch_size;
                const std::size_t count = std::min(batch_size, train_count - first);
                batch_logs.set("batch", double(step));
                batch_logs.set("size", double(count));
                list.train_batch_begin(step, batch_logs);
                BatchResult result;
                if (data_parallel.enabled()) {
                    result = train_step_data_parallel(x, y, order.data() + first, count, dropout_rng, sharded);
                } else {
                    gather(x, y, order.data() + first, count);
                    result = train_step(count, dropout_rng);
                }
                run.running.add(result, count);
                run.running.write(batch_logs);
                batch_logs.set("raw_loss", result.loss_sum / double(count));
                for (std::size_t m = 0; m < sizeof...(Metrics); ++m)
                    batch_logs.set(raw_metric_names()[m], result.metric_sums[m] / double(count));
                run.step = step + 1;
                run.saves_allowed = true;
                list.train_batch_end(step, batch_logs);
                run.saves_allowed = false;
                if (data_parallel.enabled()) stop_training = detail::rank_zero_says_stop(*data_parallel.communicator, stop_training);
                flush_saves(run, epoch, step + 1);
                if (stop_training) break;
            }
            epoch_logs.clear();
            run.running.write(epoch_logs);
            if (validation.count > 0) {
                const Logs val = run_evaluation(validation, validation_batch, list, data_parallel.communicator);
                for (const auto& [name, value] : val) epoch_logs.set("val_" + name, value);
            }
            run.saves_allowed = true;
            list.epoch_end(epoch, epoch_logs);
            run.saves_allowed = false;
            if (data_parallel.enabled()) stop_training = detail::rank_zero_says_stop(*data_parallel.communicator, stop_training);
            flush_saves(run, epoch + 1, 0);
        }
        list.train_end(epoch_logs);
        return history;
    }

    // ---- evaluate / predict ---------------------------------------------------------------------
    // Returns {loss, metrics...} in the order of metrics_names(), as Keras's evaluate.
    template <class Targets, class... Callbacks>
    std::vector<double> evaluate(const Matrix& x, const Targets& y, const EvaluateOptions& options = {},
                                 Callbacks&&... callbacks) {
        const Logs logs = evaluate_logs(x, y, options, callbacks...);
        std::vector<double> score;
        for (const auto& name : metrics_names()) score.push_back(logs.at(name));
        return score;
    }
    template <class Targets, class... Callbacks>
    Logs evaluate_logs(const Matrix& x, const Targets& y, const EvaluateOptions& options = {}, Callbacks&&... callbacks) {
        static_assert(std::is_same_v<Targets, targets_container>,
                      "evaluate(x, y): y must be a ctnn::Matrix for this loss, or ctnn::Labels for SparseCategoricalCrossentropy");
        check_data("evaluate(x, y)", x, y);
        check_batch_size("evaluate", options.batch_size);
        detail::check_data_parallel("evaluate", options.data_parallel);
        Communicator* communicator = options.data_parallel.communicator;
        const bool first_rank = communicator == nullptr || communicator->rank() == 0;
        callbacks::ProgbarLogger progbar(first_rank ? options.verbose : 0);
        CallbackList<callbacks::ProgbarLogger, std::remove_reference_t<Callbacks>...> list(progbar, callbacks...);
        if (communicator != nullptr) list.set_rank(communicator->rank());
        list.set_model(*this);
        const std::size_t batch = std::min(options.batch_size, std::size_t(x.shape(0)));
        if (communicator != nullptr)
            detail::agree_across_ranks("evaluate", *communicator, {{"samples", double(x.shape(0))}, {"batch_size", double(batch)}});
        reserve(batch);
        progbar.start((x.shape(0) + batch - 1) / batch);
        const Logs logs = run_evaluation({x.data(), target_row(y, 0), x.shape(0)}, batch, list, communicator);
        progbar.update((x.shape(0) + batch - 1) / batch, logs, true);
        return logs;
    }

    // (n, In) -> (n, Out), inference mode (no dropout).
    template <class... Callbacks>
    Matrix predict(const Matrix& x, const PredictOptions& options = {}, Callbacks&&... callbacks) {
        check_inputs("predict(x)", x);
        check_batch_size("predict", options.batch_size);
        CallbackList<std::remove_reference_t<Callbacks>...> list(callbacks...);
        list.set_model(*this);
        const std::size_t n = x.shape(0);
        const std::size_t batch = std::min(options.batch_size, n);
        reserve(batch);
        Matrix out = Matrix::from_shape({n, output_size});
        network_.fold_batch_normalization();
        list.predict_begin(Logs{});
        for (std::size_t first = 0, step = 0; first < n; first += batch, ++step) {
            const std::size_t count = std::min(batch, n - first);
            list.predict_batch_begin(step, Logs{});
            network_.forward(x.data() + first * input_size, workspace_, folded_inference(count));
            std::copy_n(workspace_.output(), count * output_size, out.data() + first * output_size);
            list.predict_batch_end(step, Logs{});
        }
        list.predict_end(Logs{});
        return out;
    }

    // ---- ModelInterface --------------------------------------------------------------------------
    float learning_rate() const override { return optimizer_.learning_rate; }
    void set_learning_rate(float lr) override { optimizer_.learning_rate = lr; }
    std::int64_t iterations() const override { return optimizer_.iterations; }
    std::string layer_name(std::size_t index) const override { return Net::layer_name(index); }
    std::size_t layer_count() const override { return Net::layer_count; }

    std::vector<NamedArray> get_weights() const override {
        std::vector<NamedArray> arrays;
        for (std::size_t i = 0; i < parameters_.size(); ++i) {
            const Parameter& p = *parameters_[i];
            arrays.push_back({parameter_names_[i], shape_of(p), std::vector<float>(p.value.begin(), p.value.end())});
        }
        return arrays;
    }
    void set_weights(const std::vector<NamedArray>& arrays) override { set_weights_checked(arrays, "set_weights"); }
    void save_weights(const std::filesystem::path& path) const override { io::save_npz(path, get_weights()); }
    // Also takes the weights out of a training-state file (save / ModelCheckpoint's full state).
    void load_weights(const std::filesystem::path& path) override {
        const std::vector<std::uint8_t> bytes = io::read_whole_file(path);
        const std::string where = path.string();
        std::optional<StateFile> state;
        try {
            state = io::parse_state_npz(bytes, where);
        } catch (const file_error&) {  // not a state file either: parse_npz says what is wrong
        }
        if (!state || state->find("meta/format") == nullptr) {
            set_weights_checked(io::parse_npz(bytes, where), "load_weights(" + where + ")");
            return;
        }
        const ParsedState parsed = parse_state(std::move(*state));
        for (std::size_t i = 0; i < parameters_.size(); ++i)
            std::copy(parsed.weights[i].begin(), parsed.weights[i].end(), parameters_[i]->value.begin());
    }

    // Keras's model.save / load_model for a model whose architecture is its type: the training
    // state as one .npz (see ModelInterface and core/training_state.hpp for what it holds).
    void save(const std::filesystem::path& path) override {
        if (run_ == nullptr) {
            io::save_state_npz(path, state_arrays(nullptr, 0, 0));
            return;
        }
        if (!run_->saves_allowed)
            throw std::logic_error("save(" + path.string() + "): during fit a training state can be saved from "
                                   "on_train_begin, on_train_batch_end or on_epoch_end, between two batches");
        pending_saves_.push_back(path);
    }
    void load(const std::filesystem::path& path) override {
        if (run_ != nullptr && !run_->in_train_begin)
            throw std::logic_error("load(" + path.string() + "): during fit a training state can be loaded from "
                                   "on_train_begin only");
        ParsedState state = parse_state(io::load_state_npz(path));
        if (run_ != nullptr && state.active) check_fit(state, *run_);  // before anything changes
        for (std::size_t i = 0; i < parameters_.size(); ++i)
            std::copy(state.weights[i].begin(), state.weights[i].end(), parameters_[i]->value.begin());
        std::size_t s = 0;
        for (std::size_t i = 0; i < parameters_.size(); ++i) {
            if (!parameters_[i]->trainable()) continue;
            std::size_t b = 0;
            visit_optimizer_state(states_[s], [&](std::string_view, Buffer& buffer) {
                buffer.assign(state.optimizer[s][b].begin(), state.optimizer[s][b].end());
                ++b;
            });
            ++s;
        }
        optimizer_.iterations = state.iterations;
        optimizer_.learning_rate = state.learning_rate;
        rng_ = Rng(state.model_rng);
        if (state.active) pending_resume_ = std::move(state);
        else pending_resume_.reset();
    }

private:
    static constexpr std::size_t metric_count = sizeof...(Metrics);
    static const std::vector<std::string>& raw_metric_names() {  // "raw_accuracy", ...: this batch alone
        static const std::vector<std::string> names = [] {
            std::vector<std::string> n;
            (n.push_back(std::string("raw_") + std::string(Metrics::name)), ...);
            return n;
        }();
        return names;
    }
    struct BatchResult {
        double loss_sum = 0;
        std::array<double, metric_count> metric_sums{};
    };
    // Keras's epoch logs are means over the samples seen so far in the epoch.
    struct RunningMeans {
        void add(const BatchResult& r, std::size_t count) {
            loss_sum += r.loss_sum;
            for (std::size_t m = 0; m < metric_count; ++m) metric_sums[m] += r.metric_sums[m];
            seen += count;
        }
        void write(Logs& logs) const {
            const auto& names = metrics_names();
            logs.set("loss", seen ? loss_sum / double(seen) : 0.0);
            for (std::size_t m = 0; m < metric_count; ++m) logs.set(names[m + 1], seen ? metric_sums[m] / double(seen) : 0.0);
        }
        double loss_sum = 0;
        std::array<double, metric_count> metric_sums{};
        std::size_t seen = 0;
    };
    // Where fit is and what it holds beyond the model: what a backup saves besides the weights and
    // the optimizer, and what a restore sets.
    struct FitRun {
        std::size_t epoch = 0, step = 0;  // the next batch to run; step 0: epoch not begun (nor shuffled)
        std::size_t epochs = 0, train_count = 0, validation_count = 0, batch_size = 0, steps = 0;
        bool shuffle = true;
        // The shuffle stream as the fit began: `shuffles` shuffles of 0..n-1 from it rebuild the
        // current order, so a backup stores two counters instead of the whole permutation.
        Rng shuffle_start;
        Rng* shuffle_rng = nullptr;
        Rng* dropout_rng = nullptr;
        std::vector<std::size_t>* order = nullptr;
        Logs* epoch_logs = nullptr;
        History* history = nullptr;
        Communicator* communicator = nullptr;
        std::uint64_t shuffles = 0;
        RunningMeans running{};
        std::size_t first_epoch = 0;  // where a resumed fit began
        bool saves_allowed = false;
        bool in_train_begin = false;
        std::function<void(StateWriter&)> save_callbacks{};
        std::function<void(const StateReader&)> load_callbacks{};
        std::string callback_types{};
    };
    // A state file, checked against this model and decoded.
    struct ParsedState {
        StateFile file;
        std::vector<std::vector<float>> weights;                 // per parameter
        std::vector<std::vector<std::vector<float>>> optimizer;  // per trainable parameter, per buffer
        std::int64_t iterations = 0;
        float learning_rate = 0;
        std::uint64_t model_rng = 0;
        bool active = false;  // saved during fit: the rest is valid
        std::size_t epoch = 0, step = 0, epochs = 0, samples = 0, validation_samples = 0, batch_size = 0;
        bool shuffle = true, stop_training = false;
        std::uint64_t shuffle_start = 0, shuffle_rng = 0, dropout_rng = 0, shuffles = 0;
        RunningMeans running{};
        Logs epoch_logs;
        std::vector<std::size_t> history_epoch;
        std::map<std::string, std::vector<double>> history;
        std::string callback_types;
        std::vector<std::size_t> order;  // rebuilt by check_fit
    };

    template <class F>
    static void visit_optimizer_state(typename Opt::State& state, F&& f) {
        if constexpr (requires { Opt::visit_state(state, f); }) {
            Opt::visit_state(state, f);
        } else {
            throw std::logic_error(std::string("training state: optimizer '") + std::string(Opt::name) +
                                   "' does not name its state buffers (static visit_state(State&, F), as "
                                   "optimizers::Adam has)");
        }
    }

    std::vector<StateArray> state_arrays(const FitRun* run, std::size_t epoch, std::size_t step) {
        std::vector<StateArray> arrays;
        StateWriter w(arrays);
        w.put_text("meta/format", training_state_format);
        w.put_text("meta/network", detail::type_name<Net>());
        w.put_text("meta/optimizer", Opt::name);
        w.put_text("meta/loss", LossT::name);
        w.put_text("meta/metrics", joined_metric_names());
        for (std::size_t i = 0; i < parameters_.size(); ++i)
            w.put_floats(parameter_names_[i], shape_of(*parameters_[i]), parameters_[i]->value);
        std::size_t s = 0;
        for (std::size_t i = 0; i < parameters_.size(); ++i) {
            if (!parameters_[i]->trainable()) continue;
            visit_optimizer_state(states_[s++], [&](std::string_view name, const Buffer& buffer) {
                w.put_floats("optimizer/" + parameter_names_[i] + "/" + std::string(name), {buffer.size()}, buffer);
            });
        }
        w.put_int("optimizer/iterations", optimizer_.iterations);
        const float lr = optimizer_.learning_rate;
        w.put_floats("optimizer/learning_rate", {}, std::span<const float>(&lr, 1));
        w.put_uint64("rng/model", rng_.state());
        w.put_bool("fit/active", run != nullptr);
        if (run == nullptr) return arrays;
        w.put_int("fit/epoch", std::int64_t(epoch));
        w.put_int("fit/step", std::int64_t(step));
        w.put_int("fit/epochs", std::int64_t(run->epochs));
        w.put_int("fit/samples", std::int64_t(run->train_count));
        w.put_int("fit/validation_samples", std::int64_t(run->validation_count));
        w.put_int("fit/batch_size", std::int64_t(run->batch_size));
        w.put_bool("fit/shuffle", run->shuffle);
        w.put_bool("fit/stop_training", stop_training);
        w.put_uint64("rng/shuffle_start", run->shuffle_start.state());
        w.put_uint64("rng/shuffle", run->shuffle_rng->state());
        w.put_uint64("rng/dropout", run->dropout_rng->state());
        w.put_int("fit/shuffles", std::int64_t(run->shuffles));
        w.put_double("fit/running/loss_sum", run->running.loss_sum);
        w.put_doubles("fit/running/metric_sums", run->running.metric_sums);
        w.put_int("fit/running/seen", std::int64_t(run->running.seen));
        w.put_named_doubles("fit/epoch_logs", *run->epoch_logs);
        std::vector<std::int64_t> epochs(run->history->epoch.begin(), run->history->epoch.end());
        w.put_ints("history/epoch", epochs);
        for (const auto& [key, values] : run->history->history) w.put_doubles("history/" + key, values);
        w.put_text("meta/callbacks", run->callback_types);
        run->save_callbacks(w);
        return arrays;
    }

    static std::string joined_metric_names() {
        std::string names;
        for (const auto& n : metrics_names()) names += n + "\n";
        return names;
    }

    // Decodes a state file, refusing (ctnn::file_error naming the file and what differs) one that
    // is damaged or was saved from another network, optimizer, loss or metrics.
    ParsedState parse_state(StateFile file) const {
        ParsedState st;
        st.file = std::move(file);
        const StateReader r(st.file);
        const auto refuse = [&](const std::string& what) { throw file_error(st.file.source, what); };
        if (!r.contains("meta/format"))
            refuse("is not a training state (no array 'meta/format'); a weights file loads with load_weights");
        if (const std::string format = r.get_text("meta/format"); format != training_state_format)
            refuse("is a training state of format '" + format + "'; this build reads '" + std::string(training_state_format) + "'");
        const auto same = [&](const char* key, const std::string& expected, const char* what) {
            const std::string found = r.get_text(key);
            if (found != expected)
                refuse(std::string("was saved from another ") + what + ": '" + found + "'; this model's is '" + expected + "'");
        };
        same("meta/network", detail::type_name<Net>(), "network");
        same("meta/optimizer", std::string(Opt::name), "optimizer");
        same("meta/loss", std::string(LossT::name), "loss");
        same("meta/metrics", joined_metric_names(), "list of metrics");
        for (std::size_t i = 0; i < parameters_.size(); ++i)
            st.weights.push_back(r.get_floats(parameter_names_[i], shape_of(*parameters_[i])));
        std::size_t s = 0;
        for (std::size_t i = 0; i < parameters_.size(); ++i) {
            if (!parameters_[i]->trainable()) continue;
            st.optimizer.emplace_back();
            visit_optimizer_state(const_cast<typename Opt::State&>(states_[s++]), [&](std::string_view name, const Buffer& buffer) {
                st.optimizer.back().push_back(
                    r.get_floats("optimizer/" + parameter_names_[i] + "/" + std::string(name), {buffer.size()}));
            });
        }
        st.iterations = r.get_int("optimizer/iterations");
        st.learning_rate = r.get_floats("optimizer/learning_rate", {})[0];
        st.model_rng = r.get_uint64("rng/model");
        st.active = r.get_bool("fit/active");
        if (!st.active) return st;
        st.epoch = r.get_size("fit/epoch");
        st.step = r.get_size("fit/step");
        st.epochs = r.get_size("fit/epochs");
        st.samples = r.get_size("fit/samples");
        st.validation_samples = r.get_size("fit/validation_samples");
        st.batch_size = r.get_size("fit/batch_size");
        st.shuffle = r.get_bool("fit/shuffle");
        st.stop_training = r.get_bool("fit/stop_training");
        st.shuffle_start = r.get_uint64("rng/shuffle_start");
        st.shuffle_rng = r.get_uint64("rng/shuffle");
        st.dropout_rng = r.get_uint64("rng/dropout");
        st.shuffles = r.get_size("fit/shuffles");
        st.running.loss_sum = r.get_double("fit/running/loss_sum");
        const std::vector<double> sums = r.get_doubles("fit/running/metric_sums");
        if (sums.size() != metric_count) r.fail("fit/running/metric_sums", "has " + std::to_string(sums.size()) + " values, expected one per metric");
        for (std::size_t m = 0; m < metric_count; ++m) st.running.metric_sums[m] = sums[m];
        st.running.seen = r.get_size("fit/running/seen");
        st.epoch_logs = r.get_named_doubles<Logs>("fit/epoch_logs");
        for (std::int64_t e : r.get_ints("history/epoch")) {
            if (e < 0) r.fail("history/epoch", "holds a negative epoch");
            st.history_epoch.push_back(std::size_t(e));
        }
        for (const StateArray& a : st.file.arrays) {
            if (!a.name.starts_with("history/") || a.name == "history/epoch") continue;
            std::vector<double> values = r.get_doubles(a.name);
            if (values.size() != st.history_epoch.size())
                r.fail(a.name, "has " + std::to_string(values.size()) + " values for " + std::to_string(st.history_epoch.size()) + " epochs");
            st.history[a.name.substr(8)] = std::move(values);
        }
        st.callback_types = r.get_text("meta/callbacks");
        return st;
    }

    // Refuses a state saved by a fit on other data or with other callbacks; rebuilds the order.
    static void check_fit(ParsedState& st, const FitRun& run) {
        const auto refuse = [&](const std::string& what) { throw file_error(st.file.source, what); };
        const auto same = [&](const char* what, std::size_t saved, std::size_t now) {
            if (saved != now)
                refuse(std::string("was saved by a fit with ") + std::to_string(saved) + " " + what + "; this fit has " +
                       std::to_string(now));
        };
        same("training samples", st.samples, run.train_count);
        same("validation samples", st.validation_samples, run.validation_count);
        same("as batch_size", st.batch_size, run.batch_size);
        if (st.shuffle != run.shuffle)
            refuse(std::string("was saved by a fit with shuffle = ") + (st.shuffle ? "true" : "false") + "; this fit has " +
                   (run.shuffle ? "true" : "false"));
        // Bounds the replay below (fit/shuffles shuffles of the whole order): a state's epoch comes
        // from the file, and a fit started again with its command line never has fewer epochs.
        if (st.epoch > run.epochs)
            refuse("holds epoch " + std::to_string(st.epoch) + ", past this fit's " + std::to_string(run.epochs) +
                   " epochs; resume with at least as many epochs as the run that saved it");
        if (st.callback_types != run.callback_types)
            refuse("was saved by a fit with other callbacks:\n" + st.callback_types + "this fit has:\n" + run.callback_types);
        if (st.step > run.steps || (st.step > 0 && st.epoch >= st.epochs))
            refuse("holds batch " + std::to_string(st.step) + " of epoch " + std::to_string(st.epoch) + ", past the " +
                   std::to_string(run.steps) + " batches of an epoch");
        if (st.shuffles > st.epoch + 1 || (st.shuffles > 0 && !st.shuffle))
            refuse("holds " + std::to_string(st.shuffles) + " shuffles at epoch " + std::to_string(st.epoch) + "; damaged");
        st.order.resize(run.train_count);
        std::iota(st.order.begin(), st.order.end(), std::size_t{0});
        Rng replay(st.shuffle_start);
        for (std::uint64_t k = 0; k < st.shuffles; ++k) replay.shuffle(st.order.begin(), st.order.end());
        if (replay.state() != st.shuffle_rng)
            refuse("rng/shuffle does not follow from rng/shuffle_start after fit/shuffles shuffles; damaged");
    }

    // After every on_train_begin hook: continue from a state load() took (there or before fit).
    bool resume_pending(FitRun& run) {
        if (!pending_resume_) return false;
        ParsedState st = std::move(*pending_resume_);
        pending_resume_.reset();
        check_fit(st, run);
        *run.order = std::move(st.order);
        run.shuffle_start = Rng(st.shuffle_start);
        *run.shuffle_rng = Rng(st.shuffle_rng);
        *run.dropout_rng = Rng(st.dropout_rng);
        run.shuffles = st.shuffles;
        run.epoch = run.first_epoch = st.epoch;
        run.step = st.step;
        run.running = st.running;
        *run.epoch_logs = std::move(st.epoch_logs);
        run.history->epoch = std::move(st.history_epoch);
        run.history->history = std::move(st.history);
        stop_training = st.stop_training;
        run.load_callbacks(StateReader(st.file));
        return true;
    }

    void flush_saves(FitRun& run, std::size_t epoch, std::size_t step) {
        if (pending_saves_.empty()) return;
        const std::vector<StateArray> arrays = state_arrays(&run, epoch, step);
        const std::vector<std::filesystem::path> paths = std::move(pending_saves_);
        pending_saves_.clear();
        for (const auto& path : paths) io::save_state_npz(path, arrays);
    }

    struct ValidationSet {
        const float* x = nullptr;       // (count, In)
        const target_type* t = nullptr;  // (count, Out) or (count,)
        std::size_t count = 0;
    };
    static constexpr std::size_t target_width = LossT::sparse_targets ? 1 : output_size;

    void collect_parameters() {
        parameters_.clear();
        parameter_names_.clear();
        network_.visit_parameters([&](std::size_t, const std::string& layer, Parameter& p) {
            parameters_.push_back(&p);
            parameter_names_.push_back(layer + '/' + std::string(p.name));
        });
    }
    static std::vector<std::size_t> shape_of(const Parameter& p) {
        return p.dims();
    }
    static std::string shape_text(const std::vector<std::size_t>& shape) {
        std::string s = "(";
        for (std::size_t i = 0; i < shape.size(); ++i) {
            s += i ? ", " : "";
            s += std::to_string(shape[i]);
        }
        return s + (shape.size() == 1 ? ",)" : ")");
    }
    // Validates everything before copying anything, so a bad file never leaves half-loaded weights.
    void set_weights_checked(const std::vector<NamedArray>& arrays, const std::string& where) {
        std::vector<const NamedArray*> matched(parameters_.size(), nullptr);
        for (const NamedArray& a : arrays) {
            const auto it = std::find(parameter_names_.begin(), parameter_names_.end(), a.name);
            if (it == parameter_names_.end()) {
                std::string expected;
                for (const auto& n : parameter_names_) {
                    expected += expected.empty() ? "" : ", ";
                    expected += n;
                }
                throw std::invalid_argument(where + ": array '" + a.name + "' is not a weight of this network (expected: " +
                                            expected + ")");
            }
            const auto i = static_cast<std::size_t>(it - parameter_names_.begin());
            if (matched[i] != nullptr) throw std::invalid_argument(where + ": array '" + a.name + "' appears twice");
            const auto expected_shape = shape_of(*parameters_[i]);
            if (a.shape != expected_shape || a.values.size() != parameters_[i]->size())
                throw std::invalid_argument(where + ": array '" + a.name + "' has shape " + shape_text(a.shape) +
                                            ", expected " + shape_text(expected_shape));
            matched[i] = &a;
        }
        for (std::size_t i = 0; i < matched.size(); ++i)
            if (matched[i] == nullptr)
                throw std::invalid_argument(where + ": array '" + parameter_names_[i] + "' is missing");
        for (std::size_t i = 0; i < matched.size(); ++i)
            std::copy(matched[i]->values.begin(), matched[i]->values.end(), parameters_[i]->value.begin());
    }

    // Inference passes run with BatchNormalization folded into the layer before it, folded from the
    // current weights at the start of each predict / evaluation.
    static ForwardContext folded_inference(std::size_t count) {
        return {.batch = count, .phase = Phase::inference, .rng = nullptr, .folded = true};
    }

    // One optimisation step on the gathered batch (x_batch_, t_batch_).
    BatchResult train_step(std::size_t count, Rng& dropout_rng) {
        const BatchResult result = compute_gradients(count, dropout_rng, 1.0f);
        apply_gradients();
        return result;
    }
    // Forward and backward on the gathered batch: every Parameter::gradient is `scale` times
    // d(mean loss over these `count` samples)/d(value).
    BatchResult compute_gradients(std::size_t count, Rng& dropout_rng, float scale) {
        network_.forward(x_batch_.data(), workspace_, {count, Phase::training, &dropout_rng, scale});
        const float* p = workspace_.output();
        BatchResult result = score(p, t_batch_.data(), count);
        float* dp = workspace_.gradient_in.data();
        if constexpr (fused_softmax_loss) {
            loss_.template softmax_gradient<output_classes>(count * output_positions, p, t_batch_.data(), dp);
        } else {
            loss_.template gradient<output_classes>(count * output_positions, p, t_batch_.data(), dp);
        }
        // Backward is linear in the loss gradient: scaling it here scales every parameter's.
        if (scale != 1.0f)
            for (std::size_t i = 0; i < count * output_size; ++i) dp[i] *= scale;
        network_.backward(x_batch_.data(), workspace_, count, fused_softmax_loss);
        return result;
    }
    // The optimizer steps the trainable arrays; moving statistics fold in this step's batch statistic.
    void apply_gradients() {
        optimizer_.begin_step();
        std::size_t state = 0;
        for (Parameter* p : parameters_) {
            if (p->trainable()) optimizer_.update(*p, states_[state++]);
            else p->update_moving_statistic();
        }
    }

    // ---- data parallelism (the pieces that do not need the Model: model/data_parallel.hpp) -----------
    // One step of data-parallel training. The global batch is cut into `shards` parts at fixed
    // rows, whatever the number of ranks; each part's gradient depends only on its samples (the
    // kernels' sums do not depend on the thread count, and each shard's dropout stream comes from
    // the step and the shard index), and the parts are summed in one fixed binary tree
    // (distributed::sum_shards_in_tree_order). So 1, 2 or 4 ranks compute the same bits.
    // Loss and metric sums travel as one slot per shard, zero on the ranks that do not own it: a
    // sum of one value and zeros is exact in any order, and the shards are then added in order.
    BatchResult train_step_data_parallel(const Matrix& x, const targets_container& y, const std::size_t* indices,
                                         std::size_t count, Rng& dropout_rng, detail::DataParallelStep& step) {
        const std::uint64_t step_seed = dropout_rng.next_u64();
        std::fill(step.sums.begin(), step.sums.end(), 0.0);
        for (std::size_t s = step.mine.first; s < step.mine.last; ++s) {
            std::vector<Buffer>& gradient = step.gradients[s - step.mine.first];
            const std::size_t begin = s * count / step.shards, end = (s + 1) * count / step.shards;
            if (begin == end) {  // a global batch smaller than the shard count
                for (Buffer& g : gradient) std::fill(g.begin(), g.end(), 0.0f);
                continue;
            }
            gather(x, y, indices + begin, end - begin);
            Rng shard_rng(detail::shard_seed(step_seed, s));
            const BatchResult r = compute_gradients(end - begin, shard_rng, float(end - begin) / float(count));
            store_sums(r, step.sums.data() + s * (1 + metric_count));
            // The shard keeps the gradients; the parameters get its old buffers for the next backward.
            for (std::size_t i = 0; i < parameters_.size(); ++i) std::swap(parameters_[i]->gradient, gradient[i]);
        }
        Communicator& communicator = *step.communicator;
        for (std::size_t i = 0; i < parameters_.size(); ++i) {
            Buffer& total = parameters_[i]->gradient;
            if (step.deterministic) {
                distributed::sum_shards_in_tree_order(communicator, step.shards, step.shards_of(i), total.size(),
                                                      std::span<float>(total.data(), total.size()));
            } else {  // one shard per rank
                std::swap(total, step.gradients.front()[i]);
                communicator.allreduce_sum(std::span<float>(total.data(), total.size()));
            }
        }
        apply_gradients();

        communicator.allreduce_sum(std::span<double>(step.sums));
        BatchResult result;
        for (std::size_t s = 0; s < step.shards; ++s) {
            const BatchResult shard = load_sums(step.sums.data() + s * (1 + metric_count));
            result.loss_sum += shard.loss_sum;
            for (std::size_t m = 0; m < metric_count; ++m) result.metric_sums[m] += shard.metric_sums[m];
        }
        return result;
    }
    // A BatchResult as the 1 + metric_count doubles of one slot of the sums that ranks reduce.
    static void store_sums(const BatchResult& r, double* slot) {
        slot[0] = r.loss_sum;
        std::copy(r.metric_sums.begin(), r.metric_sums.end(), slot + 1);
    }
    static BatchResult load_sums(const double* slot) {
        BatchResult r;
        r.loss_sum = slot[0];
        std::copy_n(slot + 1, metric_count, r.metric_sums.begin());
        return r;
    }
    BatchResult score(const float* p, const target_type* t, std::size_t count) const {
        BatchResult r;
        // Over count · positions rows, each sample's share divided by its positions (exact for 1).
        constexpr double per_sample = 1.0 / double(output_positions);
        const std::size_t rows = count * output_positions;
        r.loss_sum = loss_.template sum<output_classes>(rows, p, t) * per_sample;
        std::size_t m = 0;
        std::apply(
            [&](const auto&... metric) {
                ((r.metric_sums[m++] = metric.template correct<output_classes, LossT>(rows, p, t) * per_sample), ...);
            },
            metrics_);
        return r;
    }

    // With a communicator, each rank scores a contiguous part of the batches, and the per-batch sums
    // are combined in batch order (one nonzero contributor per slot: exact), so every rank reports
    // what one process evaluating everything would. Test-batch hooks then see this rank's batches.
    template <class List>
    Logs run_evaluation(const ValidationSet& data, std::size_t batch_size, List& list, Communicator* communicator = nullptr) {
        batch_size = std::min(batch_size, data.count);
        network_.fold_batch_normalization();
        if (communicator != nullptr) return run_evaluation_data_parallel(data, batch_size, list, *communicator);
        list.test_begin(Logs{});
        RunningMeans running;
        Logs logs;
        for (std::size_t first = 0, step = 0; first < data.count; first += batch_size, ++step) {
            const std::size_t count = std::min(batch_size, data.count - first);
            list.test_batch_begin(step, logs);
            network_.forward(data.x + first * input_size, workspace_, folded_inference(count));
            running.add(score(workspace_.output(), data.t + first * target_width, count), count);
            running.write(logs);
            list.test_batch_end(step, logs);
        }
        list.test_end(logs);
        return logs;
    }

    template <class List>
    Logs run_evaluation_data_parallel(const ValidationSet& data, std::size_t batch_size, List& list, Communicator& communicator) {
        const std::size_t batches = (data.count + batch_size - 1) / batch_size;
        const auto mine = distributed::shards_of_rank(communicator.rank(), communicator.size(), batches);
        std::vector<double> sums(batches * (1 + metric_count), 0.0);
        list.test_begin(Logs{});
        RunningMeans local;
        Logs logs;
        for (std::size_t b = mine.first; b < mine.last; ++b) {
            const std::size_t first = b * batch_size, count = std::min(batch_size, data.count - first);
            list.test_batch_begin(b, logs);
            network_.forward(data.x + first * input_size, workspace_, folded_inference(count));
            const BatchResult r = score(workspace_.output(), data.t + first * target_width, count);
            store_sums(r, sums.data() + b * (1 + metric_count));
            local.add(r, count);
            local.write(logs);
            list.test_batch_end(b, logs);
        }
        communicator.allreduce_sum(std::span<double>(sums));
        RunningMeans running;
        for (std::size_t b = 0; b < batches; ++b)
            running.add(load_sums(sums.data() + b * (1 + metric_count)), std::min(batch_size, data.count - b * batch_size));
        running.write(logs);
        list.test_end(logs);
        return logs;
    }

    void reserve(std::size_t max_batch) {
        workspace_.reserve(max_batch);
        network_.reserve(max_batch);
        if (x_batch_.size() < max_batch * input_size) x_batch_.resize(max_batch * input_size);
        if (t_batch_.size() < max_batch * target_width) t_batch_.resize(max_batch * target_width);
    }

    // Copies the rows `indices` of x and y into the contiguous batch buffers.
    void gather(const Matrix& x, const targets_container& y, const std::size_t* indices, std::size_t count) {
        kernels::gather_rows(count, input_size, x.data(), indices, x_batch_.data());
        kernels::gather_rows(count, target_width, y.data(), indices, t_batch_.data());
    }

    static const target_type* target_row(const targets_container& y, std::size_t row) {
        return y.data() + row * target_width;
    }

    ValidationSet validation_set(const ValidationData& v) const {
        if constexpr (LossT::sparse_targets) {
            if (v.labels == nullptr)
                throw std::invalid_argument("fit: validation_data must hold integer labels (ctnn::Labels) for " +
                                            std::string(LossT::name));
            check_data("fit: validation_data", *v.x, *v.labels);
            return {v.x->data(), v.labels->data(), v.x->shape(0)};
        } else {
            if (v.y == nullptr)
                throw std::invalid_argument("fit: validation_data must hold one target row per sample (ctnn::Matrix) for " +
                                            std::string(LossT::name));
            check_data("fit: validation_data", *v.x, *v.y);
            return {v.x->data(), v.y->data(), v.x->shape(0)};
        }
    }

    // ---- argument checks: every message says what was expected and what was found ----------------
    static void check_inputs(const std::string& where, const Matrix& x) {
        if (x.shape(0) == 0) throw std::invalid_argument(where + ": x is empty (0 samples); expected at least one row");
        if (x.shape(1) != input_size)
            throw std::invalid_argument(where + ": x has " + std::to_string(x.shape(1)) + " columns, expected " +
                                        std::to_string(input_size) + " (one sample of the network's input shape " +
                                        batch_shape_text<typename Net::input_shape>() + ", one row per sample)");
    }
    static void check_data(const std::string& where, const Matrix& x, const targets_container& y) {
        check_inputs(where, x);
        if (y.shape(0) != x.shape(0))
            throw std::invalid_argument(where + ": x has " + std::to_string(x.shape(0)) + " rows but y has " +
                                        std::to_string(y.shape(0)) + "; expected one target per sample");
        if constexpr (LossT::sparse_targets) {
            for (std::size_t i = 0; i < y.shape(0); ++i)
                if (y(i) < 0 || static_cast<std::size_t>(y(i)) >= output_size)
                    throw std::invalid_argument(where + ": label " + std::to_string(y(i)) + " at row " + std::to_string(i) +
                                                " is out of range; expected 0.." + std::to_string(output_size - 1));
        } else {
            if (y.shape(1) != output_size)
                throw std::invalid_argument(where + ": y has " + std::to_string(y.shape(1)) + " columns, expected " +
                                            std::to_string(output_size) + " (the output size of the network's last layer)");
        }
    }
    static void check_batch_size(const std::string& where, std::size_t batch_size) {
        if (batch_size == 0) throw std::invalid_argument(where + ": batch_size is 0; expected at least 1");
    }
    static void check_options(const FitOptions& o) {
        check_batch_size("fit", o.batch_size);
        if (!(o.validation_split >= 0.0 && o.validation_split < 1.0))
            throw std::invalid_argument(std::string("fit: validation_split is ") + std::to_string(o.validation_split) +
                                        "; expected a fraction in [0, 1)");
        if (o.verbose < 0 || o.verbose > 2)
            throw std::invalid_argument(std::string("fit: verbose is ") + std::to_string(o.verbose) + "; expected 0, 1 or 2");
    }

    Net network_;
    Opt optimizer_;
    LossT loss_;
    std::tuple<Metrics...> metrics_;
    std::vector<Parameter*> parameters_;           // into network_, in layer order
    std::vector<std::string> parameter_names_;     // "dense/kernel", ... (Keras names, weight files)
    std::vector<typename Opt::State> states_;       // one per trainable parameter, in order
    typename Net::Workspace workspace_;
    Buffer x_batch_;                                // (B, In)
    std::vector<target_type> t_batch_;              // (B, Out) or (B,)
    Rng rng_{0};
    FitRun* run_ = nullptr;                          // the fit in progress, for save/load from its callbacks
    std::vector<std::filesystem::path> pending_saves_;  // save() calls of the current hook, written after it
    std::optional<ParsedState> pending_resume_;     // load()ed, for the fit in progress or the next one
};

// Keras's model.compile: the network type, then an optimizer, a loss and any metrics, by value.
template <class Net, Optimizer Opt, class LossT, class... Metrics>
Model<Net, Opt, LossT, Metrics...> compile(Opt optimizer, LossT loss, Metrics... metrics) {
    return Model<Net, Opt, LossT, Metrics...>(std::move(optimizer), std::move(loss), std::move(metrics)...);
}

}  // namespace ctnn
