// Benchmarks of the elementwise kernels of a training step (everything but the matrix products):
// activations, dropout, the fused softmax + CE gradient, loss sums and optimizer updates, each with
// its naive twin registered beside it. Shapes are the MNIST MLP's (784-1000-500-10, Dropout on the
// 500 units, 1 290 510 parameters). Bytes/s counts each buffer read or written once per call, over
// wall-clock time (UseRealTime): above 64K elements the kernels run on OpenMP threads, whose work
// the main thread's CPU time would not show.
//
// Run: build-<you>/benchmarks/bench_elementwise [--benchmark_filter=Relu]
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <vector>

#include "ctnn/activations.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/core/tensor.hpp"
#include "ctnn/kernels/activation.hpp"
#include "ctnn/kernels/dropout.hpp"
#include "ctnn/kernels/loss.hpp"
#include "ctnn/kernels/optimizer.hpp"
#include "ctnn/kernels/reference.hpp"

namespace {

namespace kn = ctnn::kernels;
namespace ref = ctnn::kernels::reference;

// Which implementation a benchmark runs: the vectorised kernel or its naive twin.
struct Fast {};
struct Naive {};
template <class Impl> constexpr bool is_fast = std::is_same_v<Impl, Fast>;

constexpr std::size_t mlp_parameters = 784 * 1000 + 1000 + 1000 * 500 + 500 + 500 * 10 + 10;  // 1 290 510

ctnn::Buffer random_buffer(std::size_t n, std::uint64_t seed, float lo, float hi) {
    ctnn::Rng rng(seed);
    ctnn::Buffer b(n);
    for (auto& x : b) x = rng.uniform(lo, hi);
    return b;
}

void set_bytes(benchmark::State& state, std::size_t bytes_per_call) {
    state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations()) * static_cast<std::int64_t>(bytes_per_call));
}

// ---- activations: x (B, N) → y (B, N); backward rewrites dy (B, N) in place from y (B, N).

template <class Impl, std::size_t N, class Act> void BM_activation_forward(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    const auto x = random_buffer(batch * N, 1, -3.0f, 3.0f);
    ctnn::Buffer y(batch * N);
    for (auto _ : state) {
        if constexpr (is_fast<Impl>) kn::activation_forward<N, Act>(batch, x.data(), y.data());
        else ref::activation_forward_naive<N, Act>(batch, x.data(), y.data());
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_bytes(state, 2 * batch * N * sizeof(float));
}

template <class Impl, std::size_t N, class Act> void BM_activation_backward(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    auto y = random_buffer(batch * N, 2, -3.0f, 3.0f);
    kn::activation_forward<N, Act>(batch, y.data(), y.data());
    auto dy = random_buffer(batch * N, 3, -1.0f, 1.0f);
    for (auto _ : state) {
        // In place, so dy changes across iterations: Relu's settles after one call, Softmax's decays to
        // exact zeros within ~50 calls (a few of them through subnormals): negligible among thousands.
        if constexpr (is_fast<Impl>) kn::activation_backward<N, Act>(batch, y.data(), dy.data());
        else ref::activation_backward_naive<N, Act>(batch, y.data(), dy.data());
        benchmark::DoNotOptimize(dy.data());
        benchmark::ClobberMemory();
    }
    set_bytes(state, 3 * batch * N * sizeof(float));
}

// ---- dropout on the 500 units after Dense(1000, 500): mask, then y = keep ? x·scale : 0.

template <class Impl> void BM_dropout_mask_forward(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0)) * 500;
    const auto x = random_buffer(n, 4, -1.0f, 1.0f);
    ctnn::Buffer y(n);
    std::vector<std::uint8_t> keep(n);
    ctnn::Rng rng(5);
    const float rate = 0.9f, scale = 1.0f / (1.0f - rate);
    for (auto _ : state) {
        if constexpr (is_fast<Impl>) {
            kn::dropout_make_mask(n, rate, rng, keep.data());
            kn::dropout_forward(n, x.data(), keep.data(), scale, y.data());
        } else {
            ref::dropout_make_mask_naive(n, rate, rng, keep.data());
            ref::dropout_forward_naive(n, x.data(), keep.data(), scale, y.data());
        }
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    // mask written and read (1 + 1 bytes), x read and y written (4 + 4 bytes) per unit.
    set_bytes(state, n * (2 + 2 * sizeof(float)));
}

template <class Impl> void BM_dropout_mask(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0)) * 500;
    std::vector<std::uint8_t> keep(n);
    ctnn::Rng rng(5);
    for (auto _ : state) {
        if constexpr (is_fast<Impl>) kn::dropout_make_mask(n, 0.9f, rng, keep.data());
        else ref::dropout_make_mask_naive(n, 0.9f, rng, keep.data());
        benchmark::DoNotOptimize(keep.data());
        benchmark::ClobberMemory();
    }
    set_bytes(state, n);
}

