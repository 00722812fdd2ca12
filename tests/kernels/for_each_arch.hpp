// tests/kernels/for_each_arch.hpp — runs a test body once per instruction set this build contains
// (ctnn::kernels::compiled_archs: AVX-512, AVX2 + FMA, SSE4.2, SSE2 on an x86-64-v4 build; NEON on
// AArch64), so a kernel's every ISA path is checked against its naive twin on one machine.
#pragma once

#include <tuple>

#include <doctest/doctest.h>

#include "ctnn/kernels/arch.hpp"

namespace ctnn::testing {

template <class Arch, class Body> void run_for_arch(Body& body) {
    INFO("arch " << ctnn::kernels::arch_name<Arch>());
    body.template operator()<Arch>();
}

// The archs the kernel tests run: all of compiled_archs, or with CTNN_TEST_KERNEL_ARCH_ONLY (the ISA
// matrix, which builds every level on its own) only the kernels' own arch.
#if defined(CTNN_TEST_KERNEL_ARCH_ONLY)
using tested_archs = std::tuple<ctnn::kernels::simd_arch>;
#else
using tested_archs = ctnn::kernels::compiled_archs;
#endif

// for_each_arch([&]<class Arch>() { ... kernel<..., Arch>(...) ... });
template <class Body> void for_each_arch(Body&& body) {
    std::apply([&](auto... archs) { (run_for_arch<decltype(archs)>(body), ...); }, tested_archs{});
}

}  // namespace ctnn::testing
