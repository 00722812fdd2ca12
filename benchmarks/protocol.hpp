// benchmarks/protocol.hpp — the measuring pieces the ctnn halves of the PyTorch comparisons share
// (versus_ctnn.cpp for the MLP, versus_ctnn_convnet.cpp, _resnet.cpp and _addition.cpp for the others):
// medians of wall times, the consecutive training slices the step timings use, whole epochs through fit,
// steps at a fixed batch, batch-1 predict latency. Each program keeps its protocol constants (those of its
// PyTorch twin, benchmarks/pytorch_mlp.py, pytorch_convnet.py, ...) and passes them in.
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include <sys/resource.h>

#include <benchmark/benchmark.h>

#include <ctnn/ctnn.hpp>
#include <ctnn/datasets/mnist.hpp>

#include "peak.hpp"

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

// The protocol of a model's comparison (versus_ctnn_convnet.cpp, versus_ctnn_resnet.cpp,
// versus_ctnn_addition.cpp): the constants of its PyTorch twin (pytorch_convnet.py's speed and its arguments,
// pytorch_addition.py's).
struct ModelProtocol {
    const char* name;               // "convnet", "resnet", "addition": the JSON's "model"
    double train_flop_per_sample;   // the twin's TRAIN_FLOP_PER_SAMPLE
    std::size_t epoch_warmup_steps, epoch_repeats, step_warmup, step_timed;
    std::size_t latency_warmup, latency_calls;
    std::size_t batch = 128, step_repeats = 3, latency_repeats = 5;  // batch: the epoch's (and its warm-up's)
    double validation_split = 0.1;  // measure_image_model: fit's split, the first ceil(0.9 n) training images train
    std::string extra_json{};       // more `"key": value, ` pairs for the JSON line, e.g. the addition's "rnn"
};

// This process's peak resident set so far (MB, as the drivers' wait4: ru_maxrss KiB · 1024 / 1e6).
inline double peak_rss_mb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return double(usage.ru_maxrss) * 1024 / 1e6;
}

// Runs the protocol on an initialized model and prints its JSON line: whole shuffled epochs of (x, y) at the
// batch after warm-up steps (none with epoch_repeats = 0), a fixed number of steps at batch 128 and 32 (one fit
// call per repeat over exactly those batches), batch-1 predict on the rows of predict_x, and the FMA peak on
// 1 and 2 threads (thread CPU time, so other processes do not lower it).
template <class M>
void measure_model(M& model, const ModelProtocol& p, const Matrix& x, const Matrix& y, const Matrix& predict_x) {
    warm_up(model, x, y, p.batch, p.epoch_warmup_steps);
    const std::vector<double> epoch_times = epoch_seconds(model, x, y, p.batch, p.epoch_repeats);
    std::vector<double> step_rates;
    for (std::size_t b : {std::size_t{128}, std::size_t{32}})
        step_rates.push_back(samples_per_second(model, x, y, b, p.step_warmup, p.step_timed, p.step_repeats));
    const double predict = predict_seconds(model, predict_x, p.latency_warmup, p.latency_calls, p.latency_repeats);
    const double rss = peak_rss_mb();
    const double peak1 = measure_fma_peak_gflops(1), peak2 = measure_fma_peak_gflops(2);

    std::printf("{\"model\": \"%s\", %s\"threads\": %d, ", p.name, p.extra_json.c_str(), max_threads());
    if (!epoch_times.empty()) {
        const double epoch = median(epoch_times);
        std::printf("\"epoch_seconds\": %.4f, \"epoch_gflops\": %.2f, ", epoch,
                    p.train_flop_per_sample * double(x.shape(0)) / epoch * 1e-9);
        print_json_array("epoch_seconds_all", epoch_times);
        std::printf(", ");
    }
    std::printf("\"samples_per_s_128\": %.1f, \"samples_per_s_32\": %.1f, \"predict_us\": %.2f, \"peak_rss_mb\": %.1f, "
                "\"fma_peak_1t_gflops\": %.1f, \"fma_peak_2t_gflops\": %.1f, \"isa\": \"%s\"}\n",
                step_rates[0], step_rates[1], predict * 1e6, rss, peak1, peak2, compiled_isa().c_str());
}

// An image model (the convnet, the ResNet): the first ceil((1 - validation_split) n) training images train (fit's
// split, as Keras's), the test images are predicted one by one.
template <class M> void measure_image_model(M& model, const ModelProtocol& p, const datasets::mnist::Dataset& data) {
    const auto train_count = static_cast<std::size_t>(std::ceil(double(data.train.size()) * (1.0 - p.validation_split)));
    measure_model(model, p, first_rows(data.train.x, train_count), first_rows(data.train.y, train_count), data.test.x);
}

}  // namespace ctnn::bench
