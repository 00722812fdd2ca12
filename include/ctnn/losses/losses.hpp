// ctnn/losses/losses.hpp — every loss policy, and the Loss concept a custom loss must meet (stated,
// with what a loss provides, in core/concepts.hpp).
#pragma once

#include "ctnn/core/concepts.hpp"
#include "ctnn/losses/binary_crossentropy.hpp"
#include "ctnn/losses/categorical_crossentropy.hpp"
#include "ctnn/losses/mean_squared_error.hpp"
#include "ctnn/losses/sparse_categorical_crossentropy.hpp"
