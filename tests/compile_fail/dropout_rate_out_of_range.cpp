// User mistake: a Keras rate is the fraction DROPPED, in [0, 1); 1.5 (or a keep-probability of 1) is wrong.
// expect: Dropout<Rate>: Rate is the fraction of units DROPPED
// expect: must be in [0, 1)
#include <ctnn/ctnn.hpp>
using namespace ctnn;
#ifdef CTNN_SHOULD_FAIL
struct Net : Sequential<Dense<4, 8, Relu>, Dropout<1.0>, Dense<8, 2, Softmax>> {};
#else
struct Net : Sequential<Dense<4, 8, Relu>, Dropout<0.9>, Dense<8, 2, Softmax>> {};
#endif
static_assert(Net::param_count == 4 * 8 + 8 + 8 * 2 + 2);
int main() {}
