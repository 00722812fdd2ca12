// Tests of kernels/transpose.hpp: the W x W register transposes of every arch against the index
// swap they stand for, and the block transpose at every edge of its W x W blocks.
#include <cstddef>
#include <type_traits>
#include <vector>

#include <doctest/doctest.h>

#include "ctnn/kernels/transpose.hpp"
#include "for_each_arch.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace kernels_test_transpose {

namespace {

using namespace ctnn::kernels;
using ctnn::testing::for_each_arch;

// Every SIMD arch ctnn builds for has a register transpose: the packs and the sparse products must
// not fall back to one float at a time (as they did on AVX-512 when only AVX had one).
template <class Arch> constexpr bool vectorised_or_generic =
    std::is_same_v<Arch, generic_arch> || detail::has_square_transpose<Arch>;
static_assert(vectorised_or_generic<simd_arch>, "kernels/transpose.hpp: the kernels' arch has no register transpose");

}  // namespace

TEST_CASE("transpose.vectors_swap_rows_and_columns") {
    for_each_arch([]<class Arch>() {
        static_assert(vectorised_or_generic<Arch>);
        if constexpr (detail::has_square_transpose<Arch>) {
            using vec = xsimd::batch<float, Arch>;
            constexpr std::size_t W = vec::size;
            float in[W * W], out[W * W];
            for (std::size_t k = 0; k < W * W; ++k) in[k] = float(k);
            vec r[W];
            for (std::size_t i = 0; i < W; ++i) r[i] = vec::load_unaligned(in + i * W);
            detail::transpose_vectors<Arch>(r);
            for (std::size_t i = 0; i < W; ++i) r[i].store_unaligned(out + i * W);
            std::size_t wrong = 0;
            for (std::size_t i = 0; i < W; ++i)
                for (std::size_t j = 0; j < W; ++j) wrong += out[i * W + j] != in[j * W + i];
            CHECK(wrong == 0);
        }
    });
}

TEST_CASE("transpose.block_at_every_edge") {
    for_each_arch([]<class Arch>() {
        for (std::size_t rows : {1, 3, 4, 8, 15, 16, 17, 33})
            for (std::size_t cols : {1, 4, 7, 8, 16, 19, 40}) {
                CAPTURE(rows);
                CAPTURE(cols);
                const std::size_t lda = cols + 3, ldt = rows + 5;  // padded strides catch a wrong one
                std::vector<float> a(rows * lda), t(cols * ldt, -1.0f);
                for (std::size_t k = 0; k < a.size(); ++k) a[k] = float(k) + 0.5f;
                detail::transpose_block<Arch>(a.data(), lda, rows, cols, t.data(), ldt);
                std::size_t wrong = 0, touched_padding = 0;
                for (std::size_t c = 0; c < cols; ++c) {
                    for (std::size_t r = 0; r < rows; ++r) wrong += t[c * ldt + r] != a[r * lda + c];
                    for (std::size_t r = rows; r < ldt; ++r) touched_padding += t[c * ldt + r] != -1.0f;
                }
                CHECK(wrong == 0);
                CHECK(touched_padding == 0);
            }
    });
}

}  // namespace kernels_test_transpose
