// ctnn/model/fit_options.hpp — the options of fit / evaluate / predict, with Keras's defaults,
// set by designated initializers: model.fit(x, y, {.epochs = 10, .batch_size = 1000}).
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>

#include "ctnn/core/communicator.hpp"
#include "ctnn/core/tensor.hpp"

namespace ctnn {

// Held by pointer, as Keras holds arrays by reference: the data must outlive the fit call.
struct ValidationData {
    ValidationData() = default;
    ValidationData(const Matrix& x_, const Matrix& y_) : x(&x_), y(&y_) {}
    ValidationData(const Matrix& x_, const Labels& labels_) : x(&x_), labels(&labels_) {}
    bool present() const noexcept { return x != nullptr; }

    const Matrix* x = nullptr;
    const Matrix* y = nullptr;       // one row per sample (one-hot, probabilities, regression targets)
    const Labels* labels = nullptr;  // or class indices, for SparseCategoricalCrossentropy
};

struct FitOptions {
    std::size_t epochs = 1;         // the final epoch index: trains initial_epoch .. epochs-1
    std::size_t batch_size = 32;    // the last batch of an epoch may be smaller; it is trained, not dropped
    double validation_split = 0.0;  // fraction of the LAST samples (before shuffling) held out, in [0, 1)
    ValidationData validation_data{};  // overrides validation_split
    bool shuffle = true;            // reshuffle the training samples every epoch
    std::size_t initial_epoch = 0;
    int verbose = 1;                // 0 silent, 1 progress bar, 2 one line per epoch
    std::optional<std::uint64_t> seed{};  // shuffling and dropout; unset: continue the model's stream
    std::size_t validation_batch_size = 0;  // 0: batch_size
    DataParallel data_parallel{};   // train across the ranks of a communicator (core/communicator.hpp)
};

struct EvaluateOptions {
    std::size_t batch_size = 32;
    int verbose = 0;  // Keras prints a bar here by default; a score line is usually what one wants
    DataParallel data_parallel{};  // each rank evaluates its part of x; every rank gets the global score
};

struct PredictOptions {
    std::size_t batch_size = 32;
};

}  // namespace ctnn
