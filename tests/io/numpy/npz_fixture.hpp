// The arrays npz_write_fixture writes; check_npz_with_numpy.py computes the same values with numpy.
// Values come from integer arithmetic divided in double and rounded once to float32, so both sides
// get identical bits without sharing code.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <vector>

#include <ctnn/io/npz.hpp>

namespace npz_fixture {

// value i of array k: float32(((i * 37 + k * 11) % 101 - 50) / 7.0)
inline std::vector<float> formula(std::size_t k, std::size_t count) {
    std::vector<float> values(count);
    for (std::size_t i = 0; i < count; ++i)
        values[i] = static_cast<float>((static_cast<double>((i * 37 + k * 11) % 101) - 50.0) / 7.0);
    return values;
}

// NaN (quiet, with payload), -inf, +inf, -0.0, the smallest denormal, the largest float.
inline constexpr std::uint32_t special_bits[] = {0x7fc01234u, 0xff800000u, 0x7f800000u,
                                                 0x80000000u, 0x00000001u, 0x7f7fffffu};

inline std::vector<ctnn::io::NamedArray> arrays() {
    std::vector<ctnn::io::NamedArray> result = {
        {"dense/kernel", {3, 2}, formula(0, 6)},
        {"dense/bias", {2}, formula(1, 2)},
        {"dense_1/kernel", {40, 25}, formula(2, 1000)},
        {"empty", {0}, {}},
        {"empty_2d", {4, 0}, {}},
        {"scalar", {}, formula(5, 1)},
        {"rank3", {2, 3, 4}, formula(6, 24)},
        {"big", {300, 200}, formula(7, 60000)},
        {"conv2d/kernel", {3, 3, 2, 4}, formula(12, 72)},  // rank 4: Keras's (KH, KW, C, F)
    };
    std::vector<float> special;
    for (std::uint32_t bits : special_bits) special.push_back(std::bit_cast<float>(bits));
    result.push_back({"special/bits", {special.size()}, special});
    return result;
}

}  // namespace npz_fixture
