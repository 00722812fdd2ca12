#!/usr/bin/python3
"""ONNX Runtime against a trained example's own predictions, on the whole MNIST-format test set.

  build/examples/mnist_convnet --save-onnx convnet.onnx --save-predictions convnet.npy
  /usr/bin/python3 tests/onnx/compare_example.py convnet.onnx convnet.npy [--data /usr/share/datasets/fashion-mnist]

Reads t10k-images-idx3-ubyte(.gz) with numpy (pixels / 255 as float32, as datasets::mnist::load),
shapes them as the model's input (N, 784) or (N, 28, 28, 1), runs ONNX Runtime 1.30 through
run_onnxruntime.js and prints the largest absolute difference from the saved predictions. Exits 1 when
the difference is above 1e-5. ONNX Runtime is looked for in $CTNN_ORT_DIR, else /opt/ctnn-ort.
"""
import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile

import numpy as np
import onnx

HERE = os.path.dirname(os.path.abspath(__file__))


def test_images(directory):
    for name in ("t10k-images-idx3-ubyte", "t10k-images-idx3-ubyte.gz"):
        path = os.path.join(directory, name)
        if os.path.exists(path):
            data = (gzip.open if name.endswith(".gz") else open)(path, "rb").read()
            count = int.from_bytes(data[4:8], "big")
            return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(count, 784).astype(np.float32) / np.float32(255)
    sys.exit(f"compare_example: no t10k-images-idx3-ubyte(.gz) in {directory}")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("predictions")
    parser.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    args = parser.parse_args()
    dims = [d.dim_value for d in onnx.load(args.model).graph.input[0].type.tensor_type.shape.dim[1:]]
    x = test_images(args.data).reshape([-1] + dims)
    expected = np.load(args.predictions)
    with tempfile.TemporaryDirectory(prefix="ctnn-onnx-compare-") as directory:
        inputs = os.path.join(directory, "input.npy")
        outputs = os.path.join(directory, "expected.npy")
        np.save(inputs, np.ascontiguousarray(x))
        np.save(outputs, expected.reshape(x.shape[0], -1))
        manifest = os.path.join(directory, "manifest.json")
        with open(manifest, "w") as f:
            json.dump([{"name": os.path.basename(args.model), "model": os.path.abspath(args.model),
                        "input": inputs, "expected": outputs}], f)
        ort_dir = os.environ.get("CTNN_ORT_DIR", "/opt/ctnn-ort")
        run = subprocess.run(["node", os.path.join(HERE, "run_onnxruntime.js"), ort_dir, manifest],
                             check=True, capture_output=True, text=True)
    result = json.loads(run.stdout.splitlines()[0])
    if "error" in result:
        sys.exit(f"compare_example: ONNX Runtime failed: {result['error']}")
    diff = float(result["max_abs_diff"])
    print(f"{args.model}: {x.shape[0]} test images, ONNX Runtime {result['ort_version']} output {result['shape']}, "
          f"max |ORT - ctnn predict| = {diff:.3g}")
    sys.exit(0 if diff <= 1e-5 else 1)


if __name__ == "__main__":
    main()
