#!/usr/bin/python3
"""Checks ctnn's ONNX export with tools ctnn did not write.

  check_onnx.py checker EXPORT_MODELS
      export_models writes every test network (.onnx, inputs, ctnn's predict outputs); Debian's onnx
      1.12 must accept each file with onnx.checker.check_model(full_check=True) (schemas and strict
      shape inference), stamped IR 8 / opset 17, with no Dropout node, and infer the output shape
      (N, dims...) that ctnn's predict gave.
  check_onnx.py runtime EXPORT_MODELS
      ONNX Runtime 1.30 (npm onnxruntime-node, via node) runs each file on the same inputs: max |ORT -
      ctnn| <= 1e-5. Then the check must be able to fail: mutants of the files, each with one mistake
      an exporter could make (no transpose before Flatten, a conv kernel's axes swapped, Keras's LSTM
      gate order, ONNX's default BatchNormalization epsilon, GRU without linear_before_reset, ZeroPadding2D's
      sides exchanged), must
      each differ by more than 1e-4.

ONNX Runtime is looked for in $CTNN_ORT_DIR, else /opt/ctnn-ort (tools/install-deps.sh puts it there).
Missing, the runtime check is skipped (exit 77) unless CTNN_REQUIRE_ORT=1, as CI sets.
"""
import json
import os
import shutil
import subprocess
import sys
import tempfile

import numpy as np

TOLERANCE = 1e-5
MUTANT_MIN_DIFF = 1e-4
HERE = os.path.dirname(os.path.abspath(__file__))
failures = 0


def check(ok, what):
    global failures
    print(("OK      " if ok else "NOT OK  ") + what, flush=True)
    if not ok:
        failures += 1


def export(generator, directory):
    subprocess.run([generator, directory], check=True)
    with open(os.path.join(directory, "manifest.txt")) as f:
        return [line.strip() for line in f if line.strip()]


def skip(reason):
    if os.environ.get("CTNN_REQUIRE_ORT") == "1":
        print("NOT OK  " + reason + " (CTNN_REQUIRE_ORT=1)")
        sys.exit(1)
    print("SKIP    " + reason)
    sys.exit(77)


def run_checker(directory, names):
    import onnx
    from onnx import checker, shape_inference

    for name in names:
        path = os.path.join(directory, name + ".onnx")
        model = onnx.load(path)
        try:
            checker.check_model(model, full_check=True)
            check(True, f"{name}: onnx {onnx.__version__} check_model(full_check=True)")
        except Exception as e:  # noqa: BLE001 — the checker raises several kinds
            check(False, f"{name}: check_model: {e}")
            continue
        opsets = {o.domain: o.version for o in model.opset_import}
        check(model.ir_version == 8 and opsets == {"": 17}, f"{name}: IR {model.ir_version}, opsets {opsets}")
        ops = [n.op_type for n in model.graph.node]
        check("Dropout" not in ops, f"{name}: no Dropout node ({len(ops)} nodes)")
        inferred = shape_inference.infer_shapes(model, strict_mode=True)
        out = inferred.graph.output[0].type.tensor_type.shape.dim
        expected = np.load(os.path.join(directory, name + ".expected.npy")).shape
        dims = [d.dim_param or d.dim_value for d in out]
        check(dims == ["N"] + list(expected[1:]), f"{name}: output shape {dims}, ctnn's predict (N, {expected[1:]})")


# ---- mutants: one deliberate mistake each --------------------------------------------------------


def initializer(model, name):
    for t in model.graph.initializer:
        if t.name == name:
            return t
    raise KeyError(name)


def replace_initializer(model, name, array):
    from onnx import numpy_helper

    t = initializer(model, name)
    t.CopyFrom(numpy_helper.from_array(np.ascontiguousarray(array, dtype=np.float32), name))


def mutant_flatten_without_transpose(model):
    # Flatten straight on NCHW: PyTorch's (C, H, W) order under a kernel whose rows are (H, W, C).
    producers = {o: n for n in model.graph.node for o in n.output}
    flatten = next(n for n in model.graph.node if n.op_type == "Flatten")
    transpose = producers[flatten.input[0]]
    assert transpose.op_type == "Transpose"
    flatten.input[0] = transpose.input[0]
    model.graph.node.remove(transpose)


def mutant_kernel_hw_swapped(model):
    from onnx import numpy_helper

    w = numpy_helper.to_array(initializer(model, "conv2d_1/kernel"))
    replace_initializer(model, "conv2d_1/kernel", w.transpose(0, 1, 3, 2))


