// benchmarks/bench_conv.cpp — the three products of a Conv2D (forward, backward data, backward
// weights) and max pooling (forward, backward), on the reference convnet (Keras "Simple MNIST convnet":
// Conv2D 28x28x1 -> 26x26x32, MaxPool -> 13x13x32, Conv2D -> 11x11x64, MaxPool -> 5x5x64) and on every
// convolution shape of examples/fashion_resnet's ResNet-20 (3x3 "same" at 16, 32, 64 filters, the two
// stride-2 3x3 and 1x1 projections), with its BatchNormalization (training: statistics, normalization,
// backward) and residual Add at each stage; at batch 1, 32 and 128, with the naive twins beside them at
// small batch. Counters: FLOPS (2·P·K·F per image
// for every conv product, P = OH·OW, K = KH·KW·C; one compare or add per window element for pooling)
// and pct_peak (of the all-threads FMA peak measured by peak.hpp; Google Benchmark prints it with a
// "/s" because it is a rate counter).
//
// To benchmark your own layer, add ONE line at the bottom of this file:
//     CTNN_BENCH_CONV2D(28, 28, 1, 32, 3, 3, 1, ctnn::kernels::padding::valid);  // H, W, C, F, KH, KW, stride, pad
//     CTNN_BENCH_MAX_POOL2D(26, 26, 32, 2, 2);                                    // H, W, C, pool, stride
//
// Run: ./build/benchmarks/bench_conv --benchmark_counters_tabular=true [--benchmark_filter=batch:128]
#include <cstddef>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "ctnn/activations.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/core/tensor.hpp"
#include "ctnn/kernels/batch_norm.hpp"
#include "ctnn/kernels/conv.hpp"
#include "ctnn/kernels/merge.hpp"
#include "ctnn/kernels/pool.hpp"
#include "ctnn/kernels/reference.hpp"
#include "peak.hpp"

namespace {

namespace k = ctnn::kernels;

const std::vector<std::int64_t> batches = {1, 32, 128};
constexpr std::int64_t naive_max_batch = 1;  // the naive twins take a second beyond this

ctnn::Buffer random_buffer(std::size_t n, std::uint64_t seed) {
    ctnn::Buffer b(n);
    ctnn::Rng rng(seed);
    for (auto& v : b) v = rng.uniform(-1.0f, 1.0f);
    return b;
}

void set_flops(benchmark::State& state, double flops) {
    state.counters["FLOPS"] =
        benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate, benchmark::Counter::OneK::kIs1000);
    state.counters["pct_peak"] = ctnn::bench::percent_of_peak(flops);
}

enum class product { forward, backward_data, backward_weights };

template <k::conv2d_geometry G, product What, bool Naive> void conv(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    auto x = random_buffer(batch * G.input_size(), 1), kernel = random_buffer(G.kernel_size(), 2),
         bias = random_buffer(G.filters, 3), dz = random_buffer(batch * G.output_size(), 4);
    ctnn::Buffer y(batch * G.output_size()), dx(batch * G.input_size()), dk(G.kernel_size()), db(G.filters);
    for (auto _ : state) {
        if constexpr (What == product::forward) {
            if constexpr (Naive)
                k::reference::conv2d_forward_naive<G, ctnn::Relu>(batch, x.data(), kernel.data(), bias.data(),
                                                                  y.data());
            else
                k::conv2d_forward<G, ctnn::Relu>(batch, x.data(), kernel.data(), bias.data(), y.data());
            benchmark::DoNotOptimize(y.data());
        } else if constexpr (What == product::backward_data) {
            if constexpr (Naive)
                k::reference::conv2d_backward_data_naive<G>(batch, dz.data(), kernel.data(), dx.data());
            else
                k::conv2d_backward_data<G>(batch, dz.data(), kernel.data(), dx.data());
            benchmark::DoNotOptimize(dx.data());
        } else {
            if constexpr (Naive)
                k::reference::conv2d_backward_weights_naive<G>(batch, x.data(), dz.data(), dk.data(), db.data());
            else
                k::conv2d_backward_weights<G>(batch, x.data(), dz.data(), dk.data(), db.data());
            benchmark::DoNotOptimize(dk.data());
        }
        benchmark::ClobberMemory();
    }
    set_flops(state, double(batch) * double(G.forward_flops()));
}

