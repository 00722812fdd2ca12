#!/usr/bin/python3
"""benchmarks/pytorch_convnet.py — Keras's "Simple MNIST convnet" in PyTorch, measured with the protocol of
benchmarks/versus_ctnn_convnet.cpp (same data, network, optimizer, loss, batch sizes, warm-up and timed steps).

Network (Keras's shapes, NHWC):   (28, 28, 1) -> Conv2D(32, 3x3, relu) -> MaxPooling2D(2) -> Conv2D(64, 3x3, relu)
-> MaxPooling2D(2) -> Flatten (1600) -> Dropout(0.5) -> Dense(10, softmax); 34,826 parameters.
PyTorch's tensors are logically NCHW: an image row of 784 pixels is (1, 28, 28), the same memory as Keras's
(28, 28, 1); only Flatten orders the 1600 features differently (C, H, W instead of H, W, C), a fixed permutation
of the Dense kernel's rows: the same function class, the same training. The convolutions run in oneDNN with
weights and activations in torch.channels_last (NHWC in memory, as Keras), PyTorch's faster CPU path here:
15-20% less per batch-128 step than the default contiguous NCHW on 1 and on 2 threads (Zen 5, 2026-12-05);
--memory-format contiguous_format measures the other.
Glorot-uniform kernels (PyTorch's xavier_uniform_ on a conv weight uses fan_in = C·KH·KW and fan_out = F·KH·KW,
Keras's fans for a (KH, KW, C, F) kernel) and zero biases, Adam(lr 1e-3, beta 0.9/0.999, eps 1e-7 as Keras),
categorical cross-entropy (on the logits: Keras's softmax + cross-entropy, computed stably), batch 128.
Data: the Fashion-MNIST IDX files, pixels / 255, all 60,000 training images with validation_split = 0.1 as
Keras: the LAST 6,000 (before shuffling) validate, the first 54,000 train. Not a driver: compare_pytorch.py
--model convnet runs this in child processes with the settings it compares; run it by hand only to debug.

  /usr/bin/python3 benchmarks/pytorch_convnet.py speed --threads 2    # JSON: epoch time, samples/s, latency
  /usr/bin/python3 benchmarks/pytorch_convnet.py full --epochs 15     # JSON: test accuracy, History, wall time
Set OPENBLAS_NUM_THREADS / OMP_NUM_THREADS before starting Python: BLAS and OpenMP read them when they load.
"""
import argparse
import json
import statistics
import sys
import time

import numpy as np

from pytorch_mlp import (DEFAULT_DATA, blas_library, evaluate_in_batches, measure_predict, measure_steps, read_idx,
                         train_step)

# The protocol, shared with versus_ctnn_convnet.cpp (keep the two in step).
BATCH = 128                 # Keras's example; the epoch and the full run
VALIDATION_SPLIT = 0.1      # the last 6,000 of the 60,000 training images
EPOCH_WARMUP_STEPS = 5
EPOCH_REPEATS = 3           # whole shuffled 54,000-sample epochs (422 steps, the last of 112 samples)
STEP_WARMUP = 10            # steps at batch 128 and 32 (their repeats, and the batch-1 predict
STEP_TIMED = 100            # protocol: pytorch_mlp.measure_steps / measure_predict)

# FLOPs of one training step per sample (a multiply-add = 2; pooling, ReLU, Adam not counted):
# forward: conv1 26·26·32·(3·3·1), conv2 11·11·64·(3·3·32), dense 1600·10 multiply-adds;
# backward: the same again for the weight gradients, plus the input gradients of conv2 and dense
# (conv1's input gradient is not needed).
FORWARD_MACS = 26 * 26 * 32 * 9 + 11 * 11 * 64 * 288 + 1600 * 10
TRAIN_FLOP_PER_SAMPLE = 2 * (FORWARD_MACS + FORWARD_MACS + 11 * 11 * 64 * 288 + 1600 * 10)  # 14,256,384


def load_data(directory):
    """Train / validation (Keras's validation_split: the last 10%) / test: float32 rows of 784 pixels in
    [0, 1], int64 labels."""
    def images(name):
        return read_idx(directory, name).reshape(-1, 784).astype(np.float32) / 255.0
    xtr, ytr = images("train-images-idx3-ubyte"), read_idx(directory, "train-labels-idx1-ubyte").astype(np.int64)
    xte, yte = images("t10k-images-idx3-ubyte"), read_idx(directory, "t10k-labels-idx1-ubyte").astype(np.int64)
    train_count = int(np.ceil(len(xtr) * (1.0 - VALIDATION_SPLIT)))  # as Keras (and ctnn's fit) split
    return (xtr[:train_count], ytr[:train_count]), (xtr[train_count:], ytr[train_count:]), (xte, yte)