template <class Impl> void BM_dropout_forward(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0)) * 500;
    const auto x = random_buffer(n, 4, -1.0f, 1.0f);
    ctnn::Buffer y(n);
    std::vector<std::uint8_t> keep(n);
    ctnn::Rng rng(5);
    kn::dropout_make_mask(n, 0.9f, rng, keep.data());
    for (auto _ : state) {
        if constexpr (is_fast<Impl>) kn::dropout_forward(n, x.data(), keep.data(), 10.0f, y.data());
        else ref::dropout_forward_naive(n, x.data(), keep.data(), 10.0f, y.data());
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    set_bytes(state, n * (1 + 2 * sizeof(float)));
}

// ---- losses on the (B, 10) softmax output.

template <class Impl> void BM_softmax_crossentropy_backward(benchmark::State& state) {
    constexpr std::size_t N = 10;
    const auto batch = static_cast<std::size_t>(state.range(0));
    const auto p = random_buffer(batch * N, 6, 0.0f, 1.0f), t = random_buffer(batch * N, 7, 0.0f, 1.0f);
    ctnn::Buffer dz(batch * N);
    const float scale = 1.0f / static_cast<float>(batch);
    for (auto _ : state) {
        if constexpr (is_fast<Impl>) kn::softmax_crossentropy_backward<N>(batch, p.data(), t.data(), scale, dz.data());
        else ref::softmax_crossentropy_backward_naive<N>(batch, p.data(), t.data(), scale, dz.data());
        benchmark::DoNotOptimize(dz.data());
        benchmark::ClobberMemory();
    }
    set_bytes(state, 3 * batch * N * sizeof(float));
}

template <class Impl> void BM_categorical_crossentropy_sum(benchmark::State& state) {
    constexpr std::size_t N = 10;
    const auto batch = static_cast<std::size_t>(state.range(0));
    const auto p = random_buffer(batch * N, 8, 0.001f, 1.0f), t = random_buffer(batch * N, 9, 0.0f, 1.0f);
    for (auto _ : state) {
        double loss;
        if constexpr (is_fast<Impl>) loss = kn::categorical_crossentropy_sum<N>(batch, p.data(), t.data());
        else loss = ref::categorical_crossentropy_sum_naive<N>(batch, p.data(), t.data());
        benchmark::DoNotOptimize(loss);
    }
    set_bytes(state, 2 * batch * N * sizeof(float));
}

// ---- optimizers over all parameters of the MLP, as one flat block.

template <class Impl> void BM_adam_update(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    auto param = random_buffer(n, 10, -0.1f, 0.1f);
    const auto grad = random_buffer(n, 11, -0.01f, 0.01f);
    ctnn::Buffer m(n, 0.0f), v(n, 0.0f);
    for (auto _ : state) {
        if constexpr (is_fast<Impl>)
            kn::adam_update(n, param.data(), grad.data(), m.data(), v.data(), 1e-3f, 0.9f, 0.999f, 1e-7f);
        else ref::adam_update_naive(n, param.data(), grad.data(), m.data(), v.data(), 1e-3f, 0.9f, 0.999f, 1e-7f);
        benchmark::DoNotOptimize(param.data());
        benchmark::ClobberMemory();
    }
    // param, m, v read and written; grad read.
    set_bytes(state, n * 7 * sizeof(float));
}

template <class Impl> void BM_sgd_nesterov_update(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    auto param = random_buffer(n, 12, -0.1f, 0.1f);
    const auto grad = random_buffer(n, 13, -0.01f, 0.01f);
    ctnn::Buffer velocity(n, 0.0f);
    for (auto _ : state) {
        if constexpr (is_fast<Impl>) kn::sgd_update(n, param.data(), grad.data(), velocity.data(), 0.01f, 0.9f, true);
        else ref::sgd_update_naive(n, param.data(), grad.data(), velocity.data(), 0.01f, 0.9f, true);
        benchmark::DoNotOptimize(param.data());
        benchmark::ClobberMemory();
    }
    set_bytes(state, n * 5 * sizeof(float));
}

template <class Impl> void BM_rmsprop_update(benchmark::State& state) {
    const auto n = static_cast<std::size_t>(state.range(0));
    auto param = random_buffer(n, 14, -0.1f, 0.1f);
    const auto grad = random_buffer(n, 15, -0.01f, 0.01f);
    ctnn::Buffer avg_sq(n, 0.0f);
    for (auto _ : state) {
        if constexpr (is_fast<Impl>) kn::rmsprop_update(n, param.data(), grad.data(), avg_sq.data(), 1e-3f, 0.9f, 1e-7f);
        else ref::rmsprop_update_naive(n, param.data(), grad.data(), avg_sq.data(), 1e-3f, 0.9f, 1e-7f);
        benchmark::DoNotOptimize(param.data());
        benchmark::ClobberMemory();
    }
    set_bytes(state, n * 5 * sizeof(float));
}

}  // namespace

