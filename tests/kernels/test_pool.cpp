// Tests of kernels/pool.hpp: max and average pooling, forward and backward, against their naive twins
// in kernels/reference.hpp for every arch this build contains, over channel counts around the vector
// widths (1, 3, 17, 32, 64), 2x2, 3x3 and 3x2 windows, strides equal to, below (overlapping windows)
// and above the window, the reference convnet's two pools, batch 1, 2 and 7; hand-computed cases for
// ties (the first maximum takes the gradient) and for overlapping windows (gradients add up).
#include <cmath>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#include "ctnn/core/random.hpp"
#include "ctnn/core/tensor.hpp"
#include "ctnn/kernels/pool.hpp"
#include "ctnn/kernels/reference.hpp"
#include "for_each_arch.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace kernels_test_pool {

namespace {

using namespace ctnn::kernels;
using ctnn::testing::for_each_arch;

constexpr pool2d_geometry mnist1 = make_pool2d_geometry(26, 26, 32, 2, 2, 2, 2);
constexpr pool2d_geometry mnist2 = make_pool2d_geometry(11, 11, 64, 2, 2, 2, 2);
static_assert(mnist1.out_height == 13 && mnist1.out_width == 13);
static_assert(mnist2.out_height == 5 && mnist2.out_width == 5);  // floor: the last row and column are dropped
static_assert(make_pool2d_geometry(7, 8, 1, 3, 2, 2, 3).out_height == 3);
static_assert(make_pool2d_geometry(7, 8, 1, 3, 2, 2, 3).out_width == 3);

// n random floats in [-1, 1) starting `offset` floats past a 64-byte boundary; with `ties`, values
// are drawn from a handful so windows often hold their maximum twice.
struct Data {
    ctnn::Buffer storage;
    float* p;
    Data(std::size_t n, std::size_t offset, std::uint64_t seed, bool ties = false)
        : storage(n + offset + 1), p(storage.data() + offset) {
        ctnn::Rng rng(seed);
        for (auto& v : storage) v = ties ? std::floor(rng.uniform(0.0f, 4.0f)) : rng.uniform(-1.0f, 1.0f);
    }
};

template <pool2d_geometry G> std::string describe() {
    return "H=" + std::to_string(G.height) + " W=" + std::to_string(G.width) + " C=" + std::to_string(G.channels) +
           " pool=" + std::to_string(G.pool_h) + "x" + std::to_string(G.pool_w) +
           " stride=" + std::to_string(G.stride_h) +
           "x" + std::to_string(G.stride_w);
}

// |got − want| within `rel` of |want| (plus a tiny absolute floor), element by element.
std::size_t count_mismatches(const char* what, const float* got, const float* want, std::size_t n, double rel) {
    std::size_t bad = 0;
    for (std::size_t i = 0; i < n; ++i)
        if (!(std::abs(double(got[i]) - double(want[i])) <= rel * std::abs(double(want[i])) + 1e-7) && bad++ < 5)
            FAIL_CHECK(what << "[" << i << "] = " << got[i] << ", expected " << want[i]);
    return bad;
}

template <pool2d_geometry G> void check_pool(std::size_t batch, std::size_t offset, bool ties) {
    INFO(describe<G>() << " batch=" << batch << " offset=" << offset << " ties=" << ties);
    const std::size_t nx = batch * G.input_size(), ny = batch * G.output_size();
    Data x(nx, offset, 1, ties), dy(ny, offset, 2);
    std::vector<float> want_max(ny), want_max_dx(nx), want_avg(ny), want_avg_dx(nx);
    reference::max_pool2d_forward_naive<G>(batch, x.p, want_max.data());
    reference::max_pool2d_backward_naive<G>(batch, x.p, dy.p, want_max_dx.data());
    reference::average_pool2d_forward_naive<G>(batch, x.p, want_avg.data());
    reference::average_pool2d_backward_naive<G>(batch, dy.p, want_avg_dx.data());
    // Float sums of up to PH·PW terms (or of the overlapping windows' gradients) against double ones.
    const double rel = 8.0 * double(G.window_size() + 2) * 0x1.0p-24;
    for_each_arch([&]<class Arch>() {
        Data y(ny, offset, 3), dx(nx, offset, 4);  // garbage: every kernel overwrites
        max_pool2d_forward<G, Arch>(batch, x.p, y.p);
        CHECK(std::memcmp(y.p, want_max.data(), ny * sizeof(float)) == 0);  // a max is exact
        max_pool2d_backward<G, Arch>(batch, x.p, y.p, dy.p, dx.p);
        // Each dx is a sum of dy's (one per window that picked it): exact when windows do not overlap.
        CHECK(count_mismatches("max dx", dx.p, want_max_dx.data(), nx, rel) == 0);
        average_pool2d_forward<G, Arch>(batch, x.p, y.p);
        CHECK(count_mismatches("average y", y.p, want_avg.data(), ny, rel) == 0);
        Data dx2(nx, offset, 5);
        average_pool2d_backward<G, Arch>(batch, dy.p, dx2.p);
        CHECK(count_mismatches("average dx", dx2.p, want_avg_dx.data(), nx, rel) == 0);
    });
}

template <pool2d_geometry... Gs> void check_all(std::initializer_list<std::size_t> batches) {
    for (std::size_t batch : batches)
        for (bool ties : {false, true}) (check_pool<Gs>(batch, batch % 3, ties), ...);
}

}  // namespace

