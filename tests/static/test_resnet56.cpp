// Compile-time test: ResNet-56 v1 (Keras's CIFAR-10 ResNet example, resnet_v1 with n = 9, depth 6n + 2 = 56)
// for 28x28x1 images, the structure of examples/fashion_resnet.cpp with nine blocks per stage: 59 entries
// after Input, 27 of them blocks. The whole model is compiled (Adam, cross-entropy, accuracy), trained for one epoch on
// four random samples and asked for predictions, so that every forward, backward, folding and summary
// template of a deep network is instantiated. It must compile with g++ 12 and clang++-19 at their
// default -ftemplate-depth: the list is flat and each block is one flat list, so the type nests as
// deep as the blocks do (two levels), not as deep as the 56 layers. Compiling is most of the test;
// the run (four samples) takes well under a second.
#include <cstddef>
#include <cstdio>
#include <sstream>
#include <string>
#include <type_traits>

#include <ctnn/ctnn.hpp>

using namespace ctnn;

namespace {

template <std::size_t Filters, std::size_t Stride = 1>
using Conv3x3 = Conv2D<Filters, 3, 3, Linear, Stride, Padding::same>;

// (H, W, F) -> (H, W, F): body(x) + x, then ReLU.    2·(9F² + F) + 2·4F parameters
template <std::size_t F>
using IdentityBlock = Residual<Conv3x3<F>, BatchNormalization, Activation<Relu>, Conv3x3<F>, BatchNormalization>;

// (H, W, F/2) -> (H/2, W/2, F): stride 2, a 1x1 convolution with stride 2 as the shortcut (no
// BatchNormalization on it, as Keras's example).    (9·F/2·F + F) + (9F² + F) + 2·4F + (F/2·F + F)
template <std::size_t F>
using ProjectionBlock = Residual<Conv3x3<F, 2>, BatchNormalization, Activation<Relu>, Conv3x3<F>, BatchNormalization,
                                 Shortcut<Conv2D<F, 1, 1, Linear, 2, Padding::same>>>;

struct ResNet56
    : Sequential<Input<28, 28, 1>,
                 Conv3x3<16>, BatchNormalization, Activation<Relu>,  // (28, 28, 16)
                 // stage 1: nine identity blocks at 16 filters, (28, 28, 16)
                 IdentityBlock<16>, Activation<Relu>, IdentityBlock<16>, Activation<Relu>,
                 IdentityBlock<16>, Activation<Relu>, IdentityBlock<16>, Activation<Relu>,
                 IdentityBlock<16>, Activation<Relu>, IdentityBlock<16>, Activation<Relu>,
                 IdentityBlock<16>, Activation<Relu>, IdentityBlock<16>, Activation<Relu>,
                 IdentityBlock<16>, Activation<Relu>,
                 // stage 2: a projection block and eight identity blocks at 32 filters, (14, 14, 32)
                 ProjectionBlock<32>, Activation<Relu>,
                 IdentityBlock<32>, Activation<Relu>, IdentityBlock<32>, Activation<Relu>,
                 IdentityBlock<32>, Activation<Relu>, IdentityBlock<32>, Activation<Relu>,
                 IdentityBlock<32>, Activation<Relu>, IdentityBlock<32>, Activation<Relu>,
                 IdentityBlock<32>, Activation<Relu>, IdentityBlock<32>, Activation<Relu>,
                 // stage 3: the same at 64 filters, (7, 7, 64)
                 ProjectionBlock<64>, Activation<Relu>,
                 IdentityBlock<64>, Activation<Relu>, IdentityBlock<64>, Activation<Relu>,
                 IdentityBlock<64>, Activation<Relu>, IdentityBlock<64>, Activation<Relu>,
                 IdentityBlock<64>, Activation<Relu>, IdentityBlock<64>, Activation<Relu>,
                 IdentityBlock<64>, Activation<Relu>, IdentityBlock<64>, Activation<Relu>,
                 GlobalAveragePooling2D,   // (64)
                 Dense<64, 10, Softmax>>   // (10)
{};

// Parameters (a Conv2D KH·KW·C·F + F, a BatchNormalization 4C):
//   stem      3·3·1·16 + 16 = 160, BN 64                                          224
//   stage 1   9 identity blocks of 2·(3·3·16·16 + 16) + 2·64 = 4,768             42,912
//   stage 2   projection 4,640 + 9,248 + 2·128 + (16·32 + 32 = 544) = 14,688
//             + 8 identity blocks of 2·(3·3·32·32 + 32) + 2·128 = 18,752        164,704
//   stage 3   projection 18,496 + 36,928 + 2·256 + (32·64 + 64 = 2,112) = 58,048
//             + 8 identity blocks of 2·(3·3·64·64 + 64) + 2·256 = 74,368        652,992
//   Dense     64·10 + 10                                                            650
//   total                                                                       861,482
// The same network in PyTorch: 857,418 parameters + 4,064 BatchNorm2d running_mean / running_var
// = 861,482 (Keras's CIFAR ResNet-56 v1, with 3 input channels: 288 more in the stem).
// Non-trainable: the moving mean and variance of 16 + 18·16 + 18·32 + 18·64 = 2,032 channels.
static_assert(ResNet56::param_count == 861'482);
static_assert(ResNet56::non_trainable_param_count == 2 * 2'032);
static_assert(ResNet56::layer_count == 3 + 2 * 27 + 2);  // each block is one entry, Input is none
static_assert(std::is_same_v<ResNet56::layer_type<ResNet56::layer_count - 2>::input_shape, Shape<7, 7, 64>>);

}  // namespace

int main() {
    auto model = compile<ResNet56>(optimizers::Adam{}, losses::CategoricalCrossentropy{}, metrics::Accuracy{});
    model.initialize(0);
    Rng rng(56);
    Matrix x = Matrix::from_shape({4, 28 * 28 * 1});
    Matrix y = Matrix::from_shape({4, 10});
    y.fill(0.0f);
    for (float& v : x) v = rng.uniform();
    for (std::size_t i = 0; i < 4; ++i) y(i, i) = 1.0f;
    const History history = model.fit(x, y, {.epochs = 1, .batch_size = 4, .verbose = 0, .seed = 1});
    const Matrix p = model.predict(x, {.batch_size = 4});
    // Softmax rows: each sums to one (a broken forward pass gives NaN or garbage here).
    for (std::size_t i = 0; i < 4; ++i) {
        float sum = 0.0f;
        for (std::size_t c = 0; c < 10; ++c) sum += p(i, c);
        if (!(sum > 0.999f && sum < 1.001f)) {
            std::fprintf(stderr, "test_resnet56: predict row %zu sums to %g\n", i, double(sum));
            return 1;
        }
    }
    if (history.at("loss").size() != 1) return 1;
    std::ostringstream summary;
    ResNet56::summary(summary);
    if (summary.str().find("Total params: 861,482") == std::string::npos ||
        summary.str().find("add_26 (Add)") == std::string::npos) {
        std::fprintf(stderr, "test_resnet56: unexpected summary:\n%s", summary.str().c_str());
        return 1;
    }
    return 0;
}
