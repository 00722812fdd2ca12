// User mistake: a residual block whose body doubles the channels (8 -> 16) with the identity as its
// shortcut; the fix is a projection, Shortcut<Conv2D<16, 1, 1>>.
// expect: every branch must produce the first branch's shape
// expect: add_branch_output_shape_equals_first_branch_output_shape<ctnn::Residual<
// expect: 2, ctnn::Shape<8, 8, 16>, ctnn::Shape<8, 8, 8>
#include <ctnn/ctnn.hpp>
using namespace ctnn;
#ifdef CTNN_SHOULD_FAIL
struct Net : Sequential<Input<8, 8, 8>, Residual<Conv2D<16, 3, 3, Relu, 1, Padding::same>, Conv2D<16, 3, 3, Linear, 1, Padding::same>>,
                        Activation<Relu>, Flatten, Dense<1024, 2, Softmax>> {};
#else
struct Net : Sequential<Input<8, 8, 8>, Residual<Conv2D<16, 3, 3, Relu, 1, Padding::same>, Conv2D<16, 3, 3, Linear, 1, Padding::same>,
                                                 Shortcut<Conv2D<16, 1, 1>>>,
                        Activation<Relu>, Flatten, Dense<1024, 2, Softmax>> {};
#endif
static_assert(Net::layer_count == 4);
int main() {}
