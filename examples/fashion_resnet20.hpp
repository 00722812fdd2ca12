// examples/fashion_resnet20.hpp — the network of examples/fashion_resnet.cpp, ResNet-20 v1 for 28x28x1 images, as
// one type; in its own header so that benchmarks/versus_ctnn_resnet.cpp times exactly the example's network.
#pragma once

#include <cstddef>

#include <ctnn/ctnn.hpp>

namespace examples {

using namespace ctnn;

// A 3x3 convolution with padding "same" and no activation (a BatchNormalization follows it).
template <std::size_t Filters, std::size_t Stride = 1>
using Conv3x3 = Conv2D<Filters, 3, 3, Linear, Stride, Padding::same>;

// A block that keeps the shape: body(x) + x, (H, W, F) -> (H, W, F). The ReLU after the sum is the
// Activation<Relu> after the block in the list below.
template <std::size_t F>
using IdentityBlock = Residual<Conv3x3<F>, BatchNormalization, Activation<Relu>,  //
                               Conv3x3<F>, BatchNormalization>;

// A stage's first block: stride 2 and F filters, (H, W, F/2) -> (H/2, W/2, F); the shortcut is a 1x1
// convolution with stride 2, not normalized (as Keras's example).
template <std::size_t F>
using ProjectionBlock = Residual<Conv3x3<F, 2>, BatchNormalization, Activation<Relu>,  //
                                 Conv3x3<F>, BatchNormalization,                       //
                                 Shortcut<Conv2D<F, 1, 1, Linear, 2, Padding::same>>>;

// The network is a type, with its shapes; a sample is an image (28, 28, 1) stored as its 784 pixels
// row-major (NHWC). Each line's parameters (Keras's count: a Conv2D has KH·KW·C·F + F, a
// BatchNormalization of C channels 4C: gamma, beta and the moving mean and variance):
struct FashionResNet20
    : Sequential<Input<28, 28, 1>,                                        // (B, 28, 28, 1)
                 Conv3x3<16>, BatchNormalization, Activation<Relu>,       // (B, 28, 28, 16)  160 + 64 = 224
                 IdentityBlock<16>, Activation<Relu>,                     // (B, 28, 28, 16)  2·(2,320 + 64) = 4,768
                 IdentityBlock<16>, Activation<Relu>,                     //                  4,768
                 IdentityBlock<16>, Activation<Relu>,                     //                  4,768
                 ProjectionBlock<32>, Activation<Relu>,                   // (B, 14, 14, 32)  4,640 + 128 + 9,248 + 128
                                                                          //                  + 544 = 14,688
                 IdentityBlock<32>, Activation<Relu>,                     //                  2·(9,248 + 128) = 18,752
                 IdentityBlock<32>, Activation<Relu>,                     //                  18,752
                 ProjectionBlock<64>, Activation<Relu>,                   // (B, 7, 7, 64)    18,496 + 256 + 36,928 + 256
                                                                          //                  + 2,112 = 58,048
                 IdentityBlock<64>, Activation<Relu>,                     //                  2·(36,928 + 256) = 74,368
                 IdentityBlock<64>, Activation<Relu>,                     //                  74,368
                 GlobalAveragePooling2D,                                  // (B, 64)
                 Dense<64, 10, Softmax>>                                  // (B, 10)          650
{};
// 224 + 3·4,768 + 14,688 + 2·18,752 + 58,048 + 2·74,368 + 650 = 274,154, as the same network in PyTorch
// (trainable parameters 272,778 + BatchNorm2d's running_mean and running_var 1,376). Non-trainable: the
// moving mean and variance of 688 channels (16 in the stem, 6 BatchNormalizations per stage at 16, 32, 64).
static_assert(FashionResNet20::param_count == 274'154);
static_assert(FashionResNet20::non_trainable_param_count == 2 * (16 + 6 * 16 + 6 * 32 + 6 * 64));  // 1,376

}  // namespace examples
