// Tests of kernels/conv.hpp: conv2d_forward (Linear, Relu), conv2d_backward_data and
// conv2d_backward_weights against their naive twins in kernels/reference.hpp, for every arch this
// build contains, over geometries that hit the remainders (C in {1, 3, 32}, F in {1, 5, 32, 64},
// 3x3, 5x3 and 1x1 kernels, stride 1 and 2, valid and same padding) and the reference convnet's two
// layers, at batch 1, 2 and 7 (one chunk of images, several, one image per chunk); the geometry's
// Keras/TF sizes; the backward against central differences of the naive forward; a hand-computed
// case; and results that do not depend on the thread count.
#include <cmath>
#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include <doctest/doctest.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "ctnn/activations.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/core/tensor.hpp"
#include "ctnn/kernels/conv.hpp"
#include "ctnn/kernels/reference.hpp"
#include "for_each_arch.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace kernels_test_conv {

namespace {

using namespace ctnn::kernels;
using ctnn::testing::for_each_arch;
constexpr double eps = 0x1.0p-24;

// Keras / TensorFlow sizes.
constexpr conv2d_geometry mnist1 = make_conv2d_geometry(28, 28, 1, 3, 3, 32, 1, 1, padding::valid);
constexpr conv2d_geometry mnist2 = make_conv2d_geometry(13, 13, 32, 3, 3, 64, 1, 1, padding::valid);
static_assert(mnist1.out_height == 26 && mnist1.out_width == 26 && mnist1.patch_size() == 9);
static_assert(mnist2.out_height == 11 && mnist2.out_width == 11 && mnist2.patch_size() == 288);
static_assert(mnist2.forward_flops() == 2 * 121 * 288 * 64);
// same, stride 1: out = in, pad_total = k - 1, the odd one after (5 in, k 4: 1 before, 2 after).
static_assert(make_conv2d_geometry(28, 28, 1, 3, 3, 8, 1, 1, padding::same).out_height == 28);
static_assert(make_conv2d_geometry(28, 28, 1, 3, 3, 8, 1, 1, padding::same).pad_top == 1);
static_assert(make_conv2d_geometry(5, 5, 1, 4, 4, 1, 1, 1, padding::same).pad_top == 1);
// same, stride 2: out = ceil(in / 2); 28 in, k 3: pad_total = 13·2 + 3 − 28 = 1, all of it after.
static_assert(make_conv2d_geometry(28, 28, 1, 3, 3, 8, 2, 2, padding::same).out_height == 14);
static_assert(make_conv2d_geometry(28, 28, 1, 3, 3, 8, 2, 2, padding::same).pad_top == 0);
static_assert(make_conv2d_geometry(7, 9, 1, 5, 3, 8, 2, 2, padding::same).pad_top == 2);   // (3·2 + 5 − 7) / 2
static_assert(make_conv2d_geometry(7, 9, 1, 5, 3, 8, 2, 2, padding::same).out_width == 5);
static_assert(make_conv2d_geometry(7, 9, 1, 5, 3, 8, 2, 2, padding::same).pad_left == 1);  // (4·2 + 3 − 9) / 2
// valid: floor((in − k) / stride) + 1.
static_assert(make_conv2d_geometry(7, 9, 1, 5, 3, 8, 2, 2, padding::valid).out_height == 2);
static_assert(make_conv2d_geometry(7, 9, 1, 5, 3, 8, 2, 2, padding::valid).out_width == 4);
// same with a kernel larger than the input: still out = in / stride.
static_assert(make_conv2d_geometry(2, 2, 1, 5, 5, 1, 1, 1, padding::same).out_height == 2);
static_assert(make_conv2d_geometry(2, 2, 1, 5, 5, 1, 1, 1, padding::same).pad_top == 2);
static_assert(make_conv2d_geometry(4, 4, 3, 1, 1, 5, 1, 1, padding::valid).pointwise());

// n random floats in [-1, 1) starting `offset` floats past a 64-byte boundary.
struct Data {
    ctnn::Buffer storage;
    float* p;
    Data(std::size_t n, std::size_t offset, std::uint64_t seed) : storage(n + offset + 1), p(storage.data() + offset) {
        ctnn::Rng rng(seed);
        for (auto& v : storage) v = rng.uniform(-1.0f, 1.0f);
    }
};

std::vector<float> absolute(const float* p, std::size_t n) {
    std::vector<float> a(n);
    for (std::size_t i = 0; i < n; ++i) a[i] = std::abs(p[i]);
    return a;
}

// Compares got with want; a float sum of `terms` products whose absolute values sum to mag[i] is
// within 2·(terms + 2)·eps·mag[i] of the exact one (whatever the order of the sum).
struct Comparer {
    std::string what;
    std::size_t bad = 0;
    void operator()(const float* got, const float* want, const float* mag, std::size_t n, std::size_t terms) {
        for (std::size_t i = 0; i < n; ++i) {
            const double tol = 2.0 * double(terms + 2) * eps * double(mag[i]) + 1e-30;
            if (!(std::abs(double(got[i]) - double(want[i])) <= tol) && bad++ < 5)
                FAIL_CHECK(what << "[" << i << "] = " << got[i] << ", expected " << want[i] << " ± " << tol);
        }
    }
};

template <conv2d_geometry G> std::string describe() {
    return "H=" + std::to_string(G.height) + " W=" + std::to_string(G.width) + " C=" + std::to_string(G.channels) +
           " KH=" + std::to_string(G.kernel_h) + " KW=" + std::to_string(G.kernel_w) +
           " F=" + std::to_string(G.filters) +
           " S=" + std::to_string(G.stride_h) + "x" + std::to_string(G.stride_w) + " pad=" + std::to_string(G.pad_top) +
           "," + std::to_string(G.pad_left);
}

// The three products of G at one batch, for every arch, each against its naive twin (computed once).
template <conv2d_geometry G> void check_conv(std::size_t batch, std::size_t offset) {
    INFO(describe<G>() << " batch=" << batch << " offset=" << offset);
    constexpr std::size_t K = G.patch_size(), F = G.filters, KF = G.kernel_size();
    const std::size_t nx = batch * G.input_size(), ny = batch * G.output_size();
    Data x(nx, offset, 1), kernel(KF, offset, 2), bias(F, offset, 3), dz(ny, offset, 4);
    // Magnitudes for the tolerances: the same products on absolute values.
    const std::vector<float> ax = absolute(x.p, nx), ak = absolute(kernel.p, KF), ab = absolute(bias.p, F),
                             adz = absolute(dz.p, ny);
    std::vector<float> mag_y(ny), mag_dx(nx), mag_dk(KF), mag_db(F);
    reference::conv2d_forward_naive<G, ctnn::Linear>(batch, ax.data(), ak.data(), ab.data(), mag_y.data());
    reference::conv2d_backward_data_naive<G>(batch, adz.data(), ak.data(), mag_dx.data());
    reference::conv2d_backward_weights_naive<G>(batch, ax.data(), adz.data(), mag_dk.data(), mag_db.data());
    std::vector<float> want_y(ny), want_relu(ny), want_dx(nx), want_dk(KF), want_db(F);
    reference::conv2d_forward_naive<G, ctnn::Linear>(batch, x.p, kernel.p, bias.p, want_y.data());
    reference::conv2d_forward_naive<G, ctnn::Relu>(batch, x.p, kernel.p, bias.p, want_relu.data());
    reference::conv2d_backward_data_naive<G>(batch, dz.p, kernel.p, want_dx.data());
    reference::conv2d_backward_weights_naive<G>(batch, x.p, dz.p, want_dk.data(), want_db.data());

    for_each_arch([&]<class Arch>() {
        // Outputs start as garbage: every kernel overwrites.
        Data y(ny, offset, 5), dx(nx, offset, 7), dk(KF, offset, 9), db(F, offset, 10);
        Comparer cmp_y{"y"}, cmp_relu{"relu y"}, cmp_dx{"dx"}, cmp_dk{"dkernel"}, cmp_db{"dbias"};
        conv2d_forward<G, ctnn::Linear, Arch>(batch, x.p, kernel.p, bias.p, y.p);
        cmp_y(y.p, want_y.data(), mag_y.data(), ny, K + 1);
        conv2d_forward<G, ctnn::Relu, Arch>(batch, x.p, kernel.p, bias.p, y.p);  // 1-Lipschitz: same bound
        cmp_relu(y.p, want_relu.data(), mag_y.data(), ny, K + 1);
        conv2d_backward_data<G, Arch>(batch, dz.p, kernel.p, dx.p);
        cmp_dx(dx.p, want_dx.data(), mag_dx.data(), nx, F * G.kernel_h * G.kernel_w);
        conv2d_backward_weights<G, Arch>(batch, x.p, dz.p, dk.p, db.p);
        cmp_dk(dk.p, want_dk.data(), mag_dk.data(), KF, batch * G.positions());
        cmp_db(db.p, want_db.data(), mag_db.data(), F, batch * G.positions());
        CHECK(cmp_y.bad == 0);
        CHECK(cmp_relu.bad == 0);
        CHECK(cmp_dx.bad == 0);
        CHECK(cmp_dk.bad == 0);
        CHECK(cmp_db.bad == 0);
    });
}

template <conv2d_geometry... Gs> void check_all(std::initializer_list<std::size_t> batches) {
    for (std::size_t batch : batches) (check_conv<Gs>(batch, batch % 3), ...);
}

constexpr padding V = padding::valid, S = padding::same;

// ∂L/∂x, ∂L/∂kernel, ∂L/∂bias of L = Σ r ⊙ conv(x) (Linear: L is linear in each, so central differences
// are exact up to rounding) from the naive forward, against the fast backward with dz = r.
template <conv2d_geometry G> void check_gradients(std::size_t batch) {
    INFO(describe<G>() << " batch=" << batch);
    const std::size_t nx = batch * G.input_size(), ny = batch * G.output_size();
    Data x(nx, 0, 31), kernel(G.kernel_size(), 0, 32), bias(G.filters, 0, 33), r(ny, 0, 34);
    std::vector<float> y(ny);
    auto loss = [&] {
        reference::conv2d_forward_naive<G, ctnn::Linear>(batch, x.p, kernel.p, bias.p, y.data());
        double l = 0;
        for (std::size_t i = 0; i < ny; ++i) l += double(r.p[i]) * y[i];
        return l;
    };
    std::vector<float> dx(nx), dk(G.kernel_size()), db(G.filters);
    conv2d_backward_data<G>(batch, r.p, kernel.p, dx.data());
    conv2d_backward_weights<G>(batch, x.p, r.p, dk.data(), db.data());
    const float h = 0.25f;  // exact in float: x ± h changes x by exactly h for |x| < 1
    std::size_t bad = 0;
    auto check = [&](const char* what, float* param, std::size_t n, const float* grad) {
        for (std::size_t i = 0; i < n; ++i) {
            const float saved = param[i];
            param[i] = saved + h;
            const double up = loss();
            param[i] = saved - h;
            const double down = loss();
            param[i] = saved;
            const double fd = (up - down) / (2.0 * h);
            if (!(std::abs(fd - grad[i]) <= 1e-4 * (1.0 + std::abs(fd))) && bad++ < 5)
                FAIL_CHECK(what << "[" << i << "]: backward " << grad[i] << ", central difference " << fd);
        }
    };
    check("dx", x.p, nx, dx.data());
    check("dkernel", kernel.p, G.kernel_size(), dk.data());
    check("dbias", bias.p, G.filters, db.data());
    CHECK(bad == 0);
}

// Runs f once with the default thread count and once on a single thread (restoring the default).
template <class F> void on_one_thread(F&& f) {
#ifdef _OPENMP
    const int threads = omp_get_max_threads();
    omp_set_num_threads(1);
    f();
    omp_set_num_threads(threads);
#else
    f();
#endif
}

bool same_bits(const float* a, const float* b, std::size_t n) { return std::memcmp(a, b, n * sizeof(float)) == 0; }

}  // namespace

