// User mistake: a 5x5 kernel on a 4x4 image with padding "valid" (Keras: negative output size).
// expect: with Padding::valid the kernel must fit in the input image
// expect: window_fits_in_input_image<5, 5, 4, 4>
#include <ctnn/ctnn.hpp>
using namespace ctnn;
#ifdef CTNN_SHOULD_FAIL
struct Net : Sequential<Input<4, 4, 1>, Conv2D<8, 5, 5, Relu>, Flatten, Dense<8, 2, Softmax>> {};
#else
struct Net : Sequential<Input<5, 5, 1>, Conv2D<8, 5, 5, Relu>, Flatten, Dense<8, 2, Softmax>> {};
#endif
static_assert(Net::layer_count == 3);
int main() {}
