// User mistake: an Inception-style block whose 3x3 branch has padding valid (8x8 -> 6x6) beside a
// 1x1 branch that keeps 8x8: they cannot be joined along the channels.
// expect: every branch must produce the first branch's shape but for the channels
// expect: concatenate_branch_shape_equals_first_branch_shape_but_channels<ctnn::Branches<ctnn::Concatenate,
// expect: 2, ctnn::Shape<8, 8, 4>, ctnn::Shape<6, 6, 4>
#include <ctnn/ctnn.hpp>
using namespace ctnn;
#ifdef CTNN_SHOULD_FAIL
struct Net : Sequential<Input<8, 8, 3>, Branches<Concatenate, Sequential<Conv2D<4, 1, 1, Relu>>, Sequential<Conv2D<4, 3, 3, Relu>>>,
                        Flatten, Dense<512, 2, Softmax>> {};
#else
struct Net : Sequential<Input<8, 8, 3>,
                        Branches<Concatenate, Sequential<Conv2D<4, 1, 1, Relu>>, Sequential<Conv2D<4, 3, 3, Relu, 1, Padding::same>>>,
                        Flatten, Dense<512, 2, Softmax>> {};
#endif
static_assert(Net::layer_count == 3);
int main() {}