TEST_CASE("conv2d_geometry.keras_output_sizes_and_padding") {
    // (checked at compile time above; here the runtime view of one of them)
    constexpr conv2d_geometry g = make_conv2d_geometry(7, 9, 3, 5, 3, 4, 2, 2, padding::same);
    CHECK(g.out_height == 4);
    CHECK(g.out_width == 5);
    CHECK(g.input_size() == 7 * 9 * 3);
    CHECK(g.output_size() == 4 * 5 * 4);
    CHECK(g.kernel_size() == 5 * 3 * 3 * 4);
}

// C in {1, 3, 32} x F in {1, 5, 32, 64}: every pair once, the kernel shape, stride and padding
// varying across them; odd input sizes so strides and windows leave remainders.
TEST_CASE("conv2d.forward_and_backward_match_naive") {
    SUBCASE("one channel") {
        check_all<make_conv2d_geometry(7, 9, 1, 3, 3, 1, 1, 1, V), make_conv2d_geometry(7, 9, 1, 5, 3, 5, 2, 2, S),
                  make_conv2d_geometry(8, 7, 1, 3, 3, 32, 2, 1, V), make_conv2d_geometry(6, 9, 1, 3, 3, 64, 1, 1, S)>(
            {1, 2, 7});
    }
    SUBCASE("three channels") {
        check_all<make_conv2d_geometry(7, 9, 3, 5, 3, 1, 2, 2, V), make_conv2d_geometry(7, 8, 3, 3, 3, 5, 1, 1, S),
                  make_conv2d_geometry(9, 7, 3, 3, 3, 32, 2, 2, S), make_conv2d_geometry(6, 7, 3, 5, 3, 64, 1, 2, V)>(
            {1, 2, 7});
    }
    SUBCASE("32 channels") {
        check_all<make_conv2d_geometry(6, 5, 32, 3, 3, 1, 1, 1, S), make_conv2d_geometry(7, 6, 32, 3, 3, 5, 2, 2, V),
                  make_conv2d_geometry(5, 6, 32, 5, 3, 32, 1, 1, V), make_conv2d_geometry(7, 5, 32, 5, 3, 64, 2, 1, S)>(
            {1, 2, 7});
    }
    // Stride 1 from 16 channels: backward data as the transposed convolution; 16 filters: AVX-512's
    // one-vector-wide GEMM tile.
    SUBCASE("16 channels") {
        check_all<make_conv2d_geometry(6, 7, 16, 3, 3, 16, 1, 1, S), make_conv2d_geometry(5, 6, 16, 5, 3, 16, 1, 1, V),
                  make_conv2d_geometry(7, 6, 16, 3, 3, 32, 2, 2, S), make_conv2d_geometry(2, 3, 16, 5, 4, 9, 1, 1, S)>(
            {1, 2, 7});
    }
    SUBCASE("1x1 kernels (no im2col at stride 1) and a kernel larger than the input") {
        check_all<make_conv2d_geometry(5, 7, 3, 1, 1, 5, 1, 1, V), make_conv2d_geometry(5, 7, 32, 1, 1, 64, 1, 1, S),
                  make_conv2d_geometry(5, 7, 3, 1, 1, 5, 2, 2, V), make_conv2d_geometry(2, 3, 3, 5, 5, 5, 1, 1, S)>(
            {1, 2, 7});
    }
}

