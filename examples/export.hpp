// examples/export.hpp — the training examples' --save-onnx FILE and --save-predictions FILE.npy, so a
// trained model can be checked outside ctnn: ONNX Runtime run on the same inputs must give the rows
// of the .npy (float32, one row of output_size values per test sample, as predict returns them).
#pragma once

#include <cstdio>
#include <span>
#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/io/npy.hpp>
#include <ctnn/io/onnx.hpp>

#include "cli.hpp"

namespace examples {

// Writes what the options ask for (both default to "": not written; each example lists them in its
// Options): the model as ONNX, and predict(x) as an (n, output_size) .npy.
template <class Model>
void save_exports(Model& model, const Options& options, const ctnn::Matrix& x, std::size_t batch_size) {
    if (const std::string path = options.text("save-onnx"); !path.empty()) {
        ctnn::onnx::save(model, path);
        std::printf("saved ONNX model to %s\n", path.c_str());
    }
    if (const std::string path = options.text("save-predictions"); !path.empty()) {
        const ctnn::Matrix y = model.predict(x, {.batch_size = batch_size});
        const std::vector<std::size_t> shape{y.shape()[0], y.shape()[1]};
        const std::vector<std::uint8_t> bytes = ctnn::io::encode_npy(shape, std::span<const float>(y.data(), y.size()));
        ctnn::io::write_file_atomically(path, std::as_bytes(std::span(bytes)));
        std::printf("saved predictions (%zu, %zu) to %s\n", shape[0], shape[1], path.c_str());
    }
}

}  // namespace examples
