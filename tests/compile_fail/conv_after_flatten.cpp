// User mistake: a convolution after Flatten, whose output is a vector, not an image.
// expect: its input must be an image, Shape<Height, Width, Channels>
// expect: layer_input_is_an_image_shape_height_width_channels<ctnn::Shape<784>
#include <ctnn/ctnn.hpp>
using namespace ctnn;
#ifdef CTNN_SHOULD_FAIL
struct Net : Sequential<Input<28, 28, 1>, Flatten, Conv2D<32, 3, 3, Relu>, Flatten, Dense<21632, 10, Softmax>> {};
#else
struct Net : Sequential<Input<28, 28, 1>, Conv2D<32, 3, 3, Relu>, Flatten, Dense<21632, 10, Softmax>> {};
#endif
static_assert(Net::output_size == 10);
int main() {}
