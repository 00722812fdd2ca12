// User mistake: a network with no layers.
// expect: a network needs at least one layer
#include <ctnn/ctnn.hpp>
using namespace ctnn;
#ifdef CTNN_SHOULD_FAIL
struct Net : Sequential<> {};
#else
struct Net : Sequential<Dense<1, 1>> {};
#endif
int main() { return Net{}.layer_count == 0; }
