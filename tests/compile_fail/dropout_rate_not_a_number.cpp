// User mistake: something that is not a rate (here a bool: "dropout on") given as Dropout's rate.
// expect: Dropout<Rate>: Rate must be a number such as 0.9 or a ratio such as ctnn::rate<9, 10>
#include <ctnn/ctnn.hpp>
using namespace ctnn;
#ifdef CTNN_SHOULD_FAIL
struct Net : Sequential<Dense<4, 8, Relu>, Dropout<true>, Dense<8, 2, Softmax>> {};
#else
struct Net : Sequential<Dense<4, 8, Relu>, Dropout<rate<1, 2>>, Dense<8, 2, Softmax>> {};
#endif
static_assert(Net::layer_count == 3);
int main() {}