TEST_CASE("conv2d.forward_and_backward_match_naive_on_the_reference_convnet") {
    check_all<mnist1, mnist2>({1, 7});
    check_all<mnist1>({33});  // several images per chunk, partial dk summed over the chunks
}

TEST_CASE("conv2d_backward.matches_central_differences") {
    check_gradients<make_conv2d_geometry(5, 6, 2, 3, 3, 3, 1, 1, V)>(2);
    check_gradients<make_conv2d_geometry(5, 6, 2, 3, 2, 3, 2, 2, S)>(3);
    check_gradients<make_conv2d_geometry(4, 5, 3, 1, 1, 2, 1, 1, V)>(2);
}

// x = 1..9 (3x3, one channel), kernel [[1, 2], [3, 4]], bias 0.5, valid: y = [[37.5, 47.5], [67.5, 77.5]].
// With dz = 1 everywhere: dx = Σ of the kernel over the windows covering each pixel, dk = Σ of each
// window's pixel, dbias = 4.
TEST_CASE("conv2d.hand_computed_3x3_input_2x2_kernel") {
    constexpr conv2d_geometry G = make_conv2d_geometry(3, 3, 1, 2, 2, 1, 1, 1, V);
    const float x[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9}, kernel[4] = {1, 2, 3, 4}, bias[1] = {0.5f}, dz[4] = {1, 1, 1, 1};
    for_each_arch([&]<class Arch>() {
        float y[4], dx[9], dk[4], db[1];
        conv2d_forward<G, ctnn::Linear, Arch>(1, x, kernel, bias, y);
        CHECK(y[0] == 37.5f);
        CHECK(y[1] == 47.5f);
        CHECK(y[2] == 67.5f);
        CHECK(y[3] == 77.5f);
        conv2d_backward_data<G, Arch>(1, dz, kernel, dx);
        const float want_dx[9] = {1, 3, 2, 4, 10, 6, 3, 7, 4};
        for (int i = 0; i < 9; ++i) CHECK(dx[i] == want_dx[i]);
        conv2d_backward_weights<G, Arch>(1, x, dz, dk, db);
        CHECK(dk[0] == 12.0f);
        CHECK(dk[1] == 16.0f);
        CHECK(dk[2] == 24.0f);
        CHECK(dk[3] == 28.0f);
        CHECK(db[0] == 4.0f);
    });
}

