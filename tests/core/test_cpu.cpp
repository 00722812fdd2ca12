// ctnn/core/cpu.hpp: the compiled ISA and extensions, and the missing-extension check against fake CPUs.
#include <doctest/doctest.h>

#include <algorithm>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <xsimd/xsimd.hpp>

#include <ctnn/core/cpu.hpp>

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace core_test_cpu {

using namespace ctnn;

namespace {
bool contains(const std::vector<std::string_view>& v, std::string_view s) {
    return std::find(v.begin(), v.end(), s) != v.end();
}
}  // namespace

TEST_CASE("cpu.compiled_isa_names_the_kernels_arch") {
    CHECK(compiled_isa() == ctnn::kernels::simd_arch::name());
    CHECK_FALSE(compiled_isa().empty());
    // xsimd's widest arch, except that avx512bw kernels run as avx512dq (the same float code).
    if constexpr (std::is_same_v<xsimd::default_arch, xsimd::avx512bw>) CHECK(compiled_isa() == "avx512dq");
    else if constexpr (!std::is_same_v<xsimd::default_arch, xsimd::unavailable>)
        CHECK(compiled_isa() == xsimd::default_arch::name());
}

TEST_CASE("cpu.compiled_features_follow_the_predefined_macros") {
    const auto features = compiled_cpu_features();
    CHECK(std::set<std::string_view>(features.begin(), features.end()).size() == features.size());
#ifdef __AVX512F__
    CHECK(contains(features, "avx512f"));
#else
    CHECK_FALSE(contains(features, "avx512f"));
#endif
#ifdef __AVX2__
    CHECK(contains(features, "avx2"));
#else
    CHECK_FALSE(contains(features, "avx2"));
#endif
#ifdef __FMA__
    CHECK(contains(features, "fma"));
#else
    CHECK_FALSE(contains(features, "fma"));
#endif
#ifdef __SSE4_2__
    CHECK(contains(features, "sse4.2"));
#endif
#if !defined(__x86_64__) && !defined(__i386__)
    CHECK(features.empty());
#endif
}

TEST_CASE("cpu.a_cpu_with_everything_lacks_nothing") {
    CHECK(missing_cpu_features([](std::string_view) { return true; }).empty());
    CHECK(cpu_check_message([](std::string_view) { return true; }).empty());
}

TEST_CASE("cpu.the_cpu_running_the_tests_lacks_nothing") {
    // It ran this far: the check before main found nothing missing, and says so again.
    CHECK(missing_cpu_features().empty());
}

TEST_CASE("cpu.a_fake_cpu_lacks_exactly_what_it_lacks") {
    const auto features = compiled_cpu_features();
    // Every other compiled feature missing: exactly those are named, in compile order.
    std::vector<std::string_view> lacked;
    for (std::size_t i = 0; i < features.size(); i += 2) lacked.push_back(features[i]);
    const auto missing = missing_cpu_features([&](std::string_view f) { return !contains(lacked, f); });
    CHECK(missing == lacked);

    // A CPU without AVX-512 (a Haswell): the AVX-512 extensions compiled in, and nothing else.
    const auto haswell = [](std::string_view f) { return !f.starts_with("avx512"); };
    std::vector<std::string_view> avx512;
    std::copy_if(features.begin(), features.end(), std::back_inserter(avx512),
                 [](std::string_view f) { return f.starts_with("avx512"); });
    CHECK(missing_cpu_features(haswell) == avx512);
    const std::string message = cpu_check_message(haswell);
    if (avx512.empty()) {
        CHECK(message.empty());
    } else {
        CHECK(message.starts_with("ctnn: this program was compiled for "));
        for (auto f : features) CHECK(message.find(f) != std::string::npos);
        std::string lacks = " but this CPU lacks ";
        for (std::size_t i = 0; i < avx512.size(); ++i) lacks += (i ? ", " : "") + std::string(avx512[i]);
        CHECK(message.find(lacks + ". ") != std::string::npos);
        CHECK(message.find("such as -march=x86-64-v3.") != std::string::npos);
        CHECK(message.ends_with("\n"));
    }
}

TEST_CASE("cpu.the_suggested_march_is_the_cpus_x86_64_level") {
#ifdef __AVX2__
    // Without AVX2 the CPU is at most x86-64-v2; without SSE4.2 the x86-64 baseline.
    const std::string no_avx2 = cpu_check_message([](std::string_view f) { return f != "avx2"; });
    CHECK(no_avx2.find("lacks avx2. ") != std::string::npos);
    CHECK(no_avx2.find("-march=x86-64-v2.") != std::string::npos);
    const std::string no_sse42 = cpu_check_message([](std::string_view f) { return f != "sse4.2"; });
    CHECK(no_sse42.find("-march=x86-64.") != std::string::npos);
#else
    MESSAGE("compiled without AVX2: nothing to suggest below it");
#endif
}

}  // namespace core_test_cpu
