// examples/addition_rnn.hpp — the questions and the network of examples/addition_rnn.cpp (Keras's "Sequence to
// sequence learning for performing addition"); in their own header so that benchmarks/versus_ctnn_addition.cpp
// times exactly the example's network on exactly its data.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include <ctnn/ctnn.hpp>

namespace examples::addition {

using ctnn::Matrix;

// Keras's CharacterTable: its characters are sorted(set("0123456789+ ")), so the space is 0, '+' is 1 and the
// digits 0..9 are 2..11 (one-hot rows of 12).
inline constexpr std::string_view characters = " +0123456789";
inline constexpr std::size_t alphabet = characters.size();
inline constexpr std::size_t training_size = 50'000;  // Keras's TRAINING_SIZE: distinct questions drawn
inline constexpr std::size_t units = 128;             // the recurrent layers' width

constexpr std::size_t query_length(std::size_t digits) { return digits + 1 + digits; }  // Keras's MAXLEN: "345+678"
constexpr std::size_t answer_length(std::size_t digits) { return digits + 1; }          // 999+999 = 1998

// The questions there are: sorted pairs (a, b) of numbers below 10^digits. Only 5,050 for 2 digits.
constexpr std::uint64_t distinct_questions(std::size_t digits) {
    std::uint64_t n = 1;
    for (std::size_t i = 0; i < digits; ++i) n *= 10;
    return n * (n + 1) / 2;
}

// One-hot rows, one per character of `text`, written over `row` (text.size() · 12 floats).
inline void encode(std::string_view text, float* row) {
    std::fill_n(row, text.size() * alphabet, 0.0f);
    for (std::size_t i = 0; i < text.size(); ++i) row[i * alphabet + characters.find(text[i])] = 1.0f;
}

// The most likely character of each of `steps` rows of 12 (one-hot inputs, targets or predicted probabilities).
inline std::string decode(const float* row, std::size_t steps) {
    std::string text(steps, ' ');
    for (std::size_t t = 0; t < steps; ++t) {
        const float* p = row + t * alphabet;
        text[t] = characters[static_cast<std::size_t>(std::max_element(p, p + alphabet) - p)];
    }
    return text;
}

struct Split {
    Matrix x, y;  // x: (n, MAXLEN · 12), each query reversed; y: (n, (DIGITS + 1) · 12), the answers
};
struct Questions {
    std::size_t digits;
    Split train, validation;
};

// Keras's data: `count` distinct questions (all there are when fewer), drawn as Keras's example draws them —
// a and b each int() of 1..digits random digits, a question skipped when its sorted pair (a, b) was drawn
// already — the query "a+b" padded with spaces to MAXLEN and reversed, the answer str(a + b) padded to
// DIGITS + 1; then shuffled (later draws are mostly large numbers, the small ones being used up) and the last
// n / 10 set apart for validation, never trained on. One ctnn::Rng stream from `seed` draws it all.
inline Questions generate(std::size_t digits, std::uint64_t seed, std::size_t count = training_size) {
    if (digits < 1 || digits > 9)
        throw std::invalid_argument("addition: digits must be 1..9, got " + std::to_string(digits));
    const std::size_t maxlen = query_length(digits), answer = answer_length(digits);
    if (distinct_questions(digits) < count) count = static_cast<std::size_t>(distinct_questions(digits));
    ctnn::Rng rng(seed);
    const auto number = [&] {
        std::uint64_t value = 0;
        for (std::uint64_t i = 0, n = 1 + rng.below(digits); i < n; ++i) value = 10 * value + rng.below(10);
        return value;
    };
    std::uint64_t limit = 1;
    for (std::size_t i = 0; i < digits; ++i) limit *= 10;
    std::unordered_set<std::uint64_t> seen;
    std::vector<std::pair<std::string, std::string>> questions;  // (query reversed, answer)
    questions.reserve(count);
    while (questions.size() < count) {
        const std::uint64_t a = number(), b = number();
        if (!seen.insert(std::min(a, b) * limit + std::max(a, b)).second) continue;
        std::string query = std::to_string(a) + "+" + std::to_string(b);
        query.resize(maxlen, ' ');
        std::string sum = std::to_string(a + b);
        sum.resize(answer, ' ');
        questions.emplace_back(std::string(query.rbegin(), query.rend()), std::move(sum));
    }
    std::vector<std::size_t> order(count);
    std::iota(order.begin(), order.end(), std::size_t{0});
    rng.shuffle(order.begin(), order.end());

    const std::size_t train_count = count - count / 10;  // Keras's split_at = len(x) - len(x) // 10
    const auto rows = [&](std::size_t first, std::size_t n) {
        Split s{Matrix::from_shape({n, maxlen * alphabet}), Matrix::from_shape({n, answer * alphabet})};
        for (std::size_t i = 0; i < n; ++i) {
            const auto& [query, sum] = questions[order[first + i]];
            encode(query, s.x.data() + i * maxlen * alphabet);
            encode(sum, s.y.data() + i * answer * alphabet);
        }
        return s;
    };
    return {digits, rows(0, train_count), rows(train_count, count - train_count)};
}

// The network, with the recurrent layer as a policy: Layers::Last<U> gives the last state (Shape<U>),
// Layers::Sequence<U> every step's (Shape<Steps, U>).
struct LstmLayers {
    template <std::size_t U> using Last = ctnn::LSTM<U>;
    template <std::size_t U> using Sequence = ctnn::LSTM<U, ctnn::return_sequences>;
};
struct GruLayers {  // Keras's GRU(reset_after=True), its default
    template <std::size_t U> using Last = ctnn::GRU<U>;
    template <std::size_t U> using Sequence = ctnn::GRU<U, ctnn::return_sequences>;
};
struct SimpleRnnLayers {
    template <std::size_t U> using Last = ctnn::SimpleRNN<U>;
    template <std::size_t U> using Sequence = ctnn::SimpleRNN<U, ctnn::return_sequences>;
};

// Keras's model: the reversed query (MAXLEN steps of 12) encoded by an LSTM into its last state, that state
// repeated DIGITS + 1 times as the decoder's input, the decoder's state at every step, and at every step a
// softmax over the 12 characters (Dense on the last axis, as Keras's Dense on a sequence). Shapes for 3 digits:
template <class Layers, std::size_t Digits>
struct Network : ctnn::Sequential<ctnn::Input<query_length(Digits), alphabet>,       // (B, 7, 12)
                                  typename Layers::template Last<units>,             // (B, 128)
                                  ctnn::RepeatVector<answer_length(Digits)>,         // (B, 4, 128)
                                  typename Layers::template Sequence<units>,         // (B, 4, 128)
                                  ctnn::Dense<units, alphabet, ctnn::Softmax>>       // (B, 4, 12)
{};
// An LSTM of u units on f features has 4·(u·(f + u) + u) parameters (4 gates, each a kernel, a recurrent kernel
// and a bias): 4·(128·(12 + 128) + 128) = 72,192 and 4·(128·(128 + 128) + 128) = 131,584; the Dense
// 128·12 + 12 = 1,548. 205,324 in all, Keras's summary for the example (its count does not depend on DIGITS).
static_assert(Network<LstmLayers, 3>::param_count == 4 * (128 * (12 + 128) + 128) + 4 * (128 * 256 + 128) + 1'548);
static_assert(Network<LstmLayers, 3>::param_count == 205'324);
// Keras's GRU (reset_after) has two biases per gate: 3·(128·140 + 2·128) + 3·(128·256 + 2·128) + 1,548; the
// SimpleRNN one gate with one bias: 128·140 + 128 + 128·256 + 128 + 1,548.
static_assert(Network<GruLayers, 3>::param_count == 155'148);
static_assert(Network<SimpleRnnLayers, 3>::param_count == 52'492);

// FLOPs of one training step per question (a multiply-add = 2; the gates' elementwise work, the softmax and
// Adam not counted): the forward products of both recurrent layers and of the Dense on every output step,
// the same again for the weight gradients, and the input gradients of all but the encoder's inputs (its
// gradient through the recurrent kernel is counted). As pytorch_addition.py's train_flop_per_sample.
constexpr double train_flop_per_sample(std::size_t gates, std::size_t digits) {
    const double g = double(gates), u = double(units), f = double(alphabet);
    const double in_steps = double(query_length(digits)), out_steps = double(answer_length(digits));
    const double encoder_x = in_steps * g * u * f, encoder_h = in_steps * g * u * u;
    const double decoder = out_steps * g * u * (u + u), dense = out_steps * u * f;
    const double forward = encoder_x + encoder_h + decoder + dense;
    return 2 * (3 * forward - encoder_x);
}
static_assert(train_flop_per_sample(4, 3) == 6'107'136.0);

// Calls fn.template operator()<Network<Layers, Digits>>() for the recurrent layer named `rnn` ("lstm", "gru",
// "simple"): one instantiation per kind, chosen at run time.
template <std::size_t Digits, class Fn> decltype(auto) with_network(std::string_view rnn, Fn&& fn) {
    if (rnn == "lstm") return fn.template operator()<Network<LstmLayers, Digits>>();
    if (rnn == "gru") return fn.template operator()<Network<GruLayers, Digits>>();
    if (rnn == "simple") return fn.template operator()<Network<SimpleRnnLayers, Digits>>();
    throw std::invalid_argument("--rnn: expected lstm, gru or simple, got '" + std::string(rnn) + "'");
}

constexpr std::size_t gates(std::string_view rnn) { return rnn == "lstm" ? 4 : rnn == "gru" ? 3 : 1; }

}  // namespace examples::addition
