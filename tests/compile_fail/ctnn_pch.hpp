// The one header every compile-fail case includes, precompiled once for all their compiles (see
// meson.build): parsing it is nearly all of each compile's time.
#include <ctnn/ctnn.hpp>
