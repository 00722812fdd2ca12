// ctnn/kernels/arch.hpp — the instruction sets the kernels are compiled for.
//
// Every kernel is a template on an xsimd arch (`template <..., class Arch = simd_arch>`), so one
// translation unit can hold the same kernel for several ISAs: `simd_arch` is the widest the
// compiler flags allow (-march), and `compiled_archs` lists one arch per x86-64 level (v4 AVX-512,
// v3 AVX2 + FMA, v2 SSE4.2, v1 SSE2) or NEON that this build also contains. The tests run every
// kernel for each of them against its naive twin. There is no run-time dispatch: `simd_arch` is
// what the library itself calls.
#pragma once

#include <string_view>
#include <tuple>
#include <type_traits>

#include "ctnn/detail/simd_headers.hpp"

namespace ctnn::kernels {

// Stands for "no SIMD ISA known at compile time" (xsimd::default_arch is then xsimd::unavailable):
// the same kernels run on plain floats.
struct generic_arch {
    static constexpr bool supported() noexcept { return true; }
    static constexpr const char* name() noexcept { return "generic"; }
};

namespace detail {

// xsimd's choice, with one substitution: on AVX-512 the kernels use avx512dq rather than avx512bw.
// Their float code is the same (bw adds 8- and 16-bit integer instructions), but xsimd 8.1's
// avx512bw integer select, which its log() reaches, does not compile at -O0.
template <class Best> struct kernel_arch_of {
    using type = Best;
};
template <> struct kernel_arch_of<xsimd::unavailable> {
    using type = generic_arch;
};
template <> struct kernel_arch_of<xsimd::avx512bw> {
    using type = xsimd::avx512dq;
};

template <class Arch> using if_compiled = std::conditional_t<Arch::supported(), std::tuple<Arch>, std::tuple<>>;
template <class... Lists> using concat = decltype(std::tuple_cat(std::declval<Lists>()...));
template <class Arch, class List> struct prepend_unless_present;
template <class Arch, class... Archs> struct prepend_unless_present<Arch, std::tuple<Archs...>> {
    using type = std::conditional_t<(std::is_same_v<Arch, Archs> || ...), std::tuple<Archs...>,
                                    std::tuple<Arch, Archs...>>;
};

}  // namespace detail

// The arch every kernel uses unless told otherwise: avx512dq > fma3<avx2> > avx > sse* > neon64 > generic.
using simd_arch = typename detail::kernel_arch_of<xsimd::default_arch>::type;

// One arch per ISA level that this build can run besides simd_arch, widest first (a std::tuple, so
// that doctest's TEST_CASE_TEMPLATE_APPLY can run a test once per arch).
using compiled_archs = typename detail::prepend_unless_present<
    simd_arch, detail::concat<detail::if_compiled<xsimd::avx512dq>, detail::if_compiled<xsimd::fma3<xsimd::avx2>>,
                              detail::if_compiled<xsimd::sse4_2>, detail::if_compiled<xsimd::sse2>,
                              detail::if_compiled<xsimd::neon64>>>::type;

// xsimd's name of an arch ("avx512dq", "fma3+avx2", "sse2", "arm64+neon", "generic").
template <class Arch = simd_arch> constexpr std::string_view arch_name() noexcept { return Arch::name(); }

// Whether Arch has the 8-float AVX registers (avx, fma3<avx>, avx2, fma3<avx2>), or the 16-float
// AVX-512 ones: the few hand-written shuffles (pack.hpp, sparse.hpp, simd.hpp) key on these.
template <class Arch> inline constexpr bool is_avx = std::is_base_of_v<xsimd::avx, Arch>;
template <class Arch> inline constexpr bool is_avx512 = std::is_base_of_v<xsimd::avx512f, Arch>;

}  // namespace ctnn::kernels
