// Model: fit / evaluate / predict with Keras semantics, determinism, and argument checking.
#include <doctest/doctest.h>

#include <cmath>
#include <sstream>

#include <ctnn/ctnn.hpp>
#include <xtensor/xview.hpp>

#include "helpers.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace model_test_model {

using namespace ctnn;

namespace {
struct Xor : Sequential<Dense<2, 16, Tanh>, Dense<16, 1, Sigmoid>> {};
struct Classifier : Sequential<Dense<4, 16, Relu>, Dropout<0.2>, Dense<16, 3, Softmax>> {};

// Three separable blobs in 4-D, one-hot targets.
struct Blobs {
    Matrix x, y;
    Labels labels;
};
Blobs make_blobs(std::size_t n, std::uint64_t seed) {
    Rng rng(seed);
    Blobs b{Matrix::from_shape({n, 4}), Matrix::from_shape({n, 3}), Labels::from_shape({n})};
    b.y.fill(0.0f);
    for (std::size_t i = 0; i < n; ++i) {
        const auto cls = static_cast<std::int32_t>(i % 3);
        for (std::size_t c = 0; c < 4; ++c) b.x(i, c) = rng.uniform(-0.5f, 0.5f) + (c == std::size_t(cls) ? 2.0f : 0.0f);
        b.y(i, std::size_t(cls)) = 1.0f;
        b.labels(i) = cls;
    }
    return b;
}
auto make_classifier() {
    return compile<Classifier>(optimizers::Adam{.learning_rate = 0.01f}, losses::CategoricalCrossentropy{},
                               metrics::Accuracy{});
}
}  // namespace

TEST_CASE("Model.learns_xor") {
    auto model = compile<Xor>(optimizers::Adam{.learning_rate = 0.05f}, losses::BinaryCrossentropy{}, metrics::Accuracy{});
    model.initialize(1);
    const Matrix x = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
    const Matrix y = {{0}, {1}, {1}, {0}};
    const History h = model.fit(x, y, {.epochs = 300, .batch_size = 4, .verbose = 0});
    CHECK(h.at("loss").back() < 0.05);
    CHECK(h.at("accuracy").back() == 1.0);
    const Matrix p = model.predict(x);
    CHECK(p(0, 0) < 0.1f);
    CHECK(p(1, 0) > 0.9f);
    CHECK(p(2, 0) > 0.9f);
    CHECK(p(3, 0) < 0.1f);
}

TEST_CASE("Model.history_like_keras") {
    const Blobs data = make_blobs(90, 3);
    const Blobs val = make_blobs(30, 4);
    auto model = make_classifier();
    const History h = model.fit(data.x, data.y,
                                {.epochs = 5, .batch_size = 32, .validation_data = {val.x, val.y}, .verbose = 0});
    CHECK(h.epoch == std::vector<std::size_t>{0, 1, 2, 3, 4});
    for (const char* key : {"loss", "accuracy", "val_loss", "val_accuracy"}) {
        INFO(key);
        REQUIRE(h.history.count(key) == 1);
        CHECK(h.at(key).size() == 5);
    }
    CHECK(h.history.size() == 4);
    CHECK(h.params.batch_size == 32);
    CHECK(h.params.epochs == 5);
    CHECK(h.params.samples == 90);
    CHECK(h.params.steps == 3);  // 32 + 32 + 26: the last partial batch is trained
    CHECK(h.params.do_validation);
    CHECK(h.params.metrics == std::vector<std::string>{"loss", "accuracy", "val_loss", "val_accuracy"});
    CHECK(h.at("loss").back() < h.at("loss").front());
    CHECK(h.at("val_accuracy").back() > 0.9);

    // evaluate on the validation set gives the last epoch's val_ numbers (no dropout in either).
    const auto score = model.evaluate(val.x, val.y);
    REQUIRE(score.size() == 2);
    CHECK(score[0] == doctest::Approx(h.at("val_loss").back()));
    CHECK(score[1] == doctest::Approx(h.at("val_accuracy").back()));
}

TEST_CASE("Model.sparse_labels_train_like_one_hot") {
    const Blobs data = make_blobs(60, 5);
    auto model = compile<Classifier>(optimizers::Adam{.learning_rate = 0.01f}, losses::SparseCategoricalCrossentropy{},
                                     metrics::Accuracy{});
    const History h = model.fit(data.x, data.labels, {.epochs = 10, .batch_size = 16, .verbose = 0});
    CHECK(h.at("accuracy").back() > 0.9);
    const auto score = model.evaluate(data.x, data.labels);
    CHECK(score[1] > 0.9);
}

