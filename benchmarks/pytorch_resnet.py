#!/usr/bin/python3
"""benchmarks/pytorch_resnet.py — examples/fashion_resnet.cpp's ResNet-20 v1 in PyTorch, measured with the protocol
of benchmarks/versus_ctnn_resnet.cpp (same data, network, optimizer, loss, batch sizes, warm-up and timed steps).

Network (Keras's CIFAR-10 resnet_v1 with n = 3 for (28, 28, 1) input, as the ctnn example): a stem Conv2d(16, 3x3)
+ BatchNorm + ReLU; three stages of three residual blocks at 16, 32, 64 filters, each Conv(3x3, stride s) -> BN ->
ReLU -> Conv(3x3) -> BN, added to the shortcut, then ReLU; the first block of stages 2 and 3 has stride 2 and a
1x1 Conv with stride 2 (no BN) as its shortcut. Every convolution pads "same" (Keras's "same" with stride 2 on an
even image pads 0 before and 1 after; PyTorch's padding=1 pads 1 on both sides, which picks the same pixels: the
windows start at rows 0, 2, ... in Keras and at rows -1, 1, ... in PyTorch, so the two differ by one pixel of
shift, the same function class and the same cost) and keeps its bias. BatchNorm as Keras's: momentum 0.99 (PyTorch's
momentum = 1 - 0.99 = 0.01), epsilon 1e-3. Then the mean over the 7x7 image and Linear(64, 10).
274,154 parameters counting BatchNorm's running mean and variance, as the ctnn type's static_assert.
Glorot-uniform kernels, zero biases, gamma 1 and beta 0; Adam(lr 1e-3, eps 1e-7 as Keras; in `full`, lr 1e-4 for
the last third of the epochs, as the example), cross-entropy on the logits, batch 128. Convolutions in oneDNN with torch.channels_last (NHWC, as ctnn).
Data: Fashion-MNIST, pixels / 255, validation_split = 0.1 as Keras (the last 6,000 training images validate).
Not a driver: compare_pytorch.py --model resnet runs this in child processes; run it by hand only to debug.

  /usr/bin/python3 benchmarks/pytorch_resnet.py speed --threads 2    # JSON: epoch time, samples/s, latency
  /usr/bin/python3 benchmarks/pytorch_resnet.py full --epochs 12     # JSON: test accuracy, History, wall time
"""
import argparse

import pytorch_convnet
import pytorch_mlp
from pytorch_mlp import DEFAULT_DATA

# The protocol, shared with versus_ctnn_resnet.cpp (keep the two in step). A step costs ~100x the MLP's, so
# fewer repeats than the other two comparisons.
# (the batch, 128, is pytorch_convnet's BATCH)
EPOCH_WARMUP_STEPS = 3
EPOCH_REPEATS = 1           # one whole shuffled 54,000-sample epoch (422 steps)
STEP_WARMUP = 3             # steps at batch 128 and 32 (pytorch_mlp.measure_steps: 3 repeats of STEP_TIMED)
STEP_TIMED = 20
LATENCY_WARMUP = 20         # batch-1 predict: pytorch_mlp.measure_predict, 5 repeats of LATENCY_CALLS
LATENCY_CALLS = 200

# FLOPs of one training step per sample (a multiply-add = 2; BatchNorm, ReLU, Adds and Adam not counted): the
# forward convolutions and Dense, the same again for the weight gradients, and the input gradients of every
# convolution but the stem's. Forward multiply-adds (output pixels x filters x KH·KW·C):
STEM = 28 * 28 * 16 * 9
STAGE1 = 6 * 28 * 28 * 16 * 144
STAGE2 = 14 * 14 * 32 * 144 + 5 * 14 * 14 * 32 * 288 + 14 * 14 * 32 * 16
STAGE3 = 7 * 7 * 64 * 288 + 5 * 7 * 7 * 64 * 576 + 7 * 7 * 64 * 32
DENSE = 64 * 10
FORWARD_MACS = STEM + STAGE1 + STAGE2 + STAGE3 + DENSE
TRAIN_FLOP_PER_SAMPLE = 2 * (3 * FORWARD_MACS - STEM)


def make_model(torch, seed=0, memory_format="channels_last"):
    nn = torch.nn

    def conv(c, f, k, stride=1):
        return nn.Conv2d(c, f, k, stride=stride, padding=k // 2)

    def bn(f):
        return nn.BatchNorm2d(f, eps=1e-3, momentum=0.01)

    class Block(nn.Module):
        def __init__(self, c, f, stride):
            super().__init__()
            self.body = nn.Sequential(conv(c, f, 3, stride), bn(f), nn.ReLU(), conv(f, f, 3), bn(f))
            self.shortcut = conv(c, f, 1, stride) if stride != 1 else nn.Identity()

        def forward(self, x):
            return torch.relu(self.body(x) + self.shortcut(x))

    torch.manual_seed(seed)
    layers = [nn.Unflatten(1, (1, 28, 28)), conv(1, 16, 3), bn(16), nn.ReLU()]
    for stage, filters in enumerate((16, 32, 64)):
        for block in range(3):
            stride = 2 if stage > 0 and block == 0 else 1
            layers.append(Block(filters // 2 if stride == 2 else filters, filters, stride))
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 10)]
    model = nn.Sequential(*layers)
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(m.weight)  # Glorot-uniform, Keras's default kernel initializer
            nn.init.zeros_(m.bias)
    counted = sum(p.numel() for p in model.parameters()) + sum(
        b.numel() for name, b in model.named_buffers() if name.endswith(("running_mean", "running_var")))
    assert counted == 274_154, counted
    model = model.to(memory_format=getattr(torch, memory_format))  # before Adam's state exists
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    return model, optimizer


def speed(args):
    pytorch_mlp.LATENCY_WARMUP, pytorch_mlp.LATENCY_CALLS = LATENCY_WARMUP, LATENCY_CALLS
    pytorch_convnet.speed(args, "resnet", make_model, TRAIN_FLOP_PER_SAMPLE, EPOCH_WARMUP_STEPS, args.epoch_repeats,
                          STEP_WARMUP, STEP_TIMED)


def full(args):
    """The example's run: --epochs epochs at batch 128, shuffled, validated on the last 6,000 each epoch; test score.
    Adam's rate 1e-3, then 1e-4 for the last third of the epochs (rounded down), as the example."""
    slow_from = args.epochs - args.epochs // 3
    pytorch_convnet.full(args, "resnet", make_model, lambda epoch: 1e-3 if epoch < slow_from else 1e-4)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["speed", "full"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--epoch-repeats", type=int, default=EPOCH_REPEATS,
                        help="whole epochs timed by speed (0: steps and latency only, for a quick look)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--memory-format", choices=["channels_last", "contiguous_format"], default="channels_last")
    args = parser.parse_args()
    speed(args) if args.mode == "speed" else full(args)


if __name__ == "__main__":
    main()
