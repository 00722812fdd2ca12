// User mistake: one-hot rows given to a loss that takes integer labels.
// expect: fit(x, y): y must be a ctnn::Matrix of one row per sample for this loss, or ctnn::Labels
#include <ctnn/ctnn.hpp>
using namespace ctnn;
struct Net : Sequential<Dense<2, 3, Softmax>> {};
int main() {
    auto model = compile<Net>(optimizers::SGD{}, losses::SparseCategoricalCrossentropy{}, metrics::Accuracy{});
    Matrix x = {{0.0f, 1.0f}};
#ifdef CTNN_SHOULD_FAIL
    Matrix y = {{0.0f, 1.0f, 0.0f}};
#else
    Labels y = {1};
#endif
    model.fit(x, y, {.epochs = 1, .verbose = 0});
}
