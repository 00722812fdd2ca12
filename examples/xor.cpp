// examples/xor.cpp — the smallest complete ctnn program: learn XOR in well under a second.
//
// Goal:    show the whole API (a network type, compile, fit, predict) on four samples.
// Data:    the XOR truth table, written inline.
// Run:     build/examples/xor          (also registered as a test: it exits non-zero if XOR is not learnt)
#include <cstdio>
#include <exception>

#include <ctnn/ctnn.hpp>

using namespace ctnn;

// The network is a type: 2 inputs -> 8 tanh units -> 1 sigmoid output. (2·8+8) + (8·1+1) = 33 parameters.
struct XorNet : Sequential<Dense<2, 8, Tanh>,      // (B, 2) -> (B, 8)
                           Dense<8, 1, Sigmoid>>  // (B, 8) -> (B, 1)
{};
static_assert(XorNet::param_count == 33);

int main() try {
    // Binary cross-entropy on a sigmoid output; Adam with a larger step than Keras's default, since
    // four samples give a clean gradient.
    auto model = compile<XorNet>(optimizers::Adam{.learning_rate = 0.05f}, losses::BinaryCrossentropy{},
                                 metrics::Accuracy{});
    model.initialize(/*seed=*/1);

    const Matrix x = {{0, 0}, {0, 1}, {1, 0}, {1, 1}};
    const Matrix y = {{0}, {1}, {1}, {0}};

    // verbose 0: no progress bar; History keeps the per-epoch loss and accuracy.
    const History history = model.fit(x, y, {.epochs = 500, .batch_size = 4, .verbose = 0});
    const Matrix p = model.predict(x);
    for (std::size_t i = 0; i < 4; ++i)
        std::printf("xor(%g, %g) = %.3f (want %g)\n", double(x(i, 0)), double(x(i, 1)), double(p(i, 0)), double(y(i, 0)));
    std::printf("final loss %.4f, accuracy %.2f\n", history.at("loss").back(), history.at("accuracy").back());
    return history.at("accuracy").back() == 1.0 ? 0 : 1;
} catch (const std::exception& e) {
    std::fprintf(stderr, "xor: %s\n", e.what());
    return 2;
}
