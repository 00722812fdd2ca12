// ctnn/io/crc32c.hpp — CRC-32C (Castagnoli) and the masked form TFRecord framing uses.
//
// Reflected polynomial 0x82F63B78, init and final xor 0xFFFFFFFF. This is NOT zlib's crc32()
// (CRC-32/IEEE); TensorBoard rejects records checked with that. The SSE4.2 `crc32` instruction or
// ARMv8's `crc32c*` instructions are used when the compiler targets them (-msse4.2 / -march=native,
// -march=armv8-a+crc / armv8.1-a and later), a constexpr table otherwise.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__SSE4_2__)
#include <nmmintrin.h>
#elif defined(__ARM_FEATURE_CRC32) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
// __crc32cd takes its 8 bytes least significant first: a plain load gives that order on little-endian only.
#define CTNN_CRC32C_ARMV8 1
#include <arm_acle.h>
#endif

namespace ctnn::io {

namespace detail {

inline constexpr std::uint32_t crc32c_polynomial = 0x82F63B78u;  // reflected Castagnoli

constexpr std::array<std::uint32_t, 256> make_crc32c_table() {
    std::array<std::uint32_t, 256> table{};
    for (std::uint32_t byte = 0; byte < 256; ++byte) {
        std::uint32_t crc = byte;
        for (int bit = 0; bit < 8; ++bit) crc = (crc >> 1) ^ ((crc & 1u) ? crc32c_polynomial : 0u);
        table[byte] = crc;
    }
    return table;
}

inline constexpr std::array<std::uint32_t, 256> crc32c_lookup = make_crc32c_table();

// Portable path: one table lookup per byte. `crc` is a finished CRC to extend (0 to start), so
// crc32c(a+b) == crc32c(b, crc32c(a)). constexpr so tests can static_assert check values.
constexpr std::uint32_t crc32c_table(const unsigned char* data, std::size_t size, std::uint32_t crc = 0) {
    std::uint32_t state = ~crc;
    for (std::size_t i = 0; i < size; ++i) state = (state >> 8) ^ crc32c_lookup[(state ^ data[i]) & 0xFFu];
    return ~state;
}

#if defined(__SSE4_2__)
// Hardware path: 8 bytes per instruction. memcpy makes unaligned starts legal (and compiles to a
// plain load); the instruction itself has no alignment requirement.
inline std::uint32_t crc32c_sse42(const unsigned char* data, std::size_t size, std::uint32_t crc = 0) {
    std::uint64_t state = static_cast<std::uint32_t>(~crc);
    for (; size >= 8; data += 8, size -= 8) {
        std::uint64_t word;
        std::memcpy(&word, data, 8);
        state = _mm_crc32_u64(state, word);
    }
    auto state32 = static_cast<std::uint32_t>(state);
    for (; size > 0; ++data, --size) state32 = _mm_crc32_u8(state32, *data);
    return ~state32;
}
#endif

#if defined(CTNN_CRC32C_ARMV8)
// Hardware path on ARMv8: 8 bytes per instruction, as the SSE4.2 one (same polynomial, same state).
inline std::uint32_t crc32c_armv8(const unsigned char* data, std::size_t size, std::uint32_t crc = 0) {
    std::uint32_t state = ~crc;
    for (; size >= 8; data += 8, size -= 8) {
        std::uint64_t word;
        std::memcpy(&word, data, 8);
        state = __crc32cd(state, word);
    }
    for (; size > 0; ++data, --size) state = __crc32cb(state, *data);
    return ~state;
}
#endif

}  // namespace detail

inline std::uint32_t crc32c(const void* data, std::size_t size, std::uint32_t crc = 0) {
    const auto* bytes = static_cast<const unsigned char*>(data);
#if defined(__SSE4_2__)
    return detail::crc32c_sse42(bytes, size, crc);
#elif defined(CTNN_CRC32C_ARMV8)
    return detail::crc32c_armv8(bytes, size, crc);
#else
    return detail::crc32c_table(bytes, size, crc);
#endif
}

// LevelDB/TFRecord masking: a CRC stored next to the data it covers is rotated and offset so that
// checksumming a buffer that already contains CRCs does not degenerate.
constexpr std::uint32_t masked_crc32c(std::uint32_t crc) {
    return ((crc >> 15) | (crc << 17)) + 0xA282EAD8u;
}

constexpr std::uint32_t unmask_crc32c(std::uint32_t masked) {
    const std::uint32_t rotated = masked - 0xA282EAD8u;
    return (rotated >> 17) | (rotated << 15);
}

}  // namespace ctnn::io
