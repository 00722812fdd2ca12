// User mistake: a Dense whose input width is not the sequence's feature count. Dense acts on the
// last axis of a sequence, so the error names both shapes: the sequence (4, 128) and Dense's (64).
// expect: a layer's input shape must equal the output shape of the entry before it
// expect: layer_input_shape_matches_previous_output_shape<5, ctnn::Shape<4, 128>, ctnn::Shape<64>
#include <ctnn/ctnn.hpp>
using namespace ctnn;
#ifdef CTNN_SHOULD_FAIL
struct Net : Sequential<Input<7, 12>, LSTM<128>, RepeatVector<4>, LSTM<128, return_sequences>, Dense<64, 12, Softmax>> {};
#else
struct Net : Sequential<Input<7, 12>, LSTM<128>, RepeatVector<4>, LSTM<128, return_sequences>, Dense<128, 12, Softmax>> {};
#endif
static_assert(Net::param_count > 0);
int main() {}
