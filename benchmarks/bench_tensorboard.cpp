// benchmarks/bench_tensorboard.cpp — what TensorBoard logging costs the reference workload
// (issue: logging every batch must not slow training by more than 2%).
//
// fit/*:         one fit of 20 steps (20,000 synthetic samples, batch 1000) of 784-1000-500-10 with
//                Adam: no callback, callbacks::TensorBoard with update_freq epoch and batch, and the
//                user-written per-batch callback of examples/tensorboard_batches.cpp (flush per batch).
// batch_hooks/*: the batch hooks alone, as fit calls them (ns and heap allocations per batch).
// At the end a table gives the median ms/step of each fit variant and its ratio to no callback.
//
// Run: ./build/benchmarks/bench_tensorboard      (defaults: 5 repetitions, randomly interleaved,
//      medians reported; flags given on the command line win)
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <new>
#include <string>
#include <vector>

#include <unistd.h>

#include <benchmark/benchmark.h>

#include "ctnn/callbacks/tensorboard.hpp"
#include "ctnn/ctnn.hpp"

// Heap allocations, counted only while `counting` is set (for allocs_per_batch).
namespace {
std::atomic<bool> counting{false};
std::atomic<std::size_t> allocations{0};
}  // namespace
void* operator new(std::size_t size) {
    if (counting.load(std::memory_order_relaxed)) allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(size ? size : 1)) return p;
    throw std::bad_alloc();
}
// Out of line, so GCC does not inline free() into std::allocator and warn of a new/free mismatch.
[[gnu::noinline]] void operator delete(void* p) noexcept { std::free(p); }
[[gnu::noinline]] void operator delete(void* p, std::size_t) noexcept { std::free(p); }

namespace {

using namespace ctnn;
namespace fs = std::filesystem;

struct MnistMlp : Sequential<Dense<784, 1000, Relu>,   // (B, 784)  -> (B, 1000)
                             Dense<1000, 500, Relu>,   // (B, 1000) -> (B, 500)
                             Dropout<0.9>,             // (B, 500)  -> (B, 500)
                             Dense<500, 10, Softmax>>  // (B, 500)  -> (B, 10)
{};

constexpr std::size_t steps = 20, batch_size = 1000;

// The notebook's Batched_TensorBoard, as examples/tensorboard_batches.cpp writes it.
struct BatchedTensorBoard {
    tensorboard::EventWriter writer;
    std::int64_t step = 0;
    explicit BatchedTensorBoard(const fs::path& log_dir) : writer(log_dir) {}
    void on_batch_end(std::size_t, const Logs& logs) {
        writer.add_scalar("accuracy", static_cast<float>(logs.at("accuracy")), step);
        writer.add_scalar("loss", static_cast<float>(logs.at("loss")), step);
        writer.flush();
        ++step;
    }
};

const fs::path& scratch_dir() {
    static const fs::path dir = fs::temp_directory_path() / ("ctnn_bench_tensorboard_" + std::to_string(::getpid()));
    return dir;
}
fs::path fresh_dir(const std::string& name) {
    const fs::path dir = scratch_dir() / name;
    fs::remove_all(dir);
    return dir;
}

struct Workload {
    Matrix x = Matrix::from_shape({steps * batch_size, 784});  // (20000, 784) pixels in [0, 1)
    Matrix y = Matrix::from_shape({steps * batch_size, 10});   // (20000, 10) one-hot
    decltype(compile<MnistMlp>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{})) model =
        compile<MnistMlp>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
    Workload() {
        Rng rng(42);
        for (float& v : x) v = rng.uniform();
        y.fill(0.0f);
        for (std::size_t i = 0; i < y.shape(0); ++i) y(i, rng.below(10)) = 1.0f;
        model.initialize(0);
    }
};
Workload& workload() {
    static Workload w;
    return w;
}

enum class Logging { none, tensorboard_epoch, tensorboard_batch, user_batched };

void fit_20_steps(benchmark::State& state, Logging logging) {
    Workload& w = workload();
    const FitOptions options{.epochs = 1, .batch_size = batch_size, .verbose = 0, .seed = 1};
    const fs::path dir = fresh_dir("fit");
    for (auto _ : state) {
        switch (logging) {
            case Logging::none: w.model.fit(w.x, w.y, options); break;
            case Logging::tensorboard_epoch:
                w.model.fit(w.x, w.y, options, callbacks::TensorBoard{{.log_dir = dir}});
                break;
            case Logging::tensorboard_batch:
                w.model.fit(w.x, w.y, options,
                            callbacks::TensorBoard{{.log_dir = dir, .update_freq = callbacks::UpdateFreq::batch}});
                break;
            case Logging::user_batched: {
                BatchedTensorBoard user(dir / "user");
                w.model.fit(w.x, w.y, options, user);
                break;
            }
        }
    }
    state.counters["steps"] = double(steps);
    fs::remove_all(dir);
}

