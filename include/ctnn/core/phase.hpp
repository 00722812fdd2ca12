// ctnn/core/phase.hpp — what a forward pass is for. Dropout drops units and BatchNormalization uses
// the batch's statistics only while training.
#pragma once

#include <cstddef>

#include "ctnn/core/random.hpp"

namespace ctnn {

enum class Phase { training, inference };

struct ForwardContext {
    std::size_t batch;  // rows in this call (the last batch of an epoch may be short)
    Phase phase;
    Rng* rng;  // for stochastic layers; only used in Phase::training
    // The share of the step's global batch these rows are (1 outside data-parallel shards): layers
    // that record batch statistics (BatchNormalization) weight them by it, as gradients are.
    float batch_share = 1.0f;
    // Inference with every BatchNormalization folded into the Dense or Conv2D before it (the model
    // sets it after Sequential::fold_batch_normalization(), at the start of predict and evaluate).
    bool folded = false;
};

}  // namespace ctnn
