#!/usr/bin/python3
"""benchmarks/pytorch_mlp.py — the reference MNIST MLP in PyTorch, measured with the protocol of
benchmarks/versus_ctnn.cpp (same data, network, optimizer, loss, batch sizes, warm-up and timed steps).

Network 784-1000(relu)-500(relu)-Dropout(0.9)-10(softmax), Glorot-uniform kernels and zero biases (Keras's
defaults), Adam(lr 1e-3, beta 0.9/0.999, eps 1e-7 as Keras), categorical cross-entropy (on the logits: the
same function as Keras's softmax + cross-entropy, computed stably), Fashion-MNIST with the first 5,000
training images held out for validation. Not a driver: compare_pytorch.py runs this in child processes with
the thread/environment settings it compares; run it by hand only to debug.

  /usr/bin/python3 benchmarks/pytorch_mlp.py speed --threads 2      # JSON: epoch time, samples/s, latency, GEMMs
  /usr/bin/python3 benchmarks/pytorch_mlp.py full --epochs 10       # JSON: test accuracy, wall time (RSS: parent)
Set OPENBLAS_NUM_THREADS / OMP_NUM_THREADS before starting Python: BLAS reads them when it loads.
"""
import argparse
import gzip
import json
import os
import statistics
import sys
import time

import numpy as np

# The protocol, shared with versus_ctnn.cpp (keep the two in step).
EPOCH_BATCH = 1000
EPOCH_WARMUP_STEPS = 5
EPOCH_REPEATS = 3
STEP_BATCHES = (128, 32)
STEP_WARMUP = 20
STEP_TIMED = 200
STEP_REPEATS = 3
LATENCY_WARMUP = 100
LATENCY_CALLS = 1000
LATENCY_REPEATS = 5
GEMM_REPEATS = 10

DEFAULT_DATA = "/usr/share/datasets/fashion-mnist"


def read_idx(directory, name):
    """An IDX file (raw or .gz) as a numpy array; the header gives the type (only unsigned bytes here)."""
    path = os.path.join(directory, name)
    opener = open
    if not os.path.exists(path):
        path += ".gz"
        opener = gzip.open
    with opener(path, "rb") as f:
        raw = f.read()
    if raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise ValueError(f"{path}: expected an IDX file of unsigned bytes, found magic {raw[:4].hex()}")
    dims = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(dims))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * dims)
    if data.size != int(np.prod(shape)):
        raise ValueError(f"{path}: header says {shape} but holds {data.size} values")
    return data.reshape(shape)


def load_data(directory, validation_size=5000):
    """Train / validation / test as float32 pixels in [0, 1] and int64 labels (validation = first images)."""
    def images(name):
        return read_idx(directory, name).reshape(-1, 784).astype(np.float32) / 255.0
    xtr, ytr = images("train-images-idx3-ubyte"), read_idx(directory, "train-labels-idx1-ubyte").astype(np.int64)
    xte, yte = images("t10k-images-idx3-ubyte"), read_idx(directory, "t10k-labels-idx1-ubyte").astype(np.int64)
    return ((xtr[validation_size:], ytr[validation_size:]), (xtr[:validation_size], ytr[:validation_size]),
            (xte, yte))


def make_model(torch, seed=0):
    nn = torch.nn
    torch.manual_seed(seed)
    model = nn.Sequential(nn.Linear(784, 1000), nn.ReLU(), nn.Linear(1000, 500), nn.ReLU(),
                          nn.Dropout(0.9), nn.Linear(500, 10))
    for layer in model:
        if isinstance(layer, nn.Linear):
            nn.init.xavier_uniform_(layer.weight)  # Glorot-uniform, Keras's default kernel initializer
            nn.init.zeros_(layer.bias)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-7)
    return model, optimizer


def train_step(torch, model, optimizer, loss_fn, x, y):
    optimizer.zero_grad(set_to_none=True)
    logits = model(x)
    loss = loss_fn(logits, y)
    loss.backward()
    optimizer.step()
    # What Keras's fit (and ctnn's) computes per batch for its logs: loss and accuracy.
    return loss.detach(), (logits.detach().argmax(1) == y).sum()


def blas_library():
    """The BLAS shared object this process loaded (so the report says what PyTorch ran on)."""
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split()[-1]
                if "blas" in os.path.basename(path) and ".so" in path:
                    return path
    except OSError:
        pass
    return "unknown"


def measure_steps(torch, model, optimizer, loss_fn, x, y, result, warmup, timed):
    """samples/s of a fixed number of steps at batch 128 and 32, on consecutive slices of the training set
    (the median of STEP_REPEATS), into result["samples_per_s_<batch>"]."""
    for batch in STEP_BATCHES:
        def run(steps, offset=0):
            for s in range(steps):
                first = ((offset + s) * batch) % (x.shape[0] - batch)
                loss, right = train_step(torch, model, optimizer, loss_fn, x[first:first + batch], y[first:first + batch])
                float(loss), int(right)
        run(warmup)
        rates = []
        for r in range(STEP_REPEATS):
            start = time.perf_counter()
            run(timed, warmup + r * timed)
            rates.append(timed * batch / (time.perf_counter() - start))
        result[f"samples_per_s_{batch}"] = statistics.median(rates)


def measure_predict(torch, model, xte, result):
    """Batch-1 predict: class probabilities of one test image, inference mode (no dropout, no autograd);
    the median per-call time in µs into result["predict_us"]. Leaves the model in eval mode."""
    model.eval()
    xt = torch.from_numpy(xte)
    with torch.inference_mode():
        for i in range(LATENCY_WARMUP):
            torch.softmax(model(xt[i:i + 1]), 1)
        per_call = []
        for r in range(LATENCY_REPEATS):
            start = time.perf_counter()
            for i in range(LATENCY_CALLS):
                torch.softmax(model(xt[i:i + 1]), 1)
            per_call.append((time.perf_counter() - start) / LATENCY_CALLS)
    result["predict_us"] = statistics.median(per_call) * 1e6


