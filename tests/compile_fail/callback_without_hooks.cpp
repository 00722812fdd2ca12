// User mistake: a callback whose hook is misspelled (on_epoch_ends), so it has no hook at all.
// expect: every callback needs at least one hook
#include <ctnn/ctnn.hpp>
using namespace ctnn;
struct Net : Sequential<Dense<2, 1, Sigmoid>> {};
struct Printer {
#ifdef CTNN_SHOULD_FAIL
    void on_epoch_ends(std::size_t, const Logs&) {}
#else
    void on_epoch_end(std::size_t, const Logs&) {}
#endif
};
int main() {
    auto model = compile<Net>(optimizers::SGD{}, losses::BinaryCrossentropy{}, metrics::Accuracy{});
    Matrix x = {{0.0f, 1.0f}};
    Matrix y = {{1.0f}};
    model.fit(x, y, {.epochs = 1, .verbose = 0}, Printer{});
}
