// Tests of kernels/pad.hpp: zero padding and its backward (the crop) against their naive twins in
// kernels/reference_pad.hpp, over channel counts 1, 3, 17 and 64, padding on some sides only, on
// every side, on none, batch 1, 2 and 7; and a hand-computed case. The kernels are row copies with no
// Arch parameter, so they run once, not once per arch.
#include <cstddef>
#include <cstring>
#include <vector>

#include <doctest/doctest.h>

#include "ctnn/core/random.hpp"
#include "ctnn/core/tensor.hpp"
#include "ctnn/kernels/pad.hpp"
#include "ctnn/kernels/reference_pad.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace kernels_test_pad {

namespace {

using namespace ctnn::kernels;

static_assert(make_pad2d_geometry(28, 28, 1, 1, 1, 1, 1).out_height == 30);
static_assert(make_pad2d_geometry(5, 4, 3, 1, 2, 3, 4).out_height == 8);
static_assert(make_pad2d_geometry(5, 4, 3, 1, 2, 3, 4).out_width == 11);

// n random floats in [-1, 1) starting `offset` floats past a 64-byte boundary.
struct Data {
    ctnn::Buffer storage;
    float* p;
    Data(std::size_t n, std::size_t offset, std::uint64_t seed) : storage(n + offset + 1), p(storage.data() + offset) {
        ctnn::Rng rng(seed);
        for (auto& v : storage) v = rng.uniform(-1.0f, 1.0f);
    }
};

template <pad2d_geometry G> void check_pad(std::size_t batch, std::size_t offset) {
    INFO("H=" << G.height << " W=" << G.width << " C=" << G.channels << " pad=(" << G.top << ", " << G.bottom << ", "
              << G.left << ", " << G.right << ") batch=" << batch);
    const std::size_t nx = batch * G.input_size(), ny = batch * G.output_size();
    Data x(nx, offset, 1), dy(ny, offset, 2), y(ny, offset, 3), dx(nx, offset, 4);  // y, dx: garbage, overwritten
    std::vector<float> want_y(ny), want_dx(nx);
    reference::zero_pad2d_forward_naive<G>(batch, x.p, want_y.data());
    reference::zero_pad2d_backward_naive<G>(batch, dy.p, want_dx.data());
    zero_pad2d_forward<G>(batch, x.p, y.p);
    CHECK(std::memcmp(y.p, want_y.data(), ny * sizeof(float)) == 0);
    zero_pad2d_backward<G>(batch, dy.p, dx.p);
    CHECK(std::memcmp(dx.p, want_dx.data(), nx * sizeof(float)) == 0);
}

template <pad2d_geometry... Gs> void check_all() {
    for (std::size_t batch : {1, 2, 7}) (check_pad<Gs>(batch, batch % 3), ...);
}

}  // namespace

TEST_CASE("zero_pad2d.matches_naive") {
    check_all<make_pad2d_geometry(3, 4, 1, 1, 1, 1, 1), make_pad2d_geometry(5, 3, 17, 0, 2, 3, 0),
              make_pad2d_geometry(2, 2, 64, 2, 1, 0, 1), make_pad2d_geometry(4, 4, 3, 0, 0, 0, 0),
              make_pad2d_geometry(28, 28, 1, 2, 2, 2, 2), make_pad2d_geometry(1, 1, 3, 3, 0, 0, 2)>();
}

// A 1x2 image, one channel, one row below and one column right: [[1, 2]] -> [[1, 2, 0], [0, 0, 0]].
TEST_CASE("zero_pad2d.hand_computed") {
    constexpr pad2d_geometry G = make_pad2d_geometry(1, 2, 1, 0, 1, 0, 1);
    const float x[2] = {1, 2}, dy[6] = {1, 2, 3, 4, 5, 6};
    float y[6], dx[2];
    zero_pad2d_forward<G>(1, x, y);
    const float want[6] = {1, 2, 0, 0, 0, 0};
    for (int i = 0; i < 6; ++i) CHECK(y[i] == want[i]);
    zero_pad2d_backward<G>(1, dy, dx);
    CHECK(dx[0] == 1.0f);
    CHECK(dx[1] == 2.0f);
}

}  // namespace kernels_test_pad