TEST_CASE("Model.same_seed_same_weights_and_history") {
    const Blobs data = make_blobs(100, 8);
    auto train = [&](std::uint64_t seed) {
        auto model = make_classifier();
        model.initialize(seed);
        History h = model.fit(data.x, data.y, {.epochs = 3, .batch_size = 16, .validation_split = 0.2, .verbose = 0, .seed = seed});
        std::vector<float> weights;
        for (const Parameter* p : model.parameters()) weights.insert(weights.end(), p->value.begin(), p->value.end());
        return std::pair{h, weights};
    };
    const auto [h1, w1] = train(42);
    const auto [h2, w2] = train(42);
    const auto [h3, w3] = train(43);
    CHECK(w1 == w2);  // bit-identical
    CHECK(h1.history == h2.history);
    CHECK(w1 != w3);
}

TEST_CASE("Model.validation_split_takes_last_samples_before_shuffling") {
    Blobs data = make_blobs(50, 2);
    auto model = make_classifier();
    // Keras: split_at = ceil(50 * 0.8) = 40 training samples, the last 10 are validation.
    const History h = model.fit(data.x, data.y, {.epochs = 1, .batch_size = 8, .validation_split = 0.2, .verbose = 0});
    CHECK(h.params.samples == 40);
    CHECK(h.params.steps == 5);
    const Matrix last10 = xt::view(data.x, xt::range(40, 50), xt::all());
    const Matrix last10_y = xt::view(data.y, xt::range(40, 50), xt::all());
    const auto score = model.evaluate(last10, last10_y);
    CHECK(score[0] == doctest::Approx(h.at("val_loss").back()));
}

TEST_CASE("Model.predict_shape_and_batches_agree") {
    const Blobs data = make_blobs(37, 1);
    auto model = make_classifier();
    const Matrix a = model.predict(data.x, {.batch_size = 5});
    const Matrix b = model.predict(data.x, {.batch_size = 100});
    REQUIRE(a.shape(0) == 37);
    REQUIRE(a.shape(1) == 3);
    for (std::size_t i = 0; i < 37; ++i) {
        CHECK(a(i, 0) + a(i, 1) + a(i, 2) == doctest::Approx(1.0));
        for (std::size_t c = 0; c < 3; ++c) CHECK(a(i, c) == doctest::Approx(b(i, c)).epsilon(1e-6));
    }
}

