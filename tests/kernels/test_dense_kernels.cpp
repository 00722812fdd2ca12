// Tests of kernels/dense.hpp: dense_forward (every activation), dense_backward_data and
// dense_backward_weights against their naive twins in kernels/reference.hpp, over (In, Out) pairs
// and batches that hit every edge of the register tile, the small-batch paths and the thread split;
// aligned and unaligned pointers; and the promise of one summation order (repeatable results,
// identical on 1 and on all threads).
#include <algorithm>
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
#include "ctnn/kernels/dense.hpp"
#include "ctnn/kernels/reference.hpp"
#include "for_each_arch.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace kernels_test_dense_kernels {

namespace {

using namespace ctnn::kernels;
using ctnn::testing::for_each_arch;
constexpr std::size_t MR = gemm_config<gemm_arch>::MR, NR = gemm_config<gemm_arch>::NR;
constexpr double eps = 0x1.0p-24;

template <std::size_t I, std::size_t O> struct Dims { static constexpr std::size_t In = I, Out = O; };

// n random floats in [-1, 1) starting `offset` floats past a 64-byte boundary.
struct Data {
    ctnn::Buffer storage;
    float* p;
    Data(std::size_t n, std::size_t offset, std::uint64_t seed) : storage(n + offset + 1), p(storage.data() + offset) {
        ctnn::Rng rng(seed);
        for (auto& v : storage) v = rng.uniform(-1.0f, 1.0f);
    }
};

// Batches to try for a layer: all of them unless the naive twin would take too long.
std::vector<std::size_t> batches_for(std::size_t in, std::size_t out) {
    std::vector<std::size_t> all = {1, 2, 5, 6, 7, 13, 32, 128, 1000}, kept;
    for (std::size_t b : all)
        if (b * in * out <= 40'000'000 || b <= 13) kept.push_back(b);
    return kept;
}

// Bound on |float dot product − exact| for a length-k sum whose terms have absolute sum `mag`.
double dot_tolerance(std::size_t k, double mag) { return 2.0 * double(k + 2) * eps * mag + 1e-30; }

template <std::size_t In, std::size_t Out, class Act, class Arch> void check_forward(std::size_t batch, std::size_t offset) {
    Data x(batch * In, offset, 11), w(In * Out, offset, 12), bias(Out, offset, 13);
    Data y(batch * Out, offset, 14), expect(batch * Out, offset, 15);
    dense_forward<In, Out, Act, Arch>(batch, x.p, w.p, bias.p, y.p);
    reference::dense_forward_naive<In, Out, Act>(batch, x.p, w.p, bias.p, expect.p);
    std::size_t bad = 0;
    for (std::size_t r = 0; r < batch; ++r) {
        double row_tol = 0;  // softmax: the largest logit error of the row
        std::vector<double> tol(Out);
        for (std::size_t o = 0; o < Out; ++o) {
            double mag = std::abs(bias.p[o]);
            for (std::size_t i = 0; i < In; ++i) mag += std::abs(double(x.p[r * In + i]) * w.p[i * Out + o]);
            tol[o] = dot_tolerance(In, mag);
            row_tol = std::max(row_tol, tol[o]);
        }
        for (std::size_t o = 0; o < Out; ++o) {
            const double want = expect.p[r * Out + o], got = y.p[r * Out + o];
            // Elementwise activations are 1-Lipschitz here; softmax moves by at most 2·max logit error
            // relatively. Plus a few ulps for the activation's own rounding.
            const double t =
                Act::elementwise ? tol[o] + 8 * eps * std::abs(want) + 1e-7 : want * 2 * row_tol + 1e-6 + 1e-5 * want;
            if (!(std::abs(got - want) <= t) && bad++ < 5)
                FAIL_CHECK(Act::name << " y[" << r << "][" << o << "] = " << got << ", expected " << want << " ± " << t
                                     << " (In=" << In << " Out=" << Out << " batch=" << batch << ", " << arch_name<Arch>() << ")");
        }
    }
    CHECK(bad == 0);
}

template <std::size_t In, std::size_t Out, class Arch> void check_backward(std::size_t batch, std::size_t offset) {
    Data x(batch * In, offset, 21), w(In * Out, offset, 22), dz(batch * Out, offset, 23);
    Data dx(batch * In, offset, 24), dw(In * Out, offset, 25), db(Out, offset, 26);
    Data dx_ref(batch * In, offset, 27), dw_ref(In * Out, offset, 28), db_ref(Out, offset, 29);
    dense_backward_data<In, Out, Arch>(batch, dz.p, w.p, dx.p);
    dense_backward_weights<In, Out, Arch>(batch, x.p, dz.p, dw.p, db.p);
    reference::dense_backward_data_naive<In, Out>(batch, dz.p, w.p, dx_ref.p);
    reference::dense_backward_weights_naive<In, Out>(batch, x.p, dz.p, dw_ref.p, db_ref.p);
    std::size_t bad = 0;
    auto expect_close = [&](const std::string& what, std::size_t r, std::size_t c, double got, double want, double tol) {
        if (!(std::abs(got - want) <= tol) && bad++ < 5)
            FAIL_CHECK(what << "[" << r << "][" << c << "] = " << got << ", expected " << want << " ± " << tol
                            << " (In=" << In << " Out=" << Out << " batch=" << batch << ", " << arch_name<Arch>() << ")");
    };
    for (std::size_t r = 0; r < batch; ++r)
        for (std::size_t i = 0; i < In; ++i) {
            double mag = 0;
            for (std::size_t o = 0; o < Out; ++o) mag += std::abs(double(dz.p[r * Out + o]) * w.p[i * Out + o]);
            expect_close("dx", r, i, dx.p[r * In + i], dx_ref.p[r * In + i], dot_tolerance(Out, mag));
        }
    for (std::size_t i = 0; i < In; ++i)
        for (std::size_t o = 0; o < Out; ++o) {
            double mag = 0;
            for (std::size_t r = 0; r < batch; ++r) mag += std::abs(double(x.p[r * In + i]) * dz.p[r * Out + o]);
            expect_close("dw", i, o, dw.p[i * Out + o], dw_ref.p[i * Out + o], dot_tolerance(batch, mag));
        }
    for (std::size_t o = 0; o < Out; ++o) {
        double mag = 0;
        for (std::size_t r = 0; r < batch; ++r) mag += std::abs(dz.p[r * Out + o]);
        expect_close("db", 0, o, db.p[o], db_ref.p[o], dot_tolerance(batch, mag));
    }
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

// Every remainder of MR and NR on both sides, the model's layers, and sizes below one vector.
#define CTNN_DENSE_SIZES                                                                                      \
    Dims<1, 1>, Dims<3, 7>, Dims<7, 3>, Dims<8, 16>, Dims<15, 17>, Dims<16, 15>, Dims<17, 33>, Dims<31, 8>,   \
        Dims<33, 31>, Dims<MR - 1, NR + 1>, Dims<MR + 1, NR - 1>, Dims<NR, MR>, Dims<100, 10>, Dims<10, 100>, \
        Dims<784, 1000>, Dims<1000, 500>, Dims<500, 10>

TEST_CASE_TEMPLATE("dense_forward.matches_naive_linear_relu", D, CTNN_DENSE_SIZES) {
    for_each_arch([]<class Arch>() {
        for (std::size_t batch : batches_for(D::In, D::Out)) {
            CAPTURE(batch);
            check_forward<D::In, D::Out, ctnn::Linear, Arch>(batch, 0);
            check_forward<D::In, D::Out, ctnn::Relu, Arch>(batch, 1);
        }
    });
}

TEST_CASE_TEMPLATE("dense_forward.matches_naive_sigmoid_tanh_softmax", D, Dims<1, 1>, Dims<7, 3>, Dims<17, 33>,
                   Dims<MR + 1, NR - 1>, Dims<100, 10>, Dims<500, 10>) {
    for_each_arch([]<class Arch>() {
        for (std::size_t batch : batches_for(D::In, D::Out)) {
            CAPTURE(batch);
            check_forward<D::In, D::Out, ctnn::Sigmoid, Arch>(batch, 1);
            check_forward<D::In, D::Out, ctnn::Tanh, Arch>(batch, 0);
            check_forward<D::In, D::Out, ctnn::Softmax, Arch>(batch, 1);
        }
    });
}

TEST_CASE_TEMPLATE("dense_backward.matches_naive", D, CTNN_DENSE_SIZES) {
    for_each_arch([]<class Arch>() {
        for (std::size_t batch : batches_for(D::In, D::Out)) {
            CAPTURE(batch);
            check_backward<D::In, D::Out, Arch>(batch, 0);  // aligned
            check_backward<D::In, D::Out, Arch>(batch, 1);  // unaligned
        }
    });
}

TEST_CASE("dense_backward_weights.empty_batch_gives_zero_gradients") {
    std::vector<float> dw(6, 5.0f), db(3, 5.0f);
    dense_backward_weights<2, 3>(0, nullptr, nullptr, dw.data(), db.data());
    CHECK(std::all_of(dw.begin(), dw.end(), [](float v) { return v == 0.0f; }));
    CHECK(std::all_of(db.begin(), db.end(), [](float v) { return v == 0.0f; }));
}

TEST_CASE("dense.results_are_bit_identical_across_calls_and_thread_counts") {
    constexpr std::size_t In = 784, Out = 1000;
    for (std::size_t batch : {std::size_t{1}, std::size_t{3}, std::size_t{99}}) {
        CAPTURE(batch);
        Data x(batch * In, 1, 1), w(In * Out, 1, 2), bias(Out, 1, 3), dz(batch * Out, 1, 4);
        Data y1(batch * Out, 0, 5), y2(batch * Out, 0, 6), y3(batch * Out, 0, 7);
        Data dx1(batch * In, 0, 8), dx2(batch * In, 0, 9), dx3(batch * In, 0, 10);
        Data dw1(In * Out, 0, 11), dw2(In * Out, 0, 12), dw3(In * Out, 0, 13);
        Data db1(Out, 0, 14), db2(Out, 0, 15), db3(Out, 0, 16);
        auto all = [&](float* y, float* dx, float* dw, float* db) {
            dense_forward<In, Out, ctnn::Relu>(batch, x.p, w.p, bias.p, y);
            dense_backward_data<In, Out>(batch, dz.p, w.p, dx);
            dense_backward_weights<In, Out>(batch, x.p, dz.p, dw, db);
        };
        all(y1.p, dx1.p, dw1.p, db1.p);
        all(y2.p, dx2.p, dw2.p, db2.p);
        on_one_thread([&] { all(y3.p, dx3.p, dw3.p, db3.p); });
        // Plain checks, not SUBCASEs: doctest reruns the whole case once per subcase.
        CHECK_MESSAGE(same_bits(y1.p, y2.p, batch * Out), "y differs between two calls");
        CHECK_MESSAGE(same_bits(dx1.p, dx2.p, batch * In), "dx differs between two calls");
        CHECK_MESSAGE(same_bits(dw1.p, dw2.p, In * Out), "dw differs between two calls");
        CHECK_MESSAGE(same_bits(db1.p, db2.p, Out), "db differs between two calls");
        CHECK_MESSAGE(same_bits(y1.p, y3.p, batch * Out), "y differs on one thread");
        CHECK_MESSAGE(same_bits(dx1.p, dx3.p, batch * In), "dx differs on one thread");
        CHECK_MESSAGE(same_bits(dw1.p, dw3.p, In * Out), "dw differs on one thread");
        CHECK_MESSAGE(same_bits(db1.p, db3.p, Out), "db differs on one thread");
    }
}

}  // namespace kernels_test_dense_kernels