TEST_CASE("conv2d.results_are_bit_identical_across_calls_and_thread_counts") {
    constexpr conv2d_geometry G = mnist2;
    const std::size_t batch = 41;
    Data x(batch * G.input_size(), 0, 41), kernel(G.kernel_size(), 0, 42), bias(G.filters, 0, 43),
        dz(batch * G.output_size(), 0, 44);
    struct Out {
        std::vector<float> y, dx, dk, db;
    };
    auto all = [&] {
        Out o{std::vector<float>(batch * G.output_size()), std::vector<float>(batch * G.input_size()),
              std::vector<float>(G.kernel_size()), std::vector<float>(G.filters)};
        conv2d_forward<G, ctnn::Relu>(batch, x.p, kernel.p, bias.p, o.y.data());
        conv2d_backward_data<G>(batch, dz.p, kernel.p, o.dx.data());
        conv2d_backward_weights<G>(batch, x.p, dz.p, o.dk.data(), o.db.data());
        return o;
    };
    const Out a = all(), b = all();
    Out c;
    on_one_thread([&] { c = all(); });
    for (const Out* o : {&b, static_cast<const Out*>(&c)}) {
        CHECK(same_bits(a.y.data(), o->y.data(), a.y.size()));
        CHECK(same_bits(a.dx.data(), o->dx.data(), a.dx.size()));
        CHECK(same_bits(a.dk.data(), o->dk.data(), a.dk.size()));
        CHECK(same_bits(a.db.data(), o->db.data(), a.db.size()));
    }
}

TEST_CASE("conv2d_backward_weights.batch_0_gives_zero_gradients") {
    constexpr conv2d_geometry G = make_conv2d_geometry(5, 5, 3, 3, 3, 4, 1, 1, V);
    std::vector<float> dk(G.kernel_size(), 1.0f), db(G.filters, 1.0f);
    conv2d_backward_weights<G>(0, nullptr, nullptr, dk.data(), db.data());
    for (float v : dk) CHECK(v == 0.0f);
    for (float v : db) CHECK(v == 0.0f);
}

}  // namespace kernels_test_conv