def mutant_keras_gate_order(model):
    from onnx import numpy_helper

    for suffix, axis in (("/kernel", 1), ("/recurrent_kernel", 1)):
        w = numpy_helper.to_array(initializer(model, "lstm" + suffix))
        i, o, f, c = np.split(w, 4, axis=axis)
        replace_initializer(model, "lstm" + suffix, np.concatenate([i, f, c, o], axis=axis))


def mutant_default_epsilon(model):
    for n in model.graph.node:
        if n.op_type == "BatchNormalization":
            for a in list(n.attribute):
                if a.name == "epsilon":
                    n.attribute.remove(a)


def mutant_gru_reset_before(model):
    for n in model.graph.node:
        if n.op_type == "GRU":
            for a in n.attribute:
                if a.name == "linear_before_reset":
                    a.i = 0


def mutant_padding_swapped(model):
    # The first Pad's (begin, end) exchanged: rows of zeros below instead of above, and so on.
    from onnx import numpy_helper

    pad = next(n for n in model.graph.node if n.op_type == "Pad")
    pads = numpy_helper.to_array(initializer(model, pad.input[1]))
    half = len(pads) // 2
    initializer(model, pad.input[1]).CopyFrom(
        numpy_helper.from_array(np.concatenate([pads[half:], pads[:half]]), pad.input[1]))


MUTANTS = [
    ("mnist_convnet", "flatten_without_transpose", mutant_flatten_without_transpose),
    ("mnist_convnet", "conv_kernel_hw_swapped", mutant_kernel_hw_swapped),
    ("addition_lstm", "lstm_keras_gate_order", mutant_keras_gate_order),
    ("fashion_resnet20", "batch_norm_default_epsilon", mutant_default_epsilon),
    ("control_charts", "gru_linear_before_reset_0", mutant_gru_reset_before),
    ("image_layers", "zero_padding_swapped", mutant_padding_swapped),
]


def run_runtime(directory, names):
    import onnx

    ort_dir = os.environ.get("CTNN_ORT_DIR", "/opt/ctnn-ort")
    node = shutil.which("node")
    if node is None:
        skip("node is not installed (tools/install-deps.sh installs nodejs)")
    if not os.path.isdir(os.path.join(ort_dir, "node_modules", "onnxruntime-node")):
        skip(f"onnxruntime-node is not installed in {ort_dir} (tools/install-deps.sh installs it)")

    entries = []
    for name in names:
        entries.append({"name": name, "model": os.path.join(directory, name + ".onnx"),
                        "input": os.path.join(directory, name + ".input.npy"),
                        "expected": os.path.join(directory, name + ".expected.npy")})
    for base, what, mutate in MUTANTS:
        model = onnx.load(os.path.join(directory, base + ".onnx"))
        mutate(model)
        path = os.path.join(directory, f"{base}.mutant_{what}.onnx")
        onnx.save(model, path)
        entries.append({"name": f"{base} mutant {what}", "model": path, "mutant": True,
                        "input": os.path.join(directory, base + ".input.npy"),
                        "expected": os.path.join(directory, base + ".expected.npy")})
    manifest = os.path.join(directory, "ort_manifest.json")
    with open(manifest, "w") as f:
        json.dump(entries, f)
    run = subprocess.run([node, os.path.join(HERE, "run_onnxruntime.js"), ort_dir, manifest],
                         check=True, capture_output=True, text=True)
    results = {r["name"]: r for r in map(json.loads, run.stdout.splitlines())}
    for entry in entries:
        r = results.get(entry["name"])
        if r is None or "error" in r:
            check(False, f"{entry['name']}: ONNX Runtime failed: {r and r.get('error')}")
            continue
        diff = float(r["max_abs_diff"])
        if entry.get("mutant"):
            check(diff > MUTANT_MIN_DIFF, f"{entry['name']}: caught, max |ORT - ctnn| = {diff:.3g} > {MUTANT_MIN_DIFF}")
        else:
            check(r["shape"] == r["expected_shape"] and diff <= TOLERANCE,
                  f"{entry['name']}: ONNX Runtime {r['ort_version']} shape {r['shape']}, "
                  f"max |ORT - ctnn predict| = {diff:.3g} (<= {TOLERANCE})")


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("checker", "runtime"):
        print(__doc__)
        sys.exit(2)
    mode, generator = sys.argv[1], sys.argv[2]
    with tempfile.TemporaryDirectory(prefix="ctnn-onnx-") as directory:
        names = export(generator, directory)
        check(len(names) > 0, f"export_models wrote {len(names)} networks")
        if mode == "checker":
            run_checker(directory, names)
        else:
            run_runtime(directory, names)
    if failures:
        print(f"{failures} check(s) failed")
        sys.exit(1)


if __name__ == "__main__":
    main()
