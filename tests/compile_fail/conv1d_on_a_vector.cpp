// User mistake: a 1-D convolution after Flatten, whose output is a vector, not a sequence.
// expect: its input must be a sequence, Shape<Steps, Channels>
// expect: layer_input_is_a_sequence_shape_steps_channels<ctnn::Shape<48>
#include <ctnn/ctnn.hpp>
using namespace ctnn;
#ifdef CTNN_SHOULD_FAIL
struct Net : Sequential<Input<16, 3>, Flatten, Conv1D<8, 3, Relu>, GlobalAveragePooling1D, Dense<8, 2, Softmax>> {};
#else
struct Net : Sequential<Input<16, 3>, Conv1D<8, 3, Relu>, GlobalAveragePooling1D, Dense<8, 2, Softmax>> {};
#endif
static_assert(Net::output_size == 2);
int main() {}
