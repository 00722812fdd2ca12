// User mistake: a rate above 1 in the portable spelling (ctnn::rate<N, D> is std::ratio<N, D>{}).
// expect: Dropout<Rate>: Rate is the fraction of units DROPPED
// expect: must be in [0, 1)
#include <ctnn/ctnn.hpp>
using namespace ctnn;
#ifdef CTNN_SHOULD_FAIL
struct Net : Sequential<Dense<4, 8, Relu>, Dropout<rate<3, 2>>, Dense<8, 2, Softmax>> {};
#else
struct Net : Sequential<Dense<4, 8, Relu>, Dropout<rate<2, 3>>, Dense<8, 2, Softmax>> {};
#endif
static_assert(Net::param_count == 4 * 8 + 8 + 8 * 2 + 2);
int main() {}
