// User mistake: a Dropout first, so nothing tells its size (Keras would need an Input layer).
// expect: the first layer must have a known input shape
#include <ctnn/ctnn.hpp>
using namespace ctnn;
#ifdef CTNN_SHOULD_FAIL
struct Net : Sequential<Dropout<0.5>, Dense<4, 2, Softmax>> {};
#else
struct Net : Sequential<Dense<4, 4, Relu>, Dropout<0.5>, Dense<4, 2, Softmax>> {};
#endif
static_assert(Net::input_size == 4);
int main() {}