TEST_CASE("pool2d.max_and_average_match_naive") {
    SUBCASE("the reference convnet") { check_all<mnist1, mnist2>({1, 2, 7}); }
    SUBCASE("channels around the vector widths, windows and strides") {
        check_all<make_pool2d_geometry(6, 7, 1, 2, 2, 2, 2), make_pool2d_geometry(7, 7, 3, 3, 3, 2, 2),
                  make_pool2d_geometry(7, 8, 17, 3, 2, 1, 1), make_pool2d_geometry(9, 8, 32, 2, 2, 3, 3),
                  make_pool2d_geometry(5, 6, 64, 3, 2, 2, 1)>({1, 2, 7});
    }
}

// Windows of 9 (a mean that is not a power-of-two division), overlapping or not.
TEST_CASE("pool2d.max_and_average_match_naive_on_3x3_windows") {
    check_all<make_pool2d_geometry(6, 6, 5, 3, 3, 3, 3), make_pool2d_geometry(6, 5, 33, 3, 3, 1, 1)>({1, 7});
}

// One 2x2 window, one channel: x = [[3, 3], [1, 3]]; the maximum 3 appears three times; the first in
// row-major order, (0, 0), takes all of dy.
TEST_CASE("max_pool2d_backward.ties_go_to_the_first_maximum") {
    constexpr pool2d_geometry G = make_pool2d_geometry(2, 2, 1, 2, 2, 2, 2);
    const float x[4] = {3, 3, 1, 3}, dy[1] = {5};
    for_each_arch([&]<class Arch>() {
        float y[1] = {0}, dx[4] = {-1, -1, -1, -1};
        max_pool2d_forward<G, Arch>(1, x, y);
        CHECK(y[0] == 3.0f);
        max_pool2d_backward<G, Arch>(1, x, y, dy, dx);
        CHECK(dx[0] == 5.0f);
        CHECK(dx[1] == 0.0f);
        CHECK(dx[2] == 0.0f);
        CHECK(dx[3] == 0.0f);
    });
}

// Same with 20 channels (a full vector and a tail on every arch), the tie at a different place per channel.
TEST_CASE("max_pool2d_backward.ties_per_channel") {
    constexpr std::size_t C = 20;
    constexpr pool2d_geometry G = make_pool2d_geometry(2, 2, C, 2, 2, 2, 2);
    std::vector<float> x(4 * C, 0.0f), dy(C);
    for (std::size_t c = 0; c < C; ++c) {
        x[((c + 1) % 4) * C + c] = 2.0f;  // the first maximum at window element (c + 1) % 4 ...
        x[3 * C + c] = 2.0f;              // ... tied with element 3
        dy[c] = float(c + 1);
    }
    for_each_arch([&]<class Arch>() {
        std::vector<float> y(C), dx(4 * C, -1.0f);
        max_pool2d_forward<G, Arch>(1, x.data(), y.data());
        max_pool2d_backward<G, Arch>(1, x.data(), y.data(), dy.data(), dx.data());
        for (std::size_t c = 0; c < C; ++c)
            for (std::size_t e = 0; e < 4; ++e)
                CHECK(dx[e * C + c] == (e == (c + 1) % 4 ? dy[c] : 0.0f));
    });
}

// 3x3 input, 2x2 windows at stride 1 (four overlapping windows), the maximum 9 in the middle: every
// window picks it, so dx there is the sum of the four dy; elsewhere 0. Average pooling: each dx is
// dy / 4 summed over the windows covering it.
TEST_CASE("pool2d_backward.overlapping_windows_accumulate") {
    constexpr pool2d_geometry G = make_pool2d_geometry(3, 3, 1, 2, 2, 1, 1);
    const float x[9] = {1, 2, 3, 4, 9, 5, 6, 7, 8}, dy[4] = {1, 2, 4, 8};
    for_each_arch([&]<class Arch>() {
        float y[4], dx[9];
        max_pool2d_forward<G, Arch>(1, x, y);
        CHECK(y[0] == 9.0f);
        CHECK(y[3] == 9.0f);
        max_pool2d_backward<G, Arch>(1, x, y, dy, dx);
        for (int i = 0; i < 9; ++i) CHECK(dx[i] == (i == 4 ? 15.0f : 0.0f));
        average_pool2d_forward<G, Arch>(1, x, y);
        CHECK(y[0] == 4.0f);   // (1 + 2 + 4 + 9) / 4
        CHECK(y[3] == 7.25f);  // (9 + 5 + 7 + 8) / 4
        average_pool2d_backward<G, Arch>(1, dy, dx);
        const float want[9] = {0.25f, 0.75f, 0.5f, 1.25f, 3.75f, 2.5f, 1.0f, 3.0f, 2.0f};
        for (int i = 0; i < 9; ++i) CHECK(dx[i] == want[i]);
    });
}

}  // namespace kernels_test_pool