template <k::pool2d_geometry G, bool Backward, bool Naive> void max_pool(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    auto x = random_buffer(batch * G.input_size(), 5), dy = random_buffer(batch * G.output_size(), 6);
    ctnn::Buffer y(batch * G.output_size()), dx(batch * G.input_size());
    k::max_pool2d_forward<G>(batch, x.data(), y.data());
    for (auto _ : state) {
        if constexpr (Backward) {
            if constexpr (Naive)
                k::reference::max_pool2d_backward_naive<G>(batch, x.data(), dy.data(), dx.data());
            else
                k::max_pool2d_backward<G>(batch, x.data(), y.data(), dy.data(), dx.data());
            benchmark::DoNotOptimize(dx.data());
        } else {
            if constexpr (Naive)
                k::reference::max_pool2d_forward_naive<G>(batch, x.data(), y.data());
            else
                k::max_pool2d_forward<G>(batch, x.data(), y.data());
            benchmark::DoNotOptimize(y.data());
        }
        benchmark::ClobberMemory();
    }
    // Bytes that must move: x and y forward; x, y, dy and dx backward.
    const double floats = (Backward ? 2.0 : 1.0) * double(G.input_size() + G.output_size());
    state.SetBytesProcessed(static_cast<std::int64_t>(double(state.iterations()) * double(batch) * floats * 4.0));
    set_flops(state, double(batch) * double(G.output_size() * G.window_size()));
}

// A training BatchNormalization over (batch·P, C): forward (statistics, inverse std, normalization) or
// backward (dgamma, dbeta, dx). FLOPS counts one per element and pass, memory-bound either way.
template <std::size_t P, std::size_t C, bool Backward> void batch_norm(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    const std::size_t rows = batch * P;
    auto x = random_buffer(rows * C, 7), dy = random_buffer(rows * C, 8), gamma = random_buffer(C, 9),
         beta = random_buffer(C, 10);
    ctnn::Buffer y(rows * C), dx(rows * C), mean(C), variance(C), inv_std(C), dgamma(C), dbeta(C);
    k::batch_norm_statistics<C>(rows, x.data(), mean.data(), variance.data());
    k::batch_norm_inverse_std<C>(variance.data(), 1e-3, inv_std.data());
    for (auto _ : state) {
        if constexpr (Backward) {
            k::batch_norm_backward<C>(rows, x.data(), dy.data(), mean.data(), inv_std.data(), gamma.data(), true,
                                      dgamma.data(), dbeta.data(), dx.data());
            benchmark::DoNotOptimize(dx.data());
        } else {
            k::batch_norm_statistics<C>(rows, x.data(), mean.data(), variance.data());
            k::batch_norm_inverse_std<C>(variance.data(), 1e-3, inv_std.data());
            k::batch_norm_forward<C>(rows, x.data(), mean.data(), inv_std.data(), gamma.data(), beta.data(), y.data());
            benchmark::DoNotOptimize(y.data());
        }
        benchmark::ClobberMemory();
    }
    const double floats = (Backward ? 4.0 : 3.0) * double(rows * C);  // read x (twice forward), dy, write y / dx
    state.SetBytesProcessed(static_cast<std::int64_t>(double(state.iterations()) * floats * 4.0));
    set_flops(state, (Backward ? 6.0 : 5.0) * double(rows * C));
}

// The residual Add of two (batch, Size) tensors.
template <std::size_t Size> void add_merge(benchmark::State& state) {
    const auto batch = static_cast<std::size_t>(state.range(0));
    auto a = random_buffer(batch * Size, 11), b = random_buffer(batch * Size, 12);
    ctnn::Buffer y(batch * Size);
    for (auto _ : state) {
        k::add_forward<Size, 2>(batch, {a.data(), b.data()}, y.data());
        benchmark::DoNotOptimize(y.data());
        benchmark::ClobberMemory();
    }
    state.SetBytesProcessed(static_cast<std::int64_t>(double(state.iterations()) * double(batch * Size) * 12.0));
    set_flops(state, double(batch * Size));
}

void with_batches(benchmark::internal::Benchmark* bench, std::int64_t max_batch) {
    bench->ArgNames({"batch"})->UseRealTime();
    for (std::int64_t b : batches)
        if (b <= max_batch) bench->Arg(b);
}

template <k::conv2d_geometry G> std::string conv_name() {
    return "<" + std::to_string(G.height) + "x" + std::to_string(G.width) + "x" + std::to_string(G.channels) + "," +
           std::to_string(G.kernel_h) + "x" + std::to_string(G.kernel_w) + "x" + std::to_string(G.filters) + ",s" +
           std::to_string(G.stride_h) +
           (G.out_height == (G.height + G.stride_h - 1) / G.stride_h ? ",same>" : ",valid>");
}

// Registers the three products of one Conv2D geometry and their naive twins.
template <k::conv2d_geometry G> bool register_conv2d() {
    const std::string layer = conv_name<G>();
    const std::int64_t all = batches.back();
    auto both = [&](const std::string& name, auto fast, auto naive) {
        with_batches(benchmark::RegisterBenchmark(("conv2d_" + name + layer).c_str(), fast), all);
        with_batches(benchmark::RegisterBenchmark(("conv2d_" + name + "_naive" + layer).c_str(), naive),
                     naive_max_batch);
    };
    both("forward", conv<G, product::forward, false>, conv<G, product::forward, true>);
    both("backward_data", conv<G, product::backward_data, false>, conv<G, product::backward_data, true>);
    both("backward_weights", conv<G, product::backward_weights, false>, conv<G, product::backward_weights, true>);
    return true;
}

