// Sequence layers: SimpleRNN, LSTM, GRU (return_sequences on and off), Embedding, RepeatVector and
// Dense on a sequence. Keras's shapes, names, parameter counts and initialisation; backward against
// central differences through every parameter and the input; Keras-layout weights loaded from an
// .npz and one step checked against the cell computed by hand; a bad token id is a clear error.
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

#include <ctnn/ctnn.hpp>

#include "helpers.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace layers_test_recurrent {

using namespace ctnn;

TEST_CASE("Recurrent.shapes_names_and_counts_are_keras") {
    using Lstm = LSTM<128>::bind<Shape<7, 12>>;
    using LstmSeq = LSTM<128, return_sequences>::bind<Shape<4, 128>>;
    using Gru = GRU<16>::bind<Shape<5, 12>>;
    using Simple = SimpleRNN<8, return_sequences>::bind<Shape<3, 4>>;
    static_assert(Layer<Lstm> && Layer<LstmSeq> && Layer<Gru> && Layer<Simple>);
    static_assert(std::is_same_v<Lstm::output_shape, Shape<128>> && std::is_same_v<LstmSeq::output_shape, Shape<4, 128>>);
    static_assert(std::is_same_v<Simple::output_shape, Shape<3, 8>>);
    // Keras: LSTM 4·(u·(in + u) + u), GRU (reset_after) 3·(u·(in + u) + 2u), SimpleRNN u·(in + u) + u.
    static_assert(Lstm::param_count == 72'192 && LstmSeq::param_count == 131'584);
    static_assert(Gru::param_count == 3 * (16 * (12 + 16) + 2 * 16));
    static_assert(Simple::param_count == 8 * (4 + 8) + 8);
    static_assert(Lstm::kind == "lstm" && Gru::kind == "gru" && Simple::kind == "simple_rnn");
    static_assert(Lstm::type_name == "LSTM" && Gru::type_name == "GRU" && Simple::type_name == "SimpleRNN");

    using Emb = Embedding<1000, 64>::bind<Shape<20>>;
    static_assert(Layer<Emb> && std::is_same_v<Emb::output_shape, Shape<20, 64>> && Emb::param_count == 64'000);
    using Repeat = RepeatVector<4>::bind<Shape<128>>;
    static_assert(std::is_same_v<Repeat::output_shape, Shape<4, 128>> && Repeat::kind == "repeat_vector");

    // The keras.io addition example: 205,324 parameters, Dense applied to every step.
    using Addition = Sequential<Input<7, 12>, LSTM<128>, RepeatVector<4>, LSTM<128, return_sequences>, Dense<128, 12, Softmax>>;
    static_assert(Addition::param_count == 205'324);
    static_assert(std::is_same_v<Addition::output_shape, Shape<4, 12>>);
}

TEST_CASE("Recurrent.initialisation_is_keras") {
    LSTM<8>::bind<Shape<3, 5>> lstm;
    Rng rng(3);
    lstm.initialize(rng);
    // Forget-gate bias 1 (unit_forget_bias), every other bias 0.
    for (std::size_t j = 0; j < 32; ++j) CHECK(lstm.bias.value[j] == (j >= 8 && j < 16 ? 1.0f : 0.0f));
    // Orthogonal recurrent kernel (8, 32): its rows are orthonormal.
    for (std::size_t a = 0; a < 8; ++a)
        for (std::size_t b = 0; b < 8; ++b) {
            double dot = 0;
            for (std::size_t j = 0; j < 32; ++j)
                dot += double(lstm.recurrent_kernel.value[a * 32 + j]) * lstm.recurrent_kernel.value[b * 32 + j];
            CHECK(dot == doctest::Approx(a == b ? 1.0 : 0.0).epsilon(1e-5));
        }
    // Glorot-uniform kernel (5, 32): inside ±sqrt(6 / 37).
    const float limit = std::sqrt(6.0f / 37.0f);
    for (float w : lstm.kernel.value) CHECK(std::fabs(w) <= limit);
    CHECK(lstm.bias.shape[0] == 32);
    GRU<4>::bind<Shape<2, 3>> gru;
    CHECK(gru.bias.rank == 2);  // Keras's (2, 3·units): input bias row, recurrent bias row
    CHECK(gru.bias.shape[0] == 2);
    CHECK(gru.bias.shape[1] == 12);
}

// Every parameter and the input of each recurrent layer against central differences of Σ g ⊙ y.
template <class L> void check_gradients(std::size_t batch, std::uint64_t seed) {
    L layer;
    const auto check = testing::check_layer_gradients(layer, batch, Phase::training, seed);
    INFO(L::type_name << " " << batch_shape_text<typename L::output_shape>() << ": " << check.log);
    CHECK(static_cast<bool>(check));
    CHECK(check.checked > 0);
}

TEST_CASE("Recurrent.backward_matches_finite_differences") {
    check_gradients<SimpleRNN<5>::bind<Shape<4, 3>>>(3, 1);
    check_gradients<SimpleRNN<5, return_sequences>::bind<Shape<4, 3>>>(3, 2);
    check_gradients<LSTM<5>::bind<Shape<4, 3>>>(3, 3);
    check_gradients<LSTM<5, return_sequences>::bind<Shape<4, 3>>>(3, 4);
    check_gradients<GRU<5>::bind<Shape<4, 3>>>(3, 5);
    check_gradients<GRU<5, return_sequences>::bind<Shape<4, 3>>>(3, 6);
    check_gradients<LSTM<17, return_sequences>::bind<Shape<3, 2>>>(2, 7);  // units past a vector
    check_gradients<RepeatVector<3>::bind<Shape<4>>>(2, 8);
    check_gradients<detail::LastAxisLayer<Shape<3, 4>, Dense<4, 5, Tanh>>>(2, 9);
}

TEST_CASE("Recurrent.dense_on_a_sequence_is_dense_on_every_step") {
    using Net = Sequential<Input<3, 4>, Dense<4, 2, Tanh>>;
    static_assert(std::is_same_v<Net::output_shape, Shape<3, 2>> && Net::param_count == 4 * 2 + 2);
    Net net;
    Rng rng(4);
    net.initialize(rng);
    typename Net::Workspace ws;
    ws.reserve(2);
    const std::vector<float> x = testing::random_vector(2 * 12, rng);
    net.forward(x.data(), ws, {2, Phase::inference, nullptr});
    const auto& dense = net.template layer<0>();
    for (std::size_t row = 0; row < 6; ++row)
        for (std::size_t o = 0; o < 2; ++o) {
            double z = dense.bias.value[o];
            for (std::size_t i = 0; i < 4; ++i) z += double(x[row * 4 + i]) * dense.kernel.value[i * 2 + o];
            CHECK(ws.output()[row * 2 + o] == doctest::Approx(std::tanh(z)).epsilon(1e-5));
        }
}

TEST_CASE("Embedding.lookup_gradient_and_bad_ids") {
    Embedding<5, 2>::bind<Shape<3>> layer;
    Rng rng(1);
    layer.initialize(rng);
    for (float w : layer.embeddings.value) CHECK(std::fabs(w) <= 0.05f);  // Keras's uniform(−0.05, 0.05)
    for (std::size_t k = 0; k < 10; ++k) layer.embeddings.value[k] = float(k);  // row id = (2id, 2id + 1)
    const float ids[6] = {4, 0, 4, 1.9f, 3, 0};  // 1.9 truncates to 1, as Keras's cast
    float y[12];
    layer.forward(ids, y, {2, Phase::training, nullptr});
    const float want[12] = {8, 9, 0, 1, 8, 9, 2, 3, 6, 7, 0, 1};
    for (int k = 0; k < 12; ++k) CHECK(y[k] == want[k]);
    // d embeddings: each row the sum of dy over the steps that read it.
    float dy[12], dx[6] = {7, 7, 7, 7, 7, 7};
    for (int k = 0; k < 12; ++k) dy[k] = float(k + 1);
    layer.backward(ids, y, dy, dx, 2, false);
    const float want_grad[10] = {3 + 11, 4 + 12, 7, 8, 0, 0, 9, 10, 1 + 5, 2 + 6};
    for (int k = 0; k < 10; ++k) CHECK(layer.embeddings.gradient[k] == want_grad[k]);
    for (float d : dx) CHECK(d == 0.0f);  // ids have no gradient

    for (const float bad : {5.0f, -1.0f, std::nanf("")}) {
        const float bad_ids[3] = {1, bad, 2};
        try {
            layer.forward(bad_ids, y, {1, Phase::inference, nullptr});
            FAIL("no error for id " << bad);
        } catch (const std::out_of_range& e) {
            const std::string what = e.what();
            CHECK(what.find("Embedding<5, 2>") != std::string::npos);
            CHECK(what.find("sample 0, step 1") != std::string::npos);
            CHECK(what.find("[0, 5)") != std::string::npos);
        }
    }
}

// Keras's layout on disk (lstm/kernel (F, 4U), lstm/recurrent_kernel (U, 4U), lstm/bias (4U), gates
// i, f, c, o) loaded through load_weights, then two steps computed by hand with Keras's formulas.
TEST_CASE("Recurrent.keras_layout_weights_give_the_hand_computed_cell") {
    using Net = Sequential<Input<2, 1>, LSTM<1>>;
    auto model = compile<Net>(optimizers::SGD{}, losses::MeanSquaredError{});
    const std::vector<NamedArray> keras = {
        {"lstm/kernel", {1, 4}, {0.5f, -0.3f, 0.8f, 0.2f}},
        {"lstm/recurrent_kernel", {1, 4}, {0.1f, 0.4f, -0.7f, 0.6f}},
        {"lstm/bias", {4}, {0.0f, 1.0f, 0.0f, 0.0f}},
    };
    testing::TempDir dir;
    io::save_npz(dir.path / "keras_lstm.npz", keras);
    model.load_weights(dir.path / "keras_lstm.npz");
    const Matrix x = Matrix::from_shape({1, 2});
    Matrix input = x;
    input(0, 0) = 0.7f;
    input(0, 1) = -0.4f;
    const Matrix y = model.predict(input);

    const auto sigmoid = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
    double h = 0, c = 0;
    for (double xt : {0.7, -0.4}) {
        const double i = sigmoid(xt * 0.5 + h * 0.1), f = sigmoid(xt * -0.3 + h * 0.4 + 1.0),
                     g = std::tanh(xt * 0.8 + h * -0.7), o = sigmoid(xt * 0.2 + h * 0.6);
        c = f * c + i * g;
        h = o * std::tanh(c);
    }
    CHECK(y(0, 0) == doctest::Approx(h).epsilon(1e-6));
}

}  // namespace layers_test_recurrent
