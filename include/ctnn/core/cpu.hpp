// ctnn/core/cpu.hpp — which ISA ctnn's kernels were compiled for, and a check that the running CPU
// has it. A program built for extensions the CPU lacks (-march=native on one machine, run on
// another) stops before main with a message naming them, instead of dying of SIGILL in a kernel.
//
// compiled_isa()              xsimd's name of the kernels' arch: "avx512dq", "fma3+avx2", "sse4.2", ...
// compiled_cpu_features()     the x86 extensions this translation unit may use (from -march / -m<ext>)
// missing_cpu_features(pred)  those of them `pred(name)` says the CPU lacks (pred: a fake CPU in tests)
// missing_cpu_features()      the same against this CPU (__builtin_cpu_supports; x86-64 only)
//
// Define CTNN_NO_CPU_CHECK before including ctnn to drop the check before main (for programs that
// dispatch on the CPU themselves).
#pragma once

#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "ctnn/kernels/arch.hpp"

// The check runs where this CPU is not yet known to have the compiled extensions, so it is itself
// compiled for the x86-64 baseline (no SSE3 and up, no AVX): it cannot hit the instructions it checks for.
#if defined(__x86_64__) && defined(__GNUC__)
#define CTNN_CPU_CHECKABLE 1
#define CTNN_CPU_BASELINE __attribute__((target("arch=x86-64")))
#else
#define CTNN_CPU_CHECKABLE 0
#define CTNN_CPU_BASELINE
#endif

