// User mistake: Dense straight after a convolution. 26·26·32 = 21,632 floats would fit a
// Dense<21632, ...>, but the shapes differ: Keras needs Flatten there too.
// expect: a layer's input shape must equal the output shape of the entry before it
// expect: layer_input_shape_matches_previous_output_shape<3, ctnn::Shape<26, 26, 32>, ctnn::Shape<21632>
#include <ctnn/ctnn.hpp>
using namespace ctnn;
#ifdef CTNN_SHOULD_FAIL
struct Net : Sequential<Input<28, 28, 1>, Conv2D<32, 3, 3, Relu>, Dense<21632, 10, Softmax>> {};
#else
struct Net : Sequential<Input<28, 28, 1>, Conv2D<32, 3, 3, Relu>, Flatten, Dense<21632, 10, Softmax>> {};
#endif
static_assert(Net::output_size == 10);
int main() {}
