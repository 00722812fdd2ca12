// User mistake: the second Dense takes 999 inputs after a layer with 1000 outputs.
// expect: static assertion failed
// expect: a layer's input shape must equal the output shape of the entry before it
// expect: layer_input_shape_matches_previous_output_shape<2, ctnn::Shape<1000>, ctnn::Shape<999>
#include <ctnn/ctnn.hpp>
using namespace ctnn;
#ifdef CTNN_SHOULD_FAIL
struct Net : Sequential<Dense<784, 1000, Relu>, Dense<999, 10, Softmax>> {};
#else
struct Net : Sequential<Dense<784, 1000, Relu>, Dense<1000, 10, Softmax>> {};
#endif
static_assert(Net::input_size == 784);
int main() {}