template <k::pool2d_geometry G> bool register_max_pool2d() {
    const std::string layer = "<" + std::to_string(G.height) + "x" + std::to_string(G.width) + "x" +
                              std::to_string(G.channels) + "," + std::to_string(G.pool_h) + "x" +
                              std::to_string(G.pool_w) + ",s" + std::to_string(G.stride_h) + ">";
    const std::int64_t all = batches.back();
    with_batches(benchmark::RegisterBenchmark(("max_pool2d_forward" + layer).c_str(), max_pool<G, false, false>), all);
    with_batches(benchmark::RegisterBenchmark(("max_pool2d_forward_naive" + layer).c_str(), max_pool<G, false, true>),
                 naive_max_batch + 31);
    with_batches(benchmark::RegisterBenchmark(("max_pool2d_backward" + layer).c_str(), max_pool<G, true, false>), all);
    with_batches(benchmark::RegisterBenchmark(("max_pool2d_backward_naive" + layer).c_str(), max_pool<G, true, true>),
                 naive_max_batch + 31);
    return true;
}

template <std::size_t H, std::size_t W, std::size_t C> bool register_norm_and_add() {
    const std::string shape = "<" + std::to_string(H) + "x" + std::to_string(W) + "x" + std::to_string(C) + ">";
    const std::int64_t all = batches.back();
    with_batches(benchmark::RegisterBenchmark(("batch_norm_forward" + shape).c_str(), batch_norm<H * W, C, false>), all);
    with_batches(benchmark::RegisterBenchmark(("batch_norm_backward" + shape).c_str(), batch_norm<H * W, C, true>), all);
    with_batches(benchmark::RegisterBenchmark(("add" + shape).c_str(), add_merge<H * W * C>), all);
    return true;
}

}  // namespace

#define CTNN_BENCH_CONCAT_(a, b) a##b
#define CTNN_BENCH_CONCAT(a, b) CTNN_BENCH_CONCAT_(a, b)
// One line per layer: H, W, C of the input, F filters of KH x KW, the same stride both ways, padding.
#define CTNN_BENCH_CONV2D(H, W, C, F, KH, KW, Stride, Padding)                                          \
    [[maybe_unused]] static const bool CTNN_BENCH_CONCAT(ctnn_bench_conv2d_, __LINE__) =                \
        register_conv2d<ctnn::kernels::make_conv2d_geometry(H, W, C, KH, KW, F, Stride, Stride, Padding)>()
// One line per pool: H, W, C of the input, a square window and its stride.
#define CTNN_BENCH_MAX_POOL2D(H, W, C, Pool, Stride)                                                    \
    [[maybe_unused]] static const bool CTNN_BENCH_CONCAT(ctnn_bench_max_pool2d_, __LINE__) =            \
        register_max_pool2d<ctnn::kernels::make_pool2d_geometry(H, W, C, Pool, Pool, Stride, Stride)>()

// The reference convnet.
CTNN_BENCH_CONV2D(28, 28, 1, 32, 3, 3, 1, ctnn::kernels::padding::valid);
CTNN_BENCH_CONV2D(13, 13, 32, 64, 3, 3, 1, ctnn::kernels::padding::valid);
CTNN_BENCH_MAX_POOL2D(26, 26, 32, 2, 2);
CTNN_BENCH_MAX_POOL2D(11, 11, 64, 2, 2);

// ResNet-20 v1 for 28x28x1 (examples/fashion_resnet.cpp): the stem, then per stage its 3x3 convolution,
// the stride-2 3x3 that starts the stage and the 1x1 stride-2 projection of its shortcut.
CTNN_BENCH_CONV2D(28, 28, 1, 16, 3, 3, 1, ctnn::kernels::padding::same);
CTNN_BENCH_CONV2D(28, 28, 16, 16, 3, 3, 1, ctnn::kernels::padding::same);
CTNN_BENCH_CONV2D(28, 28, 16, 32, 3, 3, 2, ctnn::kernels::padding::same);
CTNN_BENCH_CONV2D(28, 28, 16, 32, 1, 1, 2, ctnn::kernels::padding::same);
CTNN_BENCH_CONV2D(14, 14, 32, 32, 3, 3, 1, ctnn::kernels::padding::same);
CTNN_BENCH_CONV2D(14, 14, 32, 64, 3, 3, 2, ctnn::kernels::padding::same);
CTNN_BENCH_CONV2D(14, 14, 32, 64, 1, 1, 2, ctnn::kernels::padding::same);
CTNN_BENCH_CONV2D(7, 7, 64, 64, 3, 3, 1, ctnn::kernels::padding::same);
[[maybe_unused]] static const bool resnet_stage1 = register_norm_and_add<28, 28, 16>();
[[maybe_unused]] static const bool resnet_stage2 = register_norm_and_add<14, 14, 32>();
[[maybe_unused]] static const bool resnet_stage3 = register_norm_and_add<7, 7, 64>();

BENCHMARK_MAIN();
