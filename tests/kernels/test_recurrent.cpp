// Tests of kernels/recurrent.hpp: SimpleRNN, LSTM and GRU forward and backpropagation through time
// against their naive twins in kernels/reference_recurrent.hpp (per-sample loops in double), for
// every arch this build contains, with return_sequences on and off, at batch sizes on both sides of
// the GEMMs' small-batch paths and unit counts around the vector widths; a one-step LSTM and GRU
// computed by hand; and the promise of one summation order (the same bits on one thread and on all).
#include <cmath>
#include <cstddef>
#include <cstring>
#include <vector>

#include <doctest/doctest.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "ctnn/core/random.hpp"
#include "ctnn/core/tensor.hpp"
#include "ctnn/kernels/recurrent.hpp"
#include "ctnn/kernels/reference_recurrent.hpp"
#include "for_each_arch.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace kernels_test_recurrent {

namespace {

using namespace ctnn::kernels;
using reference::recurrent_cell;
using ctnn::testing::for_each_arch;

template <recurrent_cell C> struct cell_of;
template <> struct cell_of<recurrent_cell::simple> { using type = SimpleRnnCell; };
template <> struct cell_of<recurrent_cell::lstm> { using type = LstmCell; };
template <> struct cell_of<recurrent_cell::gru> { using type = GruCell; };

std::vector<float> random_floats(std::size_t n, ctnn::Rng& rng, float scale) {
    std::vector<float> v(n);
    for (auto& x : v) x = rng.uniform(-scale, scale);
    return v;
}

// |got − want| <= abs + rel·|want| everywhere (the first few failures printed).
std::size_t count_mismatches(const char* what, const float* got, const std::vector<float>& want, double abs, double rel) {
    std::size_t bad = 0;
    for (std::size_t i = 0; i < want.size(); ++i)
        if (!(std::abs(double(got[i]) - double(want[i])) <= abs + rel * std::abs(double(want[i]))) && bad++ < 5)
            FAIL_CHECK(what << "[" << i << "] = " << got[i] << ", expected " << want[i]);
    return bad;
}

template <recurrent_cell Kind, std::size_t T, std::size_t F, std::size_t U, bool Sequences, class Arch>
void check_against_naive(std::size_t batch, std::uint64_t seed) {
    using Cell = typename cell_of<Kind>::type;
    constexpr std::size_t GU = Cell::gates * U, bias_size = Cell::recurrent_bias ? 2 * GU : GU;
    constexpr std::size_t out_size = Sequences ? T * U : U;
    INFO("cell " << int(Kind) << " T=" << T << " F=" << F << " U=" << U << " sequences=" << Sequences
                 << " batch=" << batch);
    ctnn::Rng rng(seed);
    const auto x = random_floats(batch * T * F, rng, 1.0f), kernel = random_floats(F * GU, rng, 0.5f),
               recurrent = random_floats(U * GU, rng, 0.5f), bias = random_floats(bias_size, rng, 0.5f),
               dy = random_floats(batch * out_size, rng, 1.0f);

    std::vector<float> want_y(batch * out_size), want_dk(F * GU), want_dr(U * GU), want_db(bias_size),
        want_dx(batch * T * F);
    reference::recurrent_forward_naive<Kind, T, F, U, Sequences>(batch, x.data(), kernel.data(), recurrent.data(),
                                                                 bias.data(), want_y.data());
    reference::recurrent_backward_naive<Kind, T, F, U, Sequences>(batch, x.data(), dy.data(), kernel.data(),
                                                                  recurrent.data(), bias.data(), want_dk.data(),
                                                                  want_dr.data(), want_db.data(), want_dx.data());

    recurrent_workspace<Cell, T, F, U> ws;
    ws.reserve(batch);
    std::vector<float> y(batch * out_size), dk(F * GU), dr(U * GU), db(bias_size), dx(batch * T * F);
    recurrent_forward<Cell, T, F, U, Sequences, Arch>(batch, x.data(), kernel.data(), recurrent.data(), bias.data(),
                                                      ws, y.data());
    std::vector<float> d = dy;
    recurrent_backward<Cell, T, F, U, Sequences, Arch>(batch, d.data(), kernel.data(), recurrent.data(), ws, dk.data(),
                                                       dr.data(), db.data(), dx.data());
    // float against double through T steps of tanh/sigmoid (xsimd's to ~2 ulp) and sums of ~U terms
    CHECK(count_mismatches("y", y.data(), want_y, 2e-5, 1e-4) == 0);
    CHECK(count_mismatches("dkernel", dk.data(), want_dk, 1e-4, 1e-4) == 0);
    CHECK(count_mismatches("drecurrent_kernel", dr.data(), want_dr, 1e-4, 1e-4) == 0);
    CHECK(count_mismatches("dbias", db.data(), want_db, 1e-4, 1e-4) == 0);
    CHECK(count_mismatches("dx", dx.data(), want_dx, 1e-4, 1e-4) == 0);
}

template <recurrent_cell Kind, class Arch> void check_cell() {
    // batch 1 and 3: the GEMMs' small-batch paths; 13 and 70: the packed ones (T·B rows past 64).
    for (std::size_t batch : {1u, 3u, 13u, 70u}) {
        check_against_naive<Kind, 4, 3, 5, false, Arch>(batch, 10 + batch);
        check_against_naive<Kind, 4, 3, 5, true, Arch>(batch, 20 + batch);
    }
    check_against_naive<Kind, 3, 12, 17, true, Arch>(9, 31);  // units past one AVX-512 vector
    check_against_naive<Kind, 6, 7, 32, false, Arch>(33, 32);
    check_against_naive<Kind, 1, 2, 1, false, Arch>(2, 33);  // one step, one unit: all scalar tails
}

TEST_CASE("Recurrent.kernels_match_naive_twins_on_every_arch") {
    for_each_arch([]<class Arch>() {
        check_cell<recurrent_cell::simple, Arch>();
        check_cell<recurrent_cell::lstm, Arch>();
        check_cell<recurrent_cell::gru, Arch>();
    });
}

// One step, one unit, one feature, written out with Keras's formulas (independent of both twins).
TEST_CASE("Recurrent.one_step_by_hand") {
    const auto sigmoid = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
    const float x = 0.7f;
    {  // LSTM: kernel (1, 4) i f c o, recurrent (1, 4) unused at h = 0, bias (4)
        const float kernel[4] = {0.5f, -0.3f, 0.8f, 0.2f}, recurrent[4] = {9, 9, 9, 9}, bias[4] = {0.1f, 1.0f, -0.2f, 0.0f};
        recurrent_workspace<LstmCell, 1, 1, 1> ws;
        ws.reserve(1);
        float y = 0;
        recurrent_forward<LstmCell, 1, 1, 1, false>(1, &x, kernel, recurrent, bias, ws, &y);
        const double i = sigmoid(0.7 * 0.5 + 0.1), g = std::tanh(0.7 * 0.8 - 0.2), o = sigmoid(0.7 * 0.2);
        const double c = i * g;  // f · c_{-1} = 0
        CHECK(y == doctest::Approx(o * std::tanh(c)).epsilon(1e-6));
    }
    {  // GRU (reset_after): kernel (1, 3) z r h, bias (2, 3): input row, recurrent row
        const float kernel[3] = {0.4f, -0.6f, 0.9f}, recurrent[3] = {9, 9, 9}, bias[6] = {0.1f, 0.2f, 0.3f, -0.1f, 0.05f, 0.5f};
        recurrent_workspace<GruCell, 1, 1, 1> ws;
        ws.reserve(1);
        float y = 0;
        recurrent_forward<GruCell, 1, 1, 1, false>(1, &x, kernel, recurrent, bias, ws, &y);
        const double z = sigmoid(0.7 * 0.4 + 0.1 - 0.1), r = sigmoid(0.7 * -0.6 + 0.2 + 0.05);
        const double hh = std::tanh(0.7 * 0.9 + 0.3 + r * 0.5);  // h_{-1} = 0: the recurrent product is its bias
        CHECK(y == doctest::Approx((1.0 - z) * hh).epsilon(1e-6));
    }
}

// The sums never depend on the number of threads: one thread and all give the same bits.
TEST_CASE("Recurrent.same_bits_on_one_thread_and_on_all") {
    constexpr std::size_t T = 5, F = 12, U = 64, GU = 4 * U, B = 40;
    ctnn::Rng rng(7);
    const auto x = random_floats(B * T * F, rng, 1.0f), kernel = random_floats(F * GU, rng, 0.3f),
               recurrent = random_floats(U * GU, rng, 0.3f), bias = random_floats(GU, rng, 0.3f),
               dy = random_floats(B * T * U, rng, 1.0f);
    auto run = [&](bool one_thread) {
#ifdef _OPENMP
        const int threads = omp_get_max_threads();
        if (one_thread) omp_set_num_threads(1);
#endif
        recurrent_workspace<LstmCell, T, F, U> ws;
        ws.reserve(B);
        std::vector<float> out(B * T * U + F * GU + U * GU + GU + B * T * F);
        float* y = out.data();
        float* dk = y + B * T * U;
        float* dr = dk + F * GU;
        float* db = dr + U * GU;
        float* dx = db + GU;
        recurrent_forward<LstmCell, T, F, U, true>(B, x.data(), kernel.data(), recurrent.data(), bias.data(), ws, y);
        std::vector<float> d = dy;
        recurrent_backward<LstmCell, T, F, U, true>(B, d.data(), kernel.data(), recurrent.data(), ws, dk, dr, db, dx);
#ifdef _OPENMP
        omp_set_num_threads(threads);
#else
        (void)one_thread;
#endif
        return out;
    };
    const auto one = run(true), all = run(false);
    CHECK(std::memcmp(one.data(), all.data(), one.size() * sizeof(float)) == 0);
}

}  // namespace

}  // namespace kernels_test_recurrent
