// User mistake: a loss given where a metric belongs (the loss passed twice to compile).
// expect: every metric must be a metric policy such as metrics::Accuracy
#include <ctnn/ctnn.hpp>
using namespace ctnn;
struct Net : Sequential<Dense<2, 3, Softmax>> {};
int main() {
#ifdef CTNN_SHOULD_FAIL
    auto model = compile<Net>(optimizers::SGD{}, losses::CategoricalCrossentropy{}, losses::CategoricalCrossentropy{});
#else
    auto model = compile<Net>(optimizers::SGD{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
#endif
    Matrix x = {{0.0f, 1.0f}};
    Matrix y = {{0.0f, 1.0f, 0.0f}};
    model.fit(x, y, {.epochs = 1, .verbose = 0});
}
