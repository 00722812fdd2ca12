// ctnn/core/phase.hpp — what a forward pass is for. Dropout is the reason this exists:
// it drops units only while training.
#pragma once

#include <cstddef>

#include "ctnn/core/random.hpp"

namespace ctnn {

enum class Phase { training, inference };

struct ForwardContext {
    std::size_t batch;  // rows in this call (the last batch of an epoch may be short)
    Phase phase;
    Rng* rng;  // for stochastic layers; only used in Phase::training
};

}  // namespace ctnn
