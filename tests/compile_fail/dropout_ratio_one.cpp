// User mistake: the portable (ratio) spelling of a rate of 1, i.e. a keep-probability written as a rate:
// Keras's rate is the fraction DROPPED, in [0, 1), so 1 would drop everything.
// expect: Dropout<Rate>: Rate is the fraction of units DROPPED
// expect: must be in [0, 1)
#include <ratio>
#include <ctnn/ctnn.hpp>
using namespace ctnn;
#ifdef CTNN_SHOULD_FAIL
struct Net : Sequential<Dense<4, 8, Relu>, Dropout<std::ratio<1, 1>{}>, Dense<8, 2, Softmax>> {};
#else
struct Net : Sequential<Dense<4, 8, Relu>, Dropout<std::ratio<9, 10>{}>, Dense<8, 2, Softmax>> {};
#endif
static_assert(Net::param_count == 4 * 8 + 8 + 8 * 2 + 2);
int main() {}
