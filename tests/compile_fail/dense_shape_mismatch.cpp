// User mistake: the second Dense takes 999 inputs after a layer with 1000 outputs.
// expect: static assertion failed
// expect: a layer's input size must equal the output size of the layer before it
// expect: layer_input_size_matches_previous_output_size<2, 1000, 999>
#include <ctnn/ctnn.hpp>
using namespace ctnn;
#ifdef CTNN_SHOULD_FAIL
struct Net : Sequential<Dense<784, 1000, Relu>, Dense<999, 10, Softmax>> {};
#else
struct Net : Sequential<Dense<784, 1000, Relu>, Dense<1000, 10, Softmax>> {};
#endif
static_assert(Net::input_size == 784);
int main() {}