namespace ctnn {

// The SIMD arch of the kernels (kernels::simd_arch, chosen from -march); "generic" when xsimd knows
// no SIMD ISA for this target and the kernels run on plain floats.
inline std::string compiled_isa() { return std::string(kernels::arch_name()); }

// Internal linkage: every translation unit that includes ctnn lists, and checks before main, the
// extensions it was itself compiled with (translation units built with different flags each check theirs).
namespace {
namespace cpu_detail {

// Spelled as __builtin_cpu_supports spells them, widest first; nullptr-terminated.
constexpr const char* compiled_features[] = {
#if defined(__x86_64__) || defined(__i386__)
#ifdef __AVX512F__
    "avx512f",
#endif
#ifdef __AVX512BW__
    "avx512bw",
#endif
#ifdef __AVX512DQ__
    "avx512dq",
#endif
#ifdef __AVX512VL__
    "avx512vl",
#endif
#ifdef __AVX512CD__
    "avx512cd",
#endif
#ifdef __AVX512VNNI__
    "avx512vnni",
#endif
#ifdef __AVX512BF16__
    "avx512bf16",
#endif
#ifdef __AVX512FP16__
    "avx512fp16",
#endif
#ifdef __AVX512IFMA__
    "avx512ifma",
#endif
#ifdef __AVX512VBMI__
    "avx512vbmi",
#endif
#ifdef __AVX512VBMI2__
    "avx512vbmi2",
#endif
#ifdef __AVX512BITALG__
    "avx512bitalg",
#endif
#ifdef __AVX512VPOPCNTDQ__
    "avx512vpopcntdq",
#endif
#ifdef __AVX512VP2INTERSECT__
    "avx512vp2intersect",
#endif
#ifdef __AVXVNNI__
    "avxvnni",
#endif
#ifdef __VAES__
    "vaes",
#endif
#ifdef __VPCLMULQDQ__
    "vpclmulqdq",
#endif
#ifdef __GFNI__
    "gfni",
#endif
#ifdef __AVX2__
    "avx2",
#endif
#ifdef __FMA__
    "fma",
#endif
#ifdef __F16C__
    "f16c",
#endif
#ifdef __AVX__
    "avx",
#endif
#ifdef __BMI2__
    "bmi2",
#endif
#ifdef __BMI__
    "bmi",
#endif
#ifdef __LZCNT__
    "lzcnt",
#endif
#ifdef __MOVBE__
    "movbe",
#endif
#ifdef __ADX__
    "adx",
#endif
#ifdef __SHA__
    "sha",
#endif
#ifdef __AES__
    "aes",
#endif
#ifdef __PCLMUL__
    "pclmul",
#endif
#ifdef __SSE4_2__
    "sse4.2",
#endif
#ifdef __SSE4_1__
    "sse4.1",
#endif
#ifdef __SSSE3__
    "ssse3",
#endif
#ifdef __SSE3__
    "sse3",
#endif
#ifdef __POPCNT__
    "popcnt",
#endif
#endif
    nullptr};
constexpr std::size_t max_features = sizeof(compiled_features) / sizeof(compiled_features[0]);

// Writes to `out` the compiled features `supports` rejects, in table order; returns how many.
template <class Supports>
CTNN_CPU_BASELINE inline std::size_t find_missing(Supports& supports, const char** out) {
    std::size_t n = 0;
    for (const char* const* f = compiled_features; *f != nullptr; ++f)
        if (!supports(static_cast<const char*>(*f))) out[n++] = *f;
    return n;
}

template <class Supports> CTNN_CPU_BASELINE inline bool supports_all(Supports& supports, const char* const* names) {
    for (; *names != nullptr; ++names)
        if (!supports(static_cast<const char*>(*names))) return false;
    return true;
}

// The highest x86-64 level (psABI) the CPU has, as a -march value to suggest.
template <class Supports> CTNN_CPU_BASELINE inline const char* suggested_march(Supports& supports) {
    static constexpr const char* v2[] = {"sse3", "ssse3", "sse4.1", "sse4.2", "popcnt", nullptr};
    static constexpr const char* v3[] = {"avx", "avx2", "bmi", "bmi2", "f16c", "fma", "lzcnt", "movbe", nullptr};
    static constexpr const char* v4[] = {"avx512f", "avx512bw", "avx512cd", "avx512dq", "avx512vl", nullptr};
    if (!supports_all(supports, v2)) return "x86-64";
    if (!supports_all(supports, v3)) return "x86-64-v2";
    if (!supports_all(supports, v4)) return "x86-64-v3";
    return "x86-64-v4";
}

CTNN_CPU_BASELINE inline void append(char* buf, std::size_t cap, std::size_t& len, const char* s) {
    for (; *s != '\0' && len + 1 < cap; ++s) buf[len++] = *s;
    buf[len] = '\0';
}

CTNN_CPU_BASELINE inline void append_list(char* buf, std::size_t cap, std::size_t& len, const char* const* names,
                                          std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        if (i > 0) append(buf, cap, len, ", ");
        append(buf, cap, len, names[i]);
    }
}

constexpr std::size_t message_capacity = 4096;

// The message for `supports`' CPU into buf (message_capacity bytes); false (buf empty) if nothing is missing.
template <class Supports> CTNN_CPU_BASELINE inline bool format_message(Supports& supports, char* buf) {
    const char* missing[max_features];
    const std::size_t n = find_missing(supports, missing);
    std::size_t len = 0;
    buf[0] = '\0';
    if (n == 0) return false;
    append(buf, message_capacity, len, "ctnn: this program was compiled for ");
    append_list(buf, message_capacity, len, compiled_features, max_features - 1);
    append(buf, message_capacity, len, " (e.g. -march=native on another machine) but this CPU lacks ");
    append_list(buf, message_capacity, len, missing, n);
    append(buf, message_capacity, len, ". Rebuild on this machine, or with a lower -march such as -march=");
    append(buf, message_capacity, len, suggested_march(supports));
    append(buf, message_capacity, len, ".\n");
    return true;
}

#if CTNN_CPU_CHECKABLE
// This CPU, through libgcc's cpuid table. __builtin_cpu_supports takes string literals only.
CTNN_CPU_BASELINE inline bool cpu_supports(const char* feature) {
    __builtin_cpu_init();  // we may run before libgcc's own constructor has filled the table
#define CTNN_CPU_FEATURE(name) \
    if (std::strcmp(feature, name) == 0) return __builtin_cpu_supports(name);
    CTNN_CPU_FEATURE("avx512f") CTNN_CPU_FEATURE("avx512bw") CTNN_CPU_FEATURE("avx512dq")
    CTNN_CPU_FEATURE("avx512vl") CTNN_CPU_FEATURE("avx512cd") CTNN_CPU_FEATURE("avx512vnni")
    CTNN_CPU_FEATURE("avx512bf16") CTNN_CPU_FEATURE("avx512fp16") CTNN_CPU_FEATURE("avx512ifma")
    CTNN_CPU_FEATURE("avx512vbmi") CTNN_CPU_FEATURE("avx512vbmi2") CTNN_CPU_FEATURE("avx512bitalg")
    CTNN_CPU_FEATURE("avx512vpopcntdq") CTNN_CPU_FEATURE("avx512vp2intersect") CTNN_CPU_FEATURE("avxvnni")
    CTNN_CPU_FEATURE("vaes") CTNN_CPU_FEATURE("vpclmulqdq") CTNN_CPU_FEATURE("gfni") CTNN_CPU_FEATURE("avx2")
    CTNN_CPU_FEATURE("fma") CTNN_CPU_FEATURE("f16c") CTNN_CPU_FEATURE("avx") CTNN_CPU_FEATURE("bmi2")
    CTNN_CPU_FEATURE("bmi") CTNN_CPU_FEATURE("lzcnt") CTNN_CPU_FEATURE("movbe") CTNN_CPU_FEATURE("adx")
    CTNN_CPU_FEATURE("sha") CTNN_CPU_FEATURE("aes") CTNN_CPU_FEATURE("pclmul") CTNN_CPU_FEATURE("sse4.2")
    CTNN_CPU_FEATURE("sse4.1") CTNN_CPU_FEATURE("ssse3") CTNN_CPU_FEATURE("sse3") CTNN_CPU_FEATURE("popcnt")
#undef CTNN_CPU_FEATURE
    return true;  // not a name of the table above: nothing to check
}
#else
// Not x86-64 (or not GCC/clang): nothing this header knows how to check.
inline bool cpu_supports(const char*) { return true; }
#endif

// Prints the message and ends the process if this CPU lacks a compiled extension.
CTNN_CPU_BASELINE inline void check_or_exit() {
    char message[message_capacity];
    auto supports = cpu_supports;
    if (!format_message(supports, message)) return;
    std::fputs(message, stderr);
    // _Exit, not exit: atexit handlers and static destructors may be code compiled for the missing ISA.
    std::_Exit(EXIT_FAILURE);
}

#if CTNN_CPU_CHECKABLE && !defined(CTNN_NO_CPU_CHECK)
// Priority 101, the first one open to programs: before every C++ dynamic initializer of the
// program, any of which may already run code compiled for the missing extensions.
__attribute__((constructor(101))) CTNN_CPU_BASELINE inline void check_before_main() { check_or_exit(); }
#endif

}  // namespace cpu_detail

// The x86 extensions this translation unit was compiled to use (empty on other architectures).
inline std::vector<std::string_view> compiled_cpu_features() {
    return {cpu_detail::compiled_features, cpu_detail::compiled_features + (cpu_detail::max_features - 1)};
}

// The compiled extensions `supports(name)` rejects (name: a compiled_cpu_features() entry).
template <class Supports> std::vector<std::string_view> missing_cpu_features(Supports supports) {
    auto pred = [&](const char* name) { return static_cast<bool>(supports(std::string_view(name))); };
    const char* missing[cpu_detail::max_features];
    return {missing, missing + cpu_detail::find_missing(pred, missing)};
}

// The compiled extensions this CPU lacks (always empty where they cannot be checked).
inline std::vector<std::string_view> missing_cpu_features() {
    auto supports = cpu_detail::cpu_supports;
    const char* missing[cpu_detail::max_features];
    return {missing, missing + cpu_detail::find_missing(supports, missing)};
}

// The message printed before main for `supports`' CPU; empty when nothing is missing.
template <class Supports> std::string cpu_check_message(Supports supports) {
    auto pred = [&](const char* name) { return static_cast<bool>(supports(std::string_view(name))); };
    char message[cpu_detail::message_capacity];
    cpu_detail::format_message(pred, message);
    return message;
}

}  // namespace
}  // namespace ctnn
