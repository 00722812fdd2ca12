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
import json
import statistics
import sys
import time

import pytorch_mlp
from pytorch_convnet import load_data, train_epoch
from pytorch_mlp import DEFAULT_DATA, blas_library, evaluate_in_batches, measure_predict, measure_steps, train_step

# The protocol, shared with versus_ctnn_resnet.cpp (keep the two in step). A step costs ~100x the MLP's, so
# fewer repeats than the other two comparisons.
BATCH = 128                 # the example's batch; pytorch_convnet.train_epoch uses the same
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
    import torch
    torch.set_num_threads(args.threads)
    (xtr, ytr), _, (xte, _) = load_data(args.data)
    x, y = torch.from_numpy(xtr), torch.from_numpy(ytr)
    model, optimizer = make_model(torch, 0, args.memory_format)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    result = {"model": "resnet", "threads": args.threads, "torch": torch.__version__, "blas": blas_library(),
              "mkldnn": bool(torch.backends.mkldnn.is_available()), "memory_format": args.memory_format}

    for s in range(EPOCH_WARMUP_STEPS):
        train_step(torch, model, optimizer, loss_fn, x[s * BATCH:(s + 1) * BATCH], y[s * BATCH:(s + 1) * BATCH])
    generator = torch.Generator().manual_seed(0)
    epoch_times = []
    for _ in range(args.epoch_repeats):
        start = time.perf_counter()
        train_epoch(torch, model, optimizer, loss_fn, x, y, generator)
        epoch_times.append(time.perf_counter() - start)
    if epoch_times:
        result["epoch_seconds"] = statistics.median(epoch_times)
        result["epoch_seconds_all"] = epoch_times
        result["epoch_gflops"] = TRAIN_FLOP_PER_SAMPLE * x.shape[0] / result["epoch_seconds"] * 1e-9

    measure_steps(torch, model, optimizer, loss_fn, x, y, result, STEP_WARMUP, STEP_TIMED)
    pytorch_mlp.LATENCY_WARMUP, pytorch_mlp.LATENCY_CALLS = LATENCY_WARMUP, LATENCY_CALLS
    measure_predict(torch, model, xte, result)
    json.dump(result, sys.stdout)
    print()


def full(args):
    """The example's run: --epochs epochs at batch 128, shuffled, validated on the last 6,000 each epoch; test score."""
    import torch
    torch.set_num_threads(args.threads)
    (xtr, ytr), (xva, yva), (xte, yte) = load_data(args.data)
    x, y = torch.from_numpy(xtr), torch.from_numpy(ytr)
    model, optimizer = make_model(torch, args.seed, args.memory_format)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(args.seed)
    start = time.perf_counter()
    history = []
    slow_from = args.epochs - args.epochs // 3  # the example's schedule: 1e-3, then 1e-4 for the last third (rounded down)
    for epoch in range(args.epochs):
        for group in optimizer.param_groups:
            group["lr"] = 1e-3 if epoch < slow_from else 1e-4
        loss, accuracy = train_epoch(torch, model, optimizer, loss_fn, x, y, generator)
        val_loss, val_accuracy = evaluate_in_batches(torch, model, xva, yva, BATCH)
        history.append({"loss": loss, "accuracy": accuracy, "val_loss": val_loss, "val_accuracy": val_accuracy})
        print(f"epoch {epoch + 1}/{args.epochs}: {json.dumps(history[-1])}", file=sys.stderr, flush=True)
    test_loss, test_accuracy = evaluate_in_batches(torch, model, xte, yte, BATCH)
    json.dump({"model": "resnet", "threads": args.threads, "epochs": args.epochs, "memory_format": args.memory_format,
               "seconds": time.perf_counter() - start, "test_loss": test_loss, "test_accuracy": test_accuracy,
               "history": history}, sys.stdout)
    print()


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
