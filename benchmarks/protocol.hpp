// benchmarks/protocol.hpp — the measuring pieces the ctnn halves of the PyTorch comparisons share
// (versus_ctnn.cpp for the MLP, versus_ctnn_convnet.cpp for the convnet): medians of wall times, the
// consecutive training slices the step timings use, whole epochs through fit, steps at a fixed batch,
// batch-1 predict latency. Each program keeps its protocol constants (those of its PyTorch twin,
// benchmarks/pytorch_mlp.py or pytorch_convnet.py) and passes them in.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <vector>

#include <benchmark/benchmark.h>

#include <ctnn/ctnn.hpp>
#include <ctnn/datasets/mnist.hpp>

namespace ctnn::bench {

using Clock = std::chrono::steady_clock;
inline double seconds_since(Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
}

inline double median(std::vector<double> v) {
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// Rows `first_row(s)` .. +batch of x/y for steps s = 0..steps-1, stacked: the batches the PyTorch
// scripts slice (first_row(s) = ((offset + s) · batch) mod (n − batch)), laid out so that one fit call
// (no shuffle) trains exactly them in order.
struct Slices {
    Matrix x, y;
};
inline Slices consecutive_batches(const Matrix& x, const Matrix& y, std::size_t batch, std::size_t offset,
                                  std::size_t steps) {
    const std::size_t n = x.shape(0), nx = x.shape(1), ny = y.shape(1);
    Slices s{Matrix::from_shape({steps * batch, nx}), Matrix::from_shape({steps * batch, ny})};
    for (std::size_t step = 0; step < steps; ++step) {
        const std::size_t first = ((offset + step) * batch) % (n - batch);
        std::memcpy(s.x.data() + step * batch * nx, x.data() + first * nx, batch * nx * sizeof(float));
        std::memcpy(s.y.data() + step * batch * ny, y.data() + first * ny, batch * ny * sizeof(float));
    }
    return s;
}

// The first `count` rows of x (a copy).
inline Matrix first_rows(const Matrix& x, std::size_t count) {
    Matrix out = Matrix::from_shape({count, x.shape(1)});
    std::memcpy(out.data(), x.data(), count * x.shape(1) * sizeof(float));
    return out;
}

// `warmup_steps` steps at `batch` on the first rows, unshuffled (one fit call).
template <class M>
void warm_up(M& model, const Matrix& x, const Matrix& y, std::size_t batch, std::size_t warmup_steps) {
    const Slices warm = consecutive_batches(x, y, batch, 0, warmup_steps);
    model.fit(warm.x, warm.y, {.epochs = 1, .batch_size = batch, .shuffle = false, .verbose = 0});
}

// Wall seconds of `repeats` whole shuffled epochs of (x, y) at `batch`, one fit call each.
template <class M>
std::vector<double> epoch_seconds(M& model, const Matrix& x, const Matrix& y, std::size_t batch, std::size_t repeats) {
    std::vector<double> times;
    for (std::size_t r = 0; r < repeats; ++r) {
        const auto start = Clock::now();
        model.fit(x, y, {.epochs = 1, .batch_size = batch, .verbose = 0});
        times.push_back(seconds_since(start));
    }
    return times;
}

// Training samples per second at `batch`: `warmup` steps, then `repeats` fit calls over `timed` steps each
// on consecutive slices; the median rate.
template <class M>
double samples_per_second(M& model, const Matrix& x, const Matrix& y, std::size_t batch, std::size_t warmup,
                          std::size_t timed, std::size_t repeats) {
    warm_up(model, x, y, batch, warmup);
    std::vector<double> rates;
    for (std::size_t r = 0; r < repeats; ++r) {
        const Slices slices = consecutive_batches(x, y, batch, warmup + r * timed, timed);
        const auto start = Clock::now();
        model.fit(slices.x, slices.y, {.epochs = 1, .batch_size = batch, .shuffle = false, .verbose = 0});
        rates.push_back(double(timed * batch) / seconds_since(start));
    }
    return median(rates);
}

// Batch-1 predict: one row of x per call through model.predict (result matrix included), `warmup` calls,
// then `repeats` × `calls` calls on rows 0..calls-1; the median seconds per call.
template <class M>
double predict_seconds(M& model, const Matrix& x, std::size_t warmup, std::size_t calls, std::size_t repeats) {
    const std::size_t nx = x.shape(1);
    std::vector<Matrix> rows;
    for (std::size_t i = 0; i < calls; ++i) {
        Matrix row = Matrix::from_shape({1, nx});
        std::memcpy(row.data(), x.data() + i * nx, nx * sizeof(float));
        rows.push_back(std::move(row));
    }
    const PredictOptions one{.batch_size = 1};
    float sink = 0;
    for (std::size_t i = 0; i < warmup; ++i) sink += model.predict(rows[i], one)(0, 0);
    std::vector<double> per_call;
    for (std::size_t r = 0; r < repeats; ++r) {
        const auto start = Clock::now();
        for (std::size_t i = 0; i < calls; ++i) sink += model.predict(rows[i], one)(0, 0);
        per_call.push_back(seconds_since(start) / double(calls));
    }
    benchmark::DoNotOptimize(sink);
    return median(per_call);
}

// `"name": [v0, v1, ...]`, values as %.4f.
inline void print_json_array(const char* name, const std::vector<double>& values) {
    std::printf("\"%s\": [", name);
    for (std::size_t i = 0; i < values.size(); ++i) std::printf("%s%.4f", i ? ", " : "", values[i]);
    std::printf("]");
}

}  // namespace ctnn::bench
