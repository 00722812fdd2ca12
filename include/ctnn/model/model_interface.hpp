// ctnn/model/model_interface.hpp — moved to ctnn/core/model_interface.hpp (callbacks depend on core
// only); this header keeps old includes working.
#pragma once

#include "ctnn/core/model_interface.hpp"