def make_model(torch, seed=0, memory_format="channels_last"):
    nn = torch.nn
    torch.manual_seed(seed)
    model = nn.Sequential(
        nn.Unflatten(1, (1, 28, 28)),                      # a row of 784 pixels -> (1, 28, 28)
        nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2),   # (32, 26, 26) -> (32, 13, 13)
        nn.Conv2d(32, 64, 3), nn.ReLU(), nn.MaxPool2d(2),  # (64, 11, 11) -> (64, 5, 5)
        nn.Flatten(), nn.Dropout(0.5), nn.Linear(1600, 10))
    for layer in model:
        if isinstance(layer, (nn.Conv2d, nn.Linear)):
            nn.init.xavier_uniform_(layer.weight)  # Glorot-uniform, Keras's default kernel initializer
            nn.init.zeros_(layer.bias)
    assert sum(p.numel() for p in model.parameters()) == 34_826
    model = model.to(memory_format=getattr(torch, memory_format))  # before Adam's state exists
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    return model, optimizer


def train_epoch(torch, model, optimizer, loss_fn, x, y, generator):
    """One shuffled epoch at BATCH, every batch trained (the last one smaller); loss and accuracy kept as fit does."""
    model.train()
    order = torch.randperm(x.shape[0], generator=generator)
    loss_sum, correct = 0.0, 0
    for first in range(0, x.shape[0], BATCH):
        idx = order[first:first + BATCH]
        loss, right = train_step(torch, model, optimizer, loss_fn, x[idx], y[idx])
        loss_sum += float(loss) * len(idx)
        correct += int(right)
    return loss_sum / x.shape[0], correct / x.shape[0]


def speed(args, name="convnet", build=None, flop_per_sample=TRAIN_FLOP_PER_SAMPLE, epoch_warmup=EPOCH_WARMUP_STEPS,
          epoch_repeats=EPOCH_REPEATS, step_warmup=STEP_WARMUP, step_timed=STEP_TIMED):
    """Epoch time, samples/s at batch 128 and 32, batch-1 latency of the model build(torch, seed, memory_format)
    returns (this convnet's make_model unless given; pytorch_resnet.py passes its own), as one JSON line."""
    import torch
    torch.set_num_threads(args.threads)
    (xtr, ytr), _, (xte, _) = load_data(args.data)
    x, y = torch.from_numpy(xtr), torch.from_numpy(ytr)
    model, optimizer = (build or make_model)(torch, 0, args.memory_format)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    result = {"model": name, "threads": args.threads, "torch": torch.__version__, "blas": blas_library(),
              "mkldnn": bool(torch.backends.mkldnn.is_available()), "memory_format": args.memory_format}

    # Epoch at batch 128: warm-up steps, then whole shuffled 54,000-sample epochs.
    for s in range(epoch_warmup):
        train_step(torch, model, optimizer, loss_fn, x[s * BATCH:(s + 1) * BATCH], y[s * BATCH:(s + 1) * BATCH])
    generator = torch.Generator().manual_seed(0)
    epoch_times = []
    for _ in range(epoch_repeats):
        start = time.perf_counter()
        train_epoch(torch, model, optimizer, loss_fn, x, y, generator)
        epoch_times.append(time.perf_counter() - start)
    if epoch_times:
        result["epoch_seconds"] = statistics.median(epoch_times)
        result["epoch_seconds_all"] = epoch_times
        result["epoch_gflops"] = flop_per_sample * x.shape[0] / result["epoch_seconds"] * 1e-9

    measure_steps(torch, model, optimizer, loss_fn, x, y, result, step_warmup, step_timed)
    measure_predict(torch, model, xte, result)
    json.dump(result, sys.stdout)
    print()


def full(args, name="convnet", build=None, learning_rate=None):
    """Keras's example: --epochs epochs at batch 128, shuffled, validated on the last 6,000 each epoch; test score.
    build as in speed; learning_rate(epoch) sets Adam's rate at the start of each epoch when given."""
    import torch
    torch.set_num_threads(args.threads)
    (xtr, ytr), (xva, yva), (xte, yte) = load_data(args.data)
    x, y = torch.from_numpy(xtr), torch.from_numpy(ytr)
    model, optimizer = (build or make_model)(torch, args.seed, args.memory_format)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(args.seed)

    def evaluate(xs, ys):
        return evaluate_in_batches(torch, model, xs, ys, BATCH)

    start = time.perf_counter()
    history = []
    for epoch in range(args.epochs):
        if learning_rate:
            for group in optimizer.param_groups:
                group["lr"] = learning_rate(epoch)
        loss, accuracy = train_epoch(torch, model, optimizer, loss_fn, x, y, generator)
        val_loss, val_accuracy = evaluate(xva, yva)
        history.append({"loss": loss, "accuracy": accuracy, "val_loss": val_loss, "val_accuracy": val_accuracy})
        print(f"epoch {epoch + 1}/{args.epochs}: {json.dumps(history[-1])}", file=sys.stderr, flush=True)
    test_loss, test_accuracy = evaluate(xte, yte)
    json.dump({"model": name, "threads": args.threads, "epochs": args.epochs, "memory_format": args.memory_format,
               "seconds": time.perf_counter() - start, "test_loss": test_loss, "test_accuracy": test_accuracy,
               "history": history}, sys.stdout)
    print()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["speed", "full"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default=DEFAULT_DATA)
    parser.add_argument("--memory-format", choices=["channels_last", "contiguous_format"], default="channels_last",
                        help="layout of the conv weights and activations (torch.channels_last or torch.contiguous_format)")
    args = parser.parse_args()
    speed(args) if args.mode == "speed" else full(args)


if __name__ == "__main__":
    main()
