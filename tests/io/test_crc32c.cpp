// Tests of ctnn/io/crc32c.hpp: published check values, a bitwise twin, and table == SSE4.2 == ARMv8 CRC.
#include "ctnn/io/crc32c.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace io_test_crc32c {

namespace {

// Bit-at-a-time CRC-32C, the definition itself: the oracle for the table and hardware paths.
std::uint32_t crc32c_bitwise(const unsigned char* data, std::size_t size, std::uint32_t crc = 0) {
    std::uint32_t state = ~crc;
    for (std::size_t i = 0; i < size; ++i) {
        state ^= data[i];
        for (int bit = 0; bit < 8; ++bit) state = (state >> 1) ^ ((state & 1u) ? 0x82F63B78u : 0u);
    }
    return ~state;
}

std::uint32_t crc_of(std::string_view s) { return ctnn::io::crc32c(s.data(), s.size()); }

constexpr std::array<unsigned char, 9> check_input{'1', '2', '3', '4', '5', '6', '7', '8', '9'};
static_assert(ctnn::io::detail::crc32c_table(check_input.data(), check_input.size()) == 0xE3069283u,
              "CRC-32C check value (the table path is constexpr)");

}  // namespace

TEST_CASE("crc32c.check_values") {
    SUBCASE("123456789 (catalogue check value; zlib crc32 would give 0xCBF43926)") {
        CHECK(crc_of("123456789") == 0xE3069283u);
    }
    SUBCASE("32 zero bytes and 32 0xFF bytes (RFC 3720 B.4)") {
        const std::vector<unsigned char> zeros(32, 0x00), ones(32, 0xFF);
        CHECK(ctnn::io::crc32c(zeros.data(), zeros.size()) == 0x8A9136AAu);
        CHECK(ctnn::io::crc32c(ones.data(), ones.size()) == 0x62A8AB43u);
    }
    SUBCASE("empty input") { CHECK(ctnn::io::crc32c(nullptr, 0) == 0u); }
    SUBCASE("masked example (rustboard masked_crc doc test)") {
        using namespace std::string_view_literals;
        CHECK(ctnn::io::masked_crc32c(crc_of("\x1a\x11" "CRC test, one two"sv)) == 0x5794D08Au);
    }
    SUBCASE("unmask inverts mask") {
        for (std::uint32_t v : {0u, 1u, 0xE3069283u, 0xFFFFFFFFu, 0xA282EAD8u})
            CHECK(ctnn::io::unmask_crc32c(ctnn::io::masked_crc32c(v)) == v);
    }
}

TEST_CASE("crc32c.extends_a_running_crc") {
    const std::string_view text = "The quick brown fox jumps over the lazy dog";
    for (std::size_t split = 0; split <= text.size(); ++split) {
        const std::uint32_t first = ctnn::io::crc32c(text.data(), split);
        CHECK(ctnn::io::crc32c(text.data() + split, text.size() - split, first) == crc_of(text));
    }
}

TEST_CASE("crc32c.paths_agree_with_bitwise_definition") {
    std::mt19937 rng(12345);
    std::vector<unsigned char> buffer(300 + 8);
    for (auto& b : buffer) b = static_cast<unsigned char>(rng());
    for (std::size_t start = 0; start < 8; ++start) {  // unaligned starts
        for (std::size_t length = 0; length + start <= buffer.size() && length <= 300; ++length) {
            const unsigned char* p = buffer.data() + start;
            const std::uint32_t seed = (length % 3 == 0) ? 0u : static_cast<std::uint32_t>(rng());
            const std::uint32_t expected = crc32c_bitwise(p, length, seed);
            REQUIRE(ctnn::io::detail::crc32c_table(p, length, seed) == expected);
#if defined(__SSE4_2__)
            REQUIRE(ctnn::io::detail::crc32c_sse42(p, length, seed) == expected);
#endif
#if defined(CTNN_CRC32C_ARMV8)
            REQUIRE(ctnn::io::detail::crc32c_armv8(p, length, seed) == expected);
#endif
            REQUIRE(ctnn::io::crc32c(p, length, seed) == expected);
        }
    }
#if !defined(__SSE4_2__) && !defined(CTNN_CRC32C_ARMV8)
    MESSAGE("built without SSE4.2 or the ARMv8 CRC instructions: only the table path was tested");
#endif
}

}  // namespace io_test_crc32c