// Batch sizes: 1000 (the shapes named in the design card) and 32 (Keras's default batch).
#define CTNN_BENCH_BATCHES ArgName("B")->Arg(32)->Arg(1000)->UseRealTime()

BENCHMARK_TEMPLATE(BM_activation_forward, Fast, 1000, ctnn::Relu)->CTNN_BENCH_BATCHES;
BENCHMARK_TEMPLATE(BM_activation_forward, Naive, 1000, ctnn::Relu)->CTNN_BENCH_BATCHES;
BENCHMARK_TEMPLATE(BM_activation_forward, Fast, 500, ctnn::Relu)->CTNN_BENCH_BATCHES;
BENCHMARK_TEMPLATE(BM_activation_forward, Naive, 500, ctnn::Relu)->CTNN_BENCH_BATCHES;
BENCHMARK_TEMPLATE(BM_activation_forward, Fast, 10, ctnn::Softmax)->CTNN_BENCH_BATCHES;
BENCHMARK_TEMPLATE(BM_activation_forward, Naive, 10, ctnn::Softmax)->CTNN_BENCH_BATCHES;
BENCHMARK_TEMPLATE(BM_activation_forward, Fast, 1000, ctnn::Sigmoid)->ArgName("B")->Arg(1000)->UseRealTime();
BENCHMARK_TEMPLATE(BM_activation_forward, Naive, 1000, ctnn::Sigmoid)->ArgName("B")->Arg(1000)->UseRealTime();

BENCHMARK_TEMPLATE(BM_activation_backward, Fast, 1000, ctnn::Relu)->CTNN_BENCH_BATCHES;
BENCHMARK_TEMPLATE(BM_activation_backward, Naive, 1000, ctnn::Relu)->CTNN_BENCH_BATCHES;
BENCHMARK_TEMPLATE(BM_activation_backward, Fast, 500, ctnn::Relu)->CTNN_BENCH_BATCHES;
BENCHMARK_TEMPLATE(BM_activation_backward, Naive, 500, ctnn::Relu)->CTNN_BENCH_BATCHES;
BENCHMARK_TEMPLATE(BM_activation_backward, Fast, 10, ctnn::Softmax)->CTNN_BENCH_BATCHES;
BENCHMARK_TEMPLATE(BM_activation_backward, Naive, 10, ctnn::Softmax)->CTNN_BENCH_BATCHES;

BENCHMARK_TEMPLATE(BM_dropout_mask_forward, Fast)->CTNN_BENCH_BATCHES;
BENCHMARK_TEMPLATE(BM_dropout_mask_forward, Naive)->CTNN_BENCH_BATCHES;
BENCHMARK_TEMPLATE(BM_dropout_mask, Fast)->ArgName("B")->Arg(1000)->UseRealTime();
BENCHMARK_TEMPLATE(BM_dropout_mask, Naive)->ArgName("B")->Arg(1000)->UseRealTime();
BENCHMARK_TEMPLATE(BM_dropout_forward, Fast)->ArgName("B")->Arg(1000)->UseRealTime();
BENCHMARK_TEMPLATE(BM_dropout_forward, Naive)->ArgName("B")->Arg(1000)->UseRealTime();

BENCHMARK_TEMPLATE(BM_softmax_crossentropy_backward, Fast)->CTNN_BENCH_BATCHES;
BENCHMARK_TEMPLATE(BM_softmax_crossentropy_backward, Naive)->CTNN_BENCH_BATCHES;
BENCHMARK_TEMPLATE(BM_categorical_crossentropy_sum, Fast)->CTNN_BENCH_BATCHES;
BENCHMARK_TEMPLATE(BM_categorical_crossentropy_sum, Naive)->CTNN_BENCH_BATCHES;

BENCHMARK_TEMPLATE(BM_adam_update, Fast)->ArgName("params")->Arg(mlp_parameters)->UseRealTime();
BENCHMARK_TEMPLATE(BM_adam_update, Naive)->ArgName("params")->Arg(mlp_parameters)->UseRealTime();
BENCHMARK_TEMPLATE(BM_sgd_nesterov_update, Fast)->ArgName("params")->Arg(mlp_parameters)->UseRealTime();
BENCHMARK_TEMPLATE(BM_sgd_nesterov_update, Naive)->ArgName("params")->Arg(mlp_parameters)->UseRealTime();
BENCHMARK_TEMPLATE(BM_rmsprop_update, Fast)->ArgName("params")->Arg(mlp_parameters)->UseRealTime();
BENCHMARK_TEMPLATE(BM_rmsprop_update, Naive)->ArgName("params")->Arg(mlp_parameters)->UseRealTime();

BENCHMARK_MAIN();
