// ctnn/core/tensor.hpp — the data types users hand to ctnn and the buffers ctnn keeps.
//
// Users exchange data as xtensor containers: a batch of samples is a row-major `Matrix`
// (rows = samples, columns = features). Inside, layers and kernels work on raw pointers into
// 64-byte-aligned buffers whose feature sizes are compile-time constants; only the batch varies.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "ctnn/detail/simd_headers.hpp"
#include <xtensor/xtensor.hpp>

namespace ctnn {

using Scalar = float;

// (samples, features), row-major. What fit/evaluate/predict take and return.
using Matrix = xt::xtensor<Scalar, 2>;
// (samples,) integer class labels, for SparseCategoricalCrossentropy.
using Labels = xt::xtensor<std::int32_t, 1>;

// Aligned to a cache line so every row of a feature dimension that is a multiple of 16 starts aligned.
inline constexpr std::size_t buffer_alignment = 64;
using Buffer = std::vector<Scalar, xsimd::aligned_allocator<Scalar, buffer_alignment>>;

}  // namespace ctnn
