// ctnn/config.hpp — version, assertion and inlining macros shared by every header.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>

// First, so that its warning pragmas cover the intrinsics headers wherever they are included later.
#include "ctnn/detail/simd_headers.hpp"

#define CTNN_VERSION_MAJOR 0
#define CTNN_VERSION_MINOR 1
#define CTNN_VERSION_PATCH 0

// Internal invariants (not user errors: those throw). Compiled out unless CTNN_ENABLE_ASSERT is set,
// as XTENSOR_ENABLE_ASSERT does, so release kernels carry no checks.
#if defined(CTNN_ENABLE_ASSERT) && CTNN_ENABLE_ASSERT
#define CTNN_ASSERT(cond, msg)                                                                          \
    do {                                                                                                \
        if (!(cond)) ::ctnn::detail::assertion_failed(#cond, msg, __FILE__, __LINE__);                  \
    } while (false)
#else
#define CTNN_ASSERT(cond, msg) ((void)0)
#endif

namespace ctnn::detail {
[[noreturn]] inline void assertion_failed(const char* cond, const char* msg, const char* file, int line) {
    throw std::logic_error(std::string("[ctnn.assert] ") + file + ":" + std::to_string(line) + ": " + cond +
                           " — " + msg);
}
}  // namespace ctnn::detail
