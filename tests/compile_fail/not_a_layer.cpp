// User mistake: an activation policy given where a layer belongs (Relu instead of Activation<Relu>).
// expect: every entry must be a layer such as Dense<In, Out, Act>
#include <ctnn/ctnn.hpp>
using namespace ctnn;
#ifdef CTNN_SHOULD_FAIL
struct Net : Sequential<Dense<4, 4>, Relu, Dense<4, 2, Softmax>> {};
#else
struct Net : Sequential<Dense<4, 4>, Activation<Relu>, Dense<4, 2, Softmax>> {};
#endif
static_assert(Net::layer_count == 3);
int main() {}
