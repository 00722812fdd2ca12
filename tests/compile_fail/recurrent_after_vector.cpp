// User mistake: an LSTM after a Dense (a vector) without RepeatVector: a recurrent layer reads a
// sequence, Shape<Steps, Features>.
// expect: its input must be a sequence, Shape<Steps, Features>
// expect: recurrent_layer_input_is_a_sequence_shape_steps_features<ctnn::Shape<128>
#include <ctnn/ctnn.hpp>
using namespace ctnn;
#ifdef CTNN_SHOULD_FAIL
struct Net : Sequential<Input<7, 12>, LSTM<128>, LSTM<128, return_sequences>, Dense<128, 12, Softmax>> {};
#else
struct Net : Sequential<Input<7, 12>, LSTM<128>, RepeatVector<4>, LSTM<128, return_sequences>, Dense<128, 12, Softmax>> {};
#endif
static_assert(Net::param_count > 0);
int main() {}
