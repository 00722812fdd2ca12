// ctnn/core/model_interface.hpp — what a callback may do with the model it observes, without
// knowing the network's type (Keras's `callback.model`). Built-in callbacks take it through an
// optional `set_model(ModelInterface&)` hook; a user's callback can ignore it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "ctnn/core/named_array.hpp"

namespace ctnn {

// What Keras puts in `history.params` (Keras 2 names), handed to `set_params` hooks.
struct FitParams {
    std::size_t batch_size = 0;
    std::size_t epochs = 0;
    std::size_t initial_epoch = 0;
    std::size_t samples = 0;  // training samples (after a validation split)
    std::size_t steps = 0;    // batches per epoch; the last may be short
    int verbose = 0;
    bool do_validation = false;
    std::vector<std::string> metrics{};  // log keys: loss, accuracy, val_loss, val_accuracy
    int rank = 0;   // under data-parallel fit, this process's rank of `ranks`
    int ranks = 1;
};

class ModelInterface {
public:
    virtual ~ModelInterface() = default;

    // Set by a callback (EarlyStopping, TerminateOnNaN) to end fit after the current batch.
    bool stop_training = false;

    virtual float learning_rate() const = 0;
    virtual void set_learning_rate(float) = 0;
    virtual std::int64_t iterations() const = 0;  // optimizer steps taken so far
    virtual std::string layer_name(std::size_t index) const = 0;
    virtual std::size_t layer_count() const = 0;

    // Weights by Keras name ("dense/kernel" (In, Out), "dense/bias" (Out,), "dense_1/kernel", ...).
    virtual std::vector<NamedArray> get_weights() const = 0;
    // Checks every name and shape first; on any mismatch throws and leaves the weights unchanged.
    virtual void set_weights(const std::vector<NamedArray>& arrays) = 0;
    // .npz (numpy.load reads it), written to a temporary name and renamed into place.
    virtual void save_weights(const std::filesystem::path& path) const = 0;
    // Refuses a damaged file, or one made for another network, without touching the weights.
    virtual void load_weights(const std::filesystem::path& path) = 0;

    // The whole training state as one .npz (core/training_state.hpp): weights, optimizer state,
    // learning rate, random streams and, during fit, the position in it, History and every stateful
    // callback's state. Called from on_train_begin, on_train_batch_end or on_epoch_end during fit,
    // the file is written once every callback's hook for that event has returned, so it holds
    // their updates too.
    virtual void save(const std::filesystem::path& path) {
        throw std::logic_error("save(" + path.string() + "): this model cannot save its training state");
    }
    // Restores what save wrote, after checking all of it (a damaged file, another network, other
    // data leave the model as it was). From on_train_begin the current fit continues from the saved
    // position; outside fit the next fit does.
    virtual void load(const std::filesystem::path& path) {
        throw std::logic_error("load(" + path.string() + "): this model cannot load a training state");
    }

protected:
    ModelInterface() = default;
    ModelInterface(const ModelInterface&) = default;
    ModelInterface& operator=(const ModelInterface&) = default;
};

}  // namespace ctnn
