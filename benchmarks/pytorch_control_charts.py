#!/usr/bin/python3
"""benchmarks/pytorch_control_charts.py — examples/control_charts.cpp's network and recipe in PyTorch, to
calibrate its accuracy: the same generator (examples/control_charts.hpp's formulas, numpy's random stream),
Conv1D(16, 5, relu, causal) -> MaxPooling1D(2) -> Conv1D(32, 3, relu, same) -> GRU(32) -> Dense(6, softmax),
Keras's initialisation (Glorot-uniform kernels, orthogonal recurrent kernels, zero biases), Adam (lr 1e-3,
eps 1e-7), categorical cross-entropy, batch 32, 6,000 training series with the last 10% held out, 1,200
test series.

  /usr/bin/python3 benchmarks/pytorch_control_charts.py [--epochs 8] [--seeds 0,1,2] [--threads 1]
prints one line per seed: `seed S: test loss L, test accuracy A`, then the mean accuracy.
"""
import argparse
import math

import numpy as np

STEPS, CLASSES = 60, 6


def generate(per_class, rng):
    """examples/control_charts.hpp's six classes, standardised as (y - 30) / 10, interleaved by row."""
    m, s = 30.0, 2.0
    n = per_class * CLASSES
    x = np.empty((n, STEPS), np.float32)
    y = np.zeros((n, CLASSES), np.float32)
    t = np.arange(STEPS, dtype=np.float64)
    for row in range(n):
        kind = row % CLASSES
        a, period, g, shift = rng.uniform(10, 15), rng.uniform(10, 15), rng.uniform(0.2, 0.5), rng.uniform(7.5, 20)
        t3 = int(rng.uniform(20, 40))
        v = m + s * rng.uniform(-3, 3, STEPS)
        if kind == 1:
            v += a * np.sin(2 * math.pi * t / period)
        elif kind == 2:
            v += g * t
        elif kind == 3:
            v -= g * t
        elif kind == 4:
            v += np.where(t >= t3, shift, 0.0)
        elif kind == 5:
            v -= np.where(t >= t3, shift, 0.0)
        x[row] = (v - m) / 10.0
        y[row, kind] = 1.0
    return x, y


def make_model(torch):
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv1 = nn.Conv1d(1, 16, 5)    # causal: 4 zeros padded before the series in forward
            self.conv2 = nn.Conv1d(16, 32, 3, padding=1)  # same
            self.gru = nn.GRU(32, 32, batch_first=True)   # reset_after, as Keras's default GRU
            self.dense = nn.Linear(32, CLASSES)
            for conv in (self.conv1, self.conv2, self.dense):
                nn.init.xavier_uniform_(conv.weight)
                nn.init.zeros_(conv.bias)
            # Keras: Glorot over the whole (in, 3u) kernel and orthogonal over the whole (u, 3u) recurrent one;
            # PyTorch stores them transposed, (3u, in) and (3u, u), gates r, z, n instead of z, r, h (the
            # distributions do not depend on the gate order).
            nn.init.xavier_uniform_(self.gru.weight_ih_l0)
            nn.init.orthogonal_(self.gru.weight_hh_l0)
            nn.init.zeros_(self.gru.bias_ih_l0)
            nn.init.zeros_(self.gru.bias_hh_l0)

        def forward(self, x):                      # x (B, 60)
            h = x.unsqueeze(1)                      # (B, 1, 60)
            h = torch.relu(self.conv1(nn.functional.pad(h, (4, 0))))
            h = nn.functional.max_pool1d(h, 2)
            h = torch.relu(self.conv2(h))           # (B, 32, 30)
            _, last = self.gru(h.transpose(1, 2))   # (1, B, 32)
            return self.dense(last[0])              # logits; softmax + cross-entropy in the loss

    return Net()


def run(torch, seed, epochs):
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    xtr, ytr = generate(1000, rng)
    xte, yte = generate(200, rng)
    train_count = int(math.ceil(len(xtr) * 0.9))
    xtr, ytr = torch.from_numpy(xtr[:train_count]), torch.from_numpy(ytr[:train_count].argmax(1))
    model = make_model(torch)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    loss_fn = torch.nn.CrossEntropyLoss()
    generator = torch.Generator().manual_seed(seed)
    for _ in range(epochs):
        model.train()
        order = torch.randperm(train_count, generator=generator)
        for first in range(0, train_count, 32):
            idx = order[first:first + 32]
            optimizer.zero_grad()
            loss = loss_fn(model(xtr[idx]), ytr[idx])
            loss.backward()
            optimizer.step()
    model.eval()
    with torch.no_grad():
        logits = model(torch.from_numpy(xte))
        labels = torch.from_numpy(yte.argmax(1))
        return float(loss_fn(logits, labels)), float((logits.argmax(1) == labels).float().mean())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--seeds", default="0,1,2")
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    import torch
    torch.set_num_threads(args.threads)
    accuracies = []
    for seed in (int(s) for s in args.seeds.split(",")):
        loss, accuracy = run(torch, seed, args.epochs)
        accuracies.append(accuracy)
        print(f"seed {seed}: test loss {loss:.4f}, test accuracy {accuracy:.4f}", flush=True)
    print(f"mean test accuracy over {len(accuracies)} seeds: {sum(accuracies) / len(accuracies):.4f}")


if __name__ == "__main__":
    main()
