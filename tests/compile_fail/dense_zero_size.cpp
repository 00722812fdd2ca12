// User mistake: a Dense layer with zero units.
// expect: Dense<In, Out, Act>: In and Out must be > 0
#include <ctnn/ctnn.hpp>
using namespace ctnn;
#ifdef CTNN_SHOULD_FAIL
struct Net : Sequential<Dense<4, 0, Relu>> {};
#else
struct Net : Sequential<Dense<4, 1, Relu>> {};
#endif
static_assert(Net::output_size >= 0);
int main() {}
