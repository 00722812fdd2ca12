// benchmarks/versus_ctnn_addition.cpp — the ctnn half of the sequence comparison: examples/addition_rnn.cpp's
// encoder-decoder (Keras's addition seq2seq, two LSTMs of 128) measured with exactly the protocol of
// benchmarks/pytorch_addition.py (same question generator, batch sizes, warm-up and timed steps, medians of the
// same repeats), printed as one JSON object for compare_pytorch.py --model addition. Threads: OMP_NUM_THREADS
// (the driver tries each setting).
//
// Data: examples/addition_rnn.hpp's 50,000 questions of 3 digits from seed 0: the first 45,000 train (the epoch
// at batch 32 and the steps at 128 and 32), the 5,000 validation questions are predicted one by one.
//
// Run: build/benchmarks/versus_ctnn_addition [--rnn lstm|gru|simple] [--epoch-repeats 2]
//      (normally through compare.sh --model addition)
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <stdexcept>
#include <string>

#include <ctnn/ctnn.hpp>

#include "../examples/addition_rnn.hpp"
#include "peak.hpp"
#include "protocol.hpp"

using namespace ctnn;
namespace addition = examples::addition;

int main(int argc, char** argv) try {
    std::string rnn = "lstm";
    std::size_t epoch_repeats = 2;
    for (int i = 1; i < argc; ++i) {
        if (std::strcmp(argv[i], "--rnn") == 0 && i + 1 < argc) rnn = argv[++i];
        else if (std::strcmp(argv[i], "--epoch-repeats") == 0 && i + 1 < argc)
            epoch_repeats = std::strtoul(argv[++i], nullptr, 10);
        else throw std::invalid_argument(std::string("unknown argument '") + argv[i] +
                                         "'; usage: versus_ctnn_addition [--rnn lstm|gru|simple] [--epoch-repeats N]");
    }
    constexpr std::size_t digits = 3;
    const addition::Questions data = addition::generate(digits, 0);
    return addition::with_network<digits>(rnn, [&]<class Net>() {
        auto model = compile<Net>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
        model.initialize(0);
        // The protocol of pytorch_addition.py (keep the two in step): 20 warm-up steps and 2 whole epochs at
        // batch 32, 10 + 100 steps at batch 128 and 32, 100 + 1000 batch-1 predicts.
        bench::measure_model(model,
                             {.name = "addition",
                              .train_flop_per_sample = addition::train_flop_per_sample(addition::gates(rnn), digits),
                              .epoch_warmup_steps = 20,
                              .epoch_repeats = epoch_repeats,
                              .step_warmup = 10,
                              .step_timed = 100,
                              .latency_warmup = 100,
                              .latency_calls = 1000,
                              .batch = 32,
                              .extra_json = "\"rnn\": \"" + rnn + "\", \"digits\": 3, "},
                             data.train.x, data.train.y, data.validation.x);
        return 0;
    });
} catch (const std::exception& e) {
    std::fprintf(stderr, "versus_ctnn_addition: %s\n", e.what());
    return 1;
}