def evaluate_in_batches(torch, model, xs, ys, batch):
    """Mean cross-entropy and accuracy of the numpy arrays xs, ys, in batches, in inference mode (no dropout);
    leaves the model in training mode."""
    model.eval()
    loss_sum, correct = 0.0, 0
    with torch.inference_mode():
        for first in range(0, len(xs), batch):
            xb, yb = torch.from_numpy(xs[first:first + batch]), torch.from_numpy(ys[first:first + batch])
            logits = model(xb)
            loss_sum += float(torch.nn.functional.cross_entropy(logits, yb, reduction="sum"))
            correct += int((logits.argmax(1) == yb).sum())
    model.train()
    return loss_sum / len(xs), correct / len(xs)


def speed(args):
    import torch
    torch.set_num_threads(args.threads)
    (xtr, ytr), _, (xte, _) = load_data(args.data)
    x, y = torch.from_numpy(xtr), torch.from_numpy(ytr)
    model, optimizer = make_model(torch)
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    result = {"threads": args.threads, "torch": torch.__version__, "blas": blas_library()}

    # Epoch at batch 1000: shuffled, every batch trained (55 steps), loss and accuracy kept as fit does.
    for s in range(EPOCH_WARMUP_STEPS):
        train_step(torch, model, optimizer, loss_fn, x[s * EPOCH_BATCH:(s + 1) * EPOCH_BATCH],
                   y[s * EPOCH_BATCH:(s + 1) * EPOCH_BATCH])
    generator = torch.Generator().manual_seed(0)
    epoch_times = []
    for _ in range(EPOCH_REPEATS):
        start = time.perf_counter()
        order = torch.randperm(x.shape[0], generator=generator)
        loss_sum, correct = 0.0, 0
        for first in range(0, x.shape[0], EPOCH_BATCH):
            idx = order[first:first + EPOCH_BATCH]
            loss, right = train_step(torch, model, optimizer, loss_fn, x[idx], y[idx])
            loss_sum += float(loss) * len(idx)
            correct += int(right)
        epoch_times.append(time.perf_counter() - start)
    result["epoch_seconds"] = statistics.median(epoch_times)
    result["epoch_seconds_all"] = epoch_times

    measure_steps(torch, model, optimizer, loss_fn, x, y, result, STEP_WARMUP, STEP_TIMED)
    measure_predict(torch, model, xte, result)

    # The six large GEMMs of a batch-1000 step (forward, backward-data, backward-weights of the first two
    # layers), through torch.mm on contiguous operands as nn.Linear and autograd issue them.
    torch.manual_seed(1)
    gemm_flops, gemm_seconds = 0.0, 0.0
    for n_in, n_out in ((784, 1000), (1000, 500)):
        b = EPOCH_BATCH
        xin, w, dz = torch.rand(b, n_in), torch.rand(n_out, n_in), torch.rand(b, n_out)
        products = [(xin, w.t()), (dz, w), (dz.t(), xin)]  # x·wᵀ (B,Out); dz·w (B,In); dzᵀ·x (Out,In)
        for a, bb in products:
            torch.mm(a, bb)
            times = []
            for _ in range(GEMM_REPEATS):
                start = time.perf_counter()
                torch.mm(a, bb)
                times.append(time.perf_counter() - start)
            gemm_seconds += statistics.median(times)
            gemm_flops += 2.0 * a.shape[0] * a.shape[1] * bb.shape[1]
    result["large_gemm_gflops"] = gemm_flops / gemm_seconds * 1e-9
    json.dump(result, sys.stdout)
    print()


def full(args):
    """Train for --epochs as the example does (batch 1000, shuffled, validated each epoch); test accuracy."""
    import torch
    torch.set_num_threads(args.threads)
    (xtr, ytr), (xva, yva), (xte, yte) = load_data(args.data)
    x, y = torch.from_numpy(xtr), torch.from_numpy(ytr)
    model, optimizer = make_model(torch, args.seed)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(args.seed)

    def evaluate(xs, ys):
        return evaluate_in_batches(torch, model, xs, ys, EPOCH_BATCH)

    start = time.perf_counter()
    history = []
    for epoch in range(args.epochs):
        model.train()
        order = torch.randperm(x.shape[0], generator=generator)
        loss_sum, correct = 0.0, 0
        for first in range(0, x.shape[0], EPOCH_BATCH):
            idx = order[first:first + EPOCH_BATCH]
            loss, right = train_step(torch, model, optimizer, loss_fn, x[idx], y[idx])
            loss_sum += float(loss) * len(idx)
            correct += int(right)
        val_loss, val_accuracy = evaluate(xva, yva)
        history.append({"loss": loss_sum / x.shape[0], "accuracy": correct / x.shape[0],
                        "val_loss": val_loss, "val_accuracy": val_accuracy})
    test_loss, test_accuracy = evaluate(xte, yte)
    json.dump({"threads": args.threads, "epochs": args.epochs, "seconds": time.perf_counter() - start,
               "test_loss": test_loss, "test_accuracy": test_accuracy, "history": history}, sys.stdout)
    print()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["speed", "full"])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default=DEFAULT_DATA)
    args = parser.parse_args()
    speed(args) if args.mode == "speed" else full(args)


if __name__ == "__main__":
    main()