TEST_CASE("Model.training_step_follows_the_gradient") {
    // One SGD step on one batch equals w − lr · (finite-difference gradient of the mean loss).
    struct Tiny : Sequential<Dense<3, 2, Softmax>> {};
    auto model = compile<Tiny>(optimizers::SGD{.learning_rate = 0.1f}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
    const Matrix x = {{0.5f, -1.0f, 2.0f}, {1.0f, 0.0f, -0.5f}};
    const Matrix y = {{1, 0}, {0, 1}};
    auto mean_loss = [&]() { return model.evaluate(x, y, {.batch_size = 2})[0]; };
    Parameter& kernel = *model.parameters()[0];
    std::vector<double> numeric(kernel.size());
    for (std::size_t k = 0; k < kernel.size(); ++k) {
        const float saved = kernel.value[k];
        kernel.value[k] = saved + 1e-3f;
        const double up = mean_loss();
        kernel.value[k] = saved - 1e-3f;
        const double down = mean_loss();
        kernel.value[k] = saved;
        numeric[k] = (up - down) / 2e-3;
    }
    const std::vector<float> before(kernel.value.begin(), kernel.value.end());
    model.fit(x, y, {.epochs = 1, .batch_size = 2, .shuffle = false, .verbose = 0});
    for (std::size_t k = 0; k < kernel.size(); ++k)
        CHECK(kernel.value[k] == doctest::Approx(before[k] - 0.1 * numeric[k]).epsilon(1e-3));
}

TEST_CASE("Model.batch_normalization_moving_statistics_follow_keras_and_no_optimizer") {
    // Dense -> BatchNormalization: after one step on one batch the moving statistics are exactly
    // momentum · initial + (1 − momentum) · the batch's mean and biased variance of the Dense
    // output (computed here by hand from the weights before the step), whatever the optimizer's
    // learning rate; evaluate and predict then normalize with them, not with the batch's.
    struct Normalized : Sequential<Dense<3, 2>, BatchNormalization, Activation<Softmax>> {};
    static_assert(Normalized::non_trainable_param_count == 4 && Normalized::trainable_param_count == 3 * 2 + 2 + 4);
    auto model = compile<Normalized>(optimizers::Adam{.learning_rate = 0.5f}, losses::CategoricalCrossentropy{},
                                     metrics::Accuracy{});
    model.initialize(3);
    const Matrix x = {{0.5f, -1.0f, 2.0f}, {1.0f, 0.0f, -0.5f}, {-2.0f, 1.5f, 0.25f}};
    const Matrix y = {{1, 0}, {0, 1}, {1, 0}};
    auto& dense = model.network().layer<0>();
    auto& norm = model.network().layer<1>();
    double mean[2] = {0, 0}, variance[2] = {0, 0};
    for (std::size_t c = 0; c < 2; ++c) {
        double z[3];
        for (std::size_t r = 0; r < 3; ++r) {
            z[r] = dense.bias.value[c];
            for (std::size_t i = 0; i < 3; ++i) z[r] += double(x(r, i)) * dense.kernel.value[i * 2 + c];
            mean[c] += z[r] / 3;
        }
        for (std::size_t r = 0; r < 3; ++r) variance[c] += (z[r] - mean[c]) * (z[r] - mean[c]) / 3;
    }
    model.fit(x, y, {.epochs = 1, .batch_size = 3, .shuffle = false, .verbose = 0});
    for (std::size_t c = 0; c < 2; ++c) {
        CHECK(norm.moving_mean.value[c] == doctest::Approx(0.01 * mean[c]).epsilon(1e-5));
        CHECK(norm.moving_variance.value[c] == doctest::Approx(0.99 + 0.01 * variance[c]).epsilon(1e-5));
    }
    // The trainable scale moved (Adam's first step is about ±lr); the statistics are not stepped.
    CHECK(std::fabs(norm.gamma.value[0] - 1.0f) > 0.1f);
    // Inference uses the moving statistics: at batch 1 the output is not the constant a batch of
    // one normalized by its own statistics would give (0 before the shift).
    const Matrix one = xt::view(x, xt::range(0, 1), xt::all());
    const Matrix p = model.predict(one);
    CHECK(p(0, 0) + p(0, 1) == doctest::Approx(1.0));
    auto& beta = norm.beta.value;
    const double logit_gap_training = double(beta[0]) - double(beta[1]);  // what a batch of one would give
    CHECK(std::fabs(std::log(p(0, 0) / p(0, 1)) - logit_gap_training) > 1e-3);
}

TEST_CASE("Model.rejects_bad_arguments_with_clear_messages") {
    auto model = make_classifier();
    const Blobs data = make_blobs(10, 1);
    auto message = [](auto&& f) {
        try {
            f();
        } catch (const std::invalid_argument& e) {
            return std::string(e.what());
        }
        return std::string("(no exception)");
    };
    const Matrix wrong_cols = Matrix::from_shape({10, 5});
    CHECK(message([&] { model.fit(wrong_cols, data.y, {.verbose = 0}); }) ==
          "fit(x, y): x has 5 columns, expected 4 (one sample of the network's input shape (None, 4), one row per sample)");
    const Matrix fewer_rows = xt::view(data.y, xt::range(0, 9), xt::all());
    CHECK(message([&] { model.fit(data.x, fewer_rows, {.verbose = 0}); }) ==
          "fit(x, y): x has 10 rows but y has 9; expected one target per sample");
    CHECK(message([&] { model.fit(data.x, data.y, {.batch_size = 0, .verbose = 0}); }) ==
          "fit: batch_size is 0; expected at least 1");
    CHECK(message([&] { model.fit(data.x, data.y, {.validation_split = 1.0, .verbose = 0}); })
              .find("validation_split is 1.000000; expected a fraction in [0, 1)") != std::string::npos);
    CHECK(message([&] { model.fit(data.x, data.y, {.validation_split = -0.1, .verbose = 0}); })
              .find("expected a fraction in [0, 1)") != std::string::npos);
    const Matrix empty = Matrix::from_shape({0, 4});
    const Matrix empty_y = Matrix::from_shape({0, 3});
    CHECK(message([&] { model.fit(empty, empty_y, {.verbose = 0}); }) ==
          "fit(x, y): x is empty (0 samples); expected at least one row");
    CHECK(message([&] { model.predict(wrong_cols); }).find("predict(x): x has 5 columns, expected 4") == 0);

    auto sparse = compile<Classifier>(optimizers::SGD{}, losses::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
    Labels bad = data.labels;
    bad(7) = 3;
    CHECK(message([&] { sparse.fit(data.x, bad, {.verbose = 0}); }) ==
          "fit(x, y): label 3 at row 7 is out of range; expected 0..2");
    bad(7) = -1;
    CHECK(message([&] { sparse.evaluate(data.x, bad); }).find("label -1 at row 7 is out of range") != std::string::npos);
}

TEST_CASE("Model.nan_inputs_give_nan_loss_not_a_crash") {
    Blobs data = make_blobs(8, 1);
    data.x(3, 2) = std::numeric_limits<float>::quiet_NaN();
    auto model = make_classifier();
    const History h = model.fit(data.x, data.y, {.epochs = 1, .batch_size = 8, .verbose = 0});
    CHECK(std::isnan(h.at("loss").back()));
}

// A convnet through the same fit / evaluate / predict: images 8x8x1 whose class is where a bright
// vertical bar is (left, middle or right third), under noise. A Dense on the pixels could learn it
// too; the point is that the conv, pooling and Flatten layers train together through fit.
struct BarNet : Sequential<Input<8, 8, 1>, Conv2D<4, 3, 3, Relu>, MaxPooling2D<2, 2>, Flatten, Dropout<0.2>,
                           Dense<36, 3, Softmax>> {};

TEST_CASE("Model.convnet_learns_through_fit_and_is_reproducible") {
    constexpr std::size_t samples = 240;
    Matrix x = Matrix::from_shape({samples, 64});
    Matrix y = xt::zeros<float>({samples, std::size_t{3}});
    Rng rng(5);
    for (std::size_t i = 0; i < samples; ++i) {
        const std::size_t label = i % 3, column = 1 + label * 3 - (label == 2 ? 1 : 0) + rng.next_u64() % 2;
        for (std::size_t p = 0; p < 64; ++p) x(i, p) = rng.uniform(0.0f, 0.3f) + (p % 8 == column ? 0.7f : 0.0f);
        y(i, label) = 1.0f;
    }
    auto train = [&](std::uint64_t seed) {
        auto model = compile<BarNet>(optimizers::Adam{.learning_rate = 0.01f}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
        model.initialize(seed);
        History h = model.fit(x, y, {.epochs = 8, .batch_size = 16, .validation_split = 0.25, .verbose = 0, .seed = seed});
        return std::pair{std::move(model), h};
    };
    auto [model, history] = train(1);
    REQUIRE(history.at("accuracy").size() == 8);
    CHECK(history.at("loss").back() < history.at("loss").front());
    CHECK(history.at("val_accuracy").back() >= 0.9);
    const auto score = model.evaluate(x, y);
    CHECK(score[1] >= 0.9);
    const Matrix p = model.predict(x, {.batch_size = 7});
    REQUIRE(p.shape(1) == 3);
    CHECK(p(0, 0) + p(0, 1) + p(0, 2) == doctest::Approx(1.0));
    auto [again, history_again] = train(1);
    CHECK(history_again.history == history.history);  // same seed, same thread count: bit-identical
    CHECK(again.predict(x, {.batch_size = 7}) == p);
}

}  // namespace model_test_model

namespace model_test_model {
// Keras scores a sequence output (Steps, Classes) per step: the loss is the mean cross-entropy over
// every step of every sample and the accuracy the fraction of steps whose argmax is right. Recomputed
// here from predict's probabilities, and a reversal task learned through fit.
TEST_CASE("Model.sequence_outputs_score_per_step_as_keras") {
    struct Reverse : Sequential<Input<4, 3>, LSTM<16>, RepeatVector<4>, GRU<16, return_sequences>, Dense<16, 3, Softmax>> {};
    constexpr std::size_t n = 96, T = 4, C = 3;
    Rng rng(5);
    Matrix x = Matrix::from_shape({n, T * C}), y = Matrix::from_shape({n, T * C});
    x.fill(0.0f);
    y.fill(0.0f);
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t t = 0; t < T; ++t) {
            const std::size_t token = rng.next_u64() % C;
            x(i, t * C + token) = 1.0f;
            y(i, (T - 1 - t) * C + token) = 1.0f;  // the sequence reversed
        }
    auto model = compile<Reverse>(optimizers::Adam{.learning_rate = 0.02f}, losses::CategoricalCrossentropy{},
                                  metrics::Accuracy{});
    const History h = model.fit(x, y, {.epochs = 30, .batch_size = 16, .verbose = 0, .seed = 3});
    CHECK(h.history.at("loss").back() < 0.5 * h.history.at("loss").front());

    const Matrix p = model.predict(x);
    REQUIRE(p.shape(1) == T * C);
    double loss = 0, right = 0;
    for (std::size_t i = 0; i < n; ++i)
        for (std::size_t t = 0; t < T; ++t) {
            std::size_t best = 0, want = 0;
            for (std::size_t c = 0; c < C; ++c) {
                if (p(i, t * C + c) > p(i, t * C + best)) best = c;
                if (y(i, t * C + c) == 1.0f) want = c;
            }
            loss -= std::log(double(p(i, t * C + want)));
            right += best == want;
        }
    const auto score = model.evaluate(x, y);
    CHECK(score[0] == doctest::Approx(loss / double(n * T)).epsilon(1e-4));
    CHECK(score[1] == doctest::Approx(right / double(n * T)).epsilon(1e-9));
    CHECK(score[1] > 0.9);  // it learned to reverse
}
}  // namespace model_test_model
