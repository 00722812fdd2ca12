// User mistake: a 3x3 pooling window after a convolution that leaves a 2x2 image.
// expect: the pooling window must fit in the input image
// expect: window_fits_in_input_image<3, 3, 2, 2>
#include <ctnn/ctnn.hpp>
using namespace ctnn;
#ifdef CTNN_SHOULD_FAIL
struct Net : Sequential<Input<4, 4, 1>, Conv2D<8, 3, 3, Relu>, MaxPooling2D<3, 3>, Flatten, Dense<8, 2, Softmax>> {};
#else
struct Net : Sequential<Input<4, 4, 1>, Conv2D<8, 3, 3, Relu>, MaxPooling2D<2, 2>, Flatten, Dense<8, 2, Softmax>> {};
#endif
static_assert(Net::layer_count == 4);
int main() {}
