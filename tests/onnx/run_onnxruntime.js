// tests/onnx/run_onnxruntime.js — ONNX Runtime (npm onnxruntime-node, CPU) runs each model of a
// manifest on its saved inputs and prints, per model, one JSON line with the largest absolute
// difference from ctnn's predict outputs. check_onnx.py decides what passes.
//
// Usage: node run_onnxruntime.js ORT_MODULE_DIR MANIFEST.json
//   MANIFEST.json: [{"name": ..., "model": "x.onnx", "input": "x.input.npy", "expected": "x.expected.npy"}, ...]
'use strict';
const fs = require('fs');
const path = require('path');

// A little-endian float32 C-order .npy (format 1.x or 2.x): {shape, data: Float32Array}.
function readNpy(file) {
  const bytes = fs.readFileSync(file);
  if (bytes.toString('latin1', 1, 6) !== 'NUMPY') throw new Error(`${file}: not an .npy file`);
  const major = bytes[6];
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = bytes.toString('latin1', start, start + headerLength);
  if (!header.includes("'descr': '<f4'")) throw new Error(`${file}: expected dtype '<f4', header ${header}`);
  if (!header.includes("'fortran_order': False")) throw new Error(`${file}: expected C order`);
  const shapeText = /'shape': \(([^)]*)\)/.exec(header)[1];
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  const offset = start + headerLength;
  const data = new Float32Array(bytes.buffer.slice(bytes.byteOffset + offset, bytes.byteOffset + bytes.length));
  return { shape, data };
}

async function main() {
  const [ortDir, manifestFile] = process.argv.slice(2);
  const ort = require(path.join(ortDir, 'node_modules', 'onnxruntime-node'));
  const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
  for (const entry of manifest) {
    const result = { name: entry.name, ort_version: ort.env.versions.common };
    try {
      // One thread each: the machine is shared, and the result must not depend on the thread count.
      const session = await ort.InferenceSession.create(entry.model, { intraOpNumThreads: 1, interOpNumThreads: 1 });
      const input = readNpy(entry.input);
      const expected = readNpy(entry.expected);
      const feeds = { [session.inputNames[0]]: new ort.Tensor('float32', input.data, input.shape) };
      const outputs = await session.run(feeds);
      const y = outputs[session.outputNames[0]];
      result.shape = Array.from(y.dims, Number);
      result.expected_shape = expected.shape;
      let maxDiff = 0;
      if (y.data.length !== expected.data.length) {
        maxDiff = Infinity;
      } else {
        for (let i = 0; i < y.data.length; ++i) {
          const d = Math.abs(y.data[i] - expected.data[i]);
          if (!(d <= maxDiff)) maxDiff = Number.isNaN(d) ? Infinity : d;
        }
      }
      result.max_abs_diff = maxDiff === Infinity ? 'inf' : maxDiff;
    } catch (e) {
      result.error = String(e && e.message ? e.message : e);
    }
    console.log(JSON.stringify(result));
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
