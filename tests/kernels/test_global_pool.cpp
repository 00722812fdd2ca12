// Global pooling (GlobalAveragePooling2D, GlobalMaxPooling2D) is kernels/pool.hpp with one window
// over the whole image. Tests of that geometry against the naive twins in kernels/reference.hpp for
// every arch this build contains: channel counts around the vector widths (1, 3, 16, 17, 64), images
// from 1x1 to 13x13, batch 1, 2 and 7, with and without ties (the first maximum takes the gradient).
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
namespace kernels_test_global_pool {

namespace {

using namespace ctnn::kernels;
using ctnn::testing::for_each_arch;

// The geometry of a global pooling of an (H, W, C) image: one H x W window, output (1, 1, C).
consteval pool2d_geometry global(std::size_t h, std::size_t w, std::size_t c) {
    return make_pool2d_geometry(h, w, c, h, w, h, w);
}
static_assert(global(7, 5, 3).out_height == 1 && global(7, 5, 3).out_width == 1);
static_assert(global(7, 5, 3).output_size() == 3);

// n random floats in [-1, 1) starting `offset` floats past a 64-byte boundary; with `ties`, values
// are drawn from a handful so each channel holds its maximum several times.
struct Data {
    ctnn::Buffer storage;
    float* p;
    Data(std::size_t n, std::size_t offset, std::uint64_t seed, bool ties = false)
        : storage(n + offset + 1), p(storage.data() + offset) {
        ctnn::Rng rng(seed);
        for (auto& v : storage) v = ties ? std::floor(rng.uniform(0.0f, 4.0f)) : rng.uniform(-1.0f, 1.0f);
    }
};

// |got − want| <= bound, element by element (inputs in [-1, 4]: the bound is absolute).
std::size_t count_mismatches(const char* what, const float* got, const float* want, std::size_t n, double bound) {
    std::size_t bad = 0;
    for (std::size_t i = 0; i < n; ++i)
        if (!(std::abs(double(got[i]) - double(want[i])) <= bound) && bad++ < 5)
            FAIL_CHECK(what << "[" << i << "] = " << got[i] << ", expected " << want[i]);
    return bad;
}

template <pool2d_geometry G> void check_global(std::size_t batch, std::size_t offset, bool ties) {
    INFO("H=" << G.height << " W=" << G.width << " C=" << G.channels << " batch=" << batch << " ties=" << ties);
    const std::size_t nx = batch * G.input_size(), ny = batch * G.output_size();
    Data x(nx, offset, 1, ties), dy(ny, offset, 2);
    std::vector<float> want_max(ny), want_max_dx(nx), want_avg(ny), want_avg_dx(nx);
    reference::max_pool2d_forward_naive<G>(batch, x.p, want_max.data());
    reference::max_pool2d_backward_naive<G>(batch, x.p, dy.p, want_max_dx.data());
    reference::average_pool2d_forward_naive<G>(batch, x.p, want_avg.data());
    reference::average_pool2d_backward_naive<G>(batch, dy.p, want_avg_dx.data());
    // A float sum of H·W terms of magnitude <= 4, divided by H·W; dy / (H·W) rounded once or twice.
    const double mean_bound = 2.0 * double(G.window_size() + 2) * 4.0 * 0x1.0p-24;
    for_each_arch([&]<class Arch>() {
        Data y(ny, offset, 3), dx(nx, offset, 4);  // garbage: every kernel overwrites
        max_pool2d_forward<G, Arch>(batch, x.p, y.p);
        CHECK(std::memcmp(y.p, want_max.data(), ny * sizeof(float)) == 0);  // a max is exact
        max_pool2d_backward<G, Arch>(batch, x.p, y.p, dy.p, dx.p);
        CHECK(std::memcmp(dx.p, want_max_dx.data(), nx * sizeof(float)) == 0);  // one dy per element, or 0
        average_pool2d_forward<G, Arch>(batch, x.p, y.p);
        CHECK(count_mismatches("average y", y.p, want_avg.data(), ny, mean_bound) == 0);
        Data dx2(nx, offset, 5);
        average_pool2d_backward<G, Arch>(batch, dy.p, dx2.p);
        CHECK(count_mismatches("average dx", dx2.p, want_avg_dx.data(), nx, 2.0 * 0x1.0p-24) == 0);
    });
}

template <pool2d_geometry... Gs> void check_all() {
    for (std::size_t batch : {1, 2, 7})
        for (bool ties : {false, true}) (check_global<Gs>(batch, batch % 3, ties), ...);
}

}  // namespace

TEST_CASE("global_pool2d.matches_naive") {
    SUBCASE("channels around the vector widths") {
        check_all<global(3, 5, 1), global(3, 5, 3), global(3, 5, 16), global(3, 5, 17), global(3, 5, 64)>();
    }
    SUBCASE("image sizes") { check_all<global(1, 1, 17), global(1, 6, 8), global(7, 7, 33), global(13, 13, 64)>(); }
}

// Two channels of a 2x2 image, the maximum 7 of channel 0 twice (positions 1 and 2): position 1 takes
// all of dy; channel 1's maximum −1 is at position 0.
TEST_CASE("global_max_pool2d.ties_go_to_the_first_maximum") {
    constexpr pool2d_geometry G = global(2, 2, 2);
    const float x[8] = {3, -1, 7, -3, 7, -2, 1, -4}, dy[2] = {10, 20};
    for_each_arch([&]<class Arch>() {
        float y[2], dx[8];
        max_pool2d_forward<G, Arch>(1, x, y);
        CHECK(y[0] == 7.0f);
        CHECK(y[1] == -1.0f);
        max_pool2d_backward<G, Arch>(1, x, y, dy, dx);
        const float want[8] = {0, 20, 10, 0, 0, 0, 0, 0};
        for (int i = 0; i < 8; ++i) CHECK(dx[i] == want[i]);
        average_pool2d_forward<G, Arch>(1, x, y);
        CHECK(y[0] == 4.5f);    // (3 + 7 + 7 + 1) / 4
        CHECK(y[1] == -2.5f);   // (−1 − 3 − 2 − 4) / 4
    });
}

}  // namespace kernels_test_global_pool