// The batch hooks as fit calls them, with the batch logs fit builds.
void batch_hooks(benchmark::State& state, Logging logging) {
    const fs::path dir = fresh_dir("hooks");
    Logs logs{{"batch", 0.0}, {"size", 1000.0}, {"loss", 0.5},
              {"accuracy", 0.8}, {"raw_loss", 0.4}, {"raw_accuracy", 0.9}};
    callbacks::TensorBoard board({.log_dir = dir,
                                  .update_freq = logging == Logging::tensorboard_batch ? callbacks::UpdateFreq::batch
                                                                                       : callbacks::UpdateFreq::epoch});
    BatchedTensorBoard user(dir / "user");
    board.on_train_begin();
    if (logging == Logging::tensorboard_batch) {  // the first batch builds the tags (once per fit)
        board.on_train_batch_begin();
        board.on_train_batch_end(logs);
    }
    allocations = 0;
    counting = true;
    for (auto _ : state) {
        if (logging == Logging::user_batched) {
            user.on_batch_end(0, logs);
        } else {
            board.on_train_batch_begin();
            board.on_train_batch_end(logs);
        }
    }
    counting = false;
    state.counters["allocs_per_batch"] = double(allocations) / double(state.iterations());
    board.on_train_end();
    fs::remove_all(dir);
}

BENCHMARK_CAPTURE(fit_20_steps, none, Logging::none)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(fit_20_steps, tensorboard_epoch, Logging::tensorboard_epoch)
    ->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(fit_20_steps, tensorboard_batch, Logging::tensorboard_batch)
    ->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(fit_20_steps, user_batched, Logging::user_batched)
    ->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);
// Fixed iteration counts keep the event files small (about 140 bytes per batch).
BENCHMARK_CAPTURE(batch_hooks, tensorboard_epoch, Logging::tensorboard_epoch)->Iterations(200000);
BENCHMARK_CAPTURE(batch_hooks, tensorboard_batch, Logging::tensorboard_batch)->Iterations(200000);
BENCHMARK_CAPTURE(batch_hooks, user_batched, Logging::user_batched)->Iterations(200000);

// Prints as usual and keeps the median real time of each fit variant for the summary table.
class MedianReporter : public benchmark::ConsoleReporter {
public:
    explicit MedianReporter(bool color) : ConsoleReporter(color ? OO_ColorTabular : OO_Tabular) {}
    void ReportRuns(const std::vector<Run>& runs) override {
        ConsoleReporter::ReportRuns(runs);
        for (const Run& run : runs) {
            const bool single = run.run_type == Run::RT_Iteration && run.repetitions <= 1;
            const std::string& name = run.run_name.function_name;  // "fit_20_steps/<variant>"
            if (run.aggregate_name != "median" && !single) continue;
            if (name.starts_with("fit_20_steps/")) fit_ms[name.substr(name.find('/') + 1)] = run.GetAdjustedRealTime();
            if (name.starts_with("batch_hooks/")) hook_ns[name.substr(name.find('/') + 1)] = run.GetAdjustedRealTime();
        }
    }
    std::map<std::string, double> fit_ms;   // variant -> median ms per fit of 20 steps
    std::map<std::string, double> hook_ns;  // variant -> median ns of the batch hooks per batch
};

}  // namespace

int main(int argc, char** argv) {
    // Defaults for a fair comparison on a busy machine; a flag given on the command line wins.
    static std::string defaults[] = {"--benchmark_repetitions=5", "--benchmark_enable_random_interleaving=true",
                                     "--benchmark_report_aggregates_only=true"};
    std::vector<char*> args(argv, argv + argc);
    for (std::string& flag : defaults) {
        const std::string name = flag.substr(0, flag.find('=') + 1);
        bool given = false;
        for (int i = 1; i < argc; ++i) given |= std::string(argv[i]).starts_with(name);
        if (!given) args.push_back(flag.data());
    }
    int count = static_cast<int>(args.size());
    benchmark::Initialize(&count, args.data());
    if (benchmark::ReportUnrecognizedArguments(count, args.data())) return 1;
    // A reporter passed in does not see --benchmark_color: colour only on a terminal, unless refused.
    bool color = ::isatty(STDOUT_FILENO) != 0;
    for (int i = 1; i < argc; ++i)
        if (const std::string a = argv[i]; a == "--benchmark_color=false" || a == "--benchmark_color=no") color = false;
    MedianReporter reporter(color);
    benchmark::RunSpecifiedBenchmarks(&reporter);
    benchmark::Shutdown();
    std::error_code ignored;
    fs::remove_all(scratch_dir(), ignored);

    if (reporter.fit_ms.contains("none")) {
        const double base = reporter.fit_ms.at("none");
        std::printf("\n%-20s %12s %10s\n", "fit (median)", "ms/step", "vs none");
        for (const auto& [variant, ms] : reporter.fit_ms)
            std::printf("%-20s %12.2f %9.4fx\n", variant.c_str(), ms / double(steps), ms / base);
        // The hooks alone, against a step without callbacks: the overhead without the machine's noise.
        const double step_ns = base / double(steps) * 1e6;
        for (const auto& [variant, ns] : reporter.hook_ns)
            std::printf("batch hooks %-20s %10.0f ns/batch = %.5f%% of a step\n", variant.c_str(), ns,
                        100.0 * ns / step_ns);
    }
    return 0;
}
