// tests/onnx/export_models.cpp — writes, for every test network, <name>.onnx (ctnn::onnx::save), the
// inputs <name>.input.npy and ctnn's own predict outputs <name>.expected.npy, plus manifest.txt
// (one name per line). check_onnx.py then has onnx.checker and ONNX Runtime judge the files.
//
// Weights are random at a trained network's scale: the kernels are the initializers' Glorot and
// orthogonal draws, and biases, BatchNormalization's four arrays and embeddings are drawn here (left
// at 0 and 1, a wrong epsilon or bias mapping would go unseen). The networks are
// the examples' (MLP, convnet, ResNet-20, addition LSTM, control charts) plus small ones that together
// cover every layer kind and layout change the exporter knows; these end linear, so that a
// mistake is not squashed by a final softmax.
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <ctnn/ctnn.hpp>
#include <ctnn/io/npy.hpp>
#include <ctnn/io/onnx.hpp>

#include "../../examples/addition_rnn.hpp"
#include "../../examples/fashion_resnet20.hpp"

using namespace ctnn;

namespace {

// examples/mnist_mlp.cpp, mnist_convnet.cpp and control_charts.cpp define these in their .cpp files.
struct MnistMlp : Sequential<Dense<784, 1000, Relu>, Dense<1000, 500, Relu>, Dropout<0.9>, Dense<500, 10, Softmax>> {};
struct MnistConvnet : Sequential<Input<28, 28, 1>, Conv2D<32, 3, 3, Relu>, MaxPooling2D<2, 2>, Conv2D<64, 3, 3, Relu>,
                                 MaxPooling2D<2, 2>, Flatten, Dropout<0.5>, Dense<1600, 10, Softmax>> {};
struct ControlChartNet : Sequential<Input<60, 1>, Conv1D<16, 5, Relu, Padding1D::causal>, MaxPooling1D<2>,
                                    Conv1D<32, 3, Relu, Padding1D::same>, GRU<32>, Dense<32, 6, Softmax>> {};

// Images: asymmetric zero padding, a strided same convolution (odd sizes: TensorFlow's extra row at
// the bottom), average pooling at stride 1, BatchNormalization after an activation (not folded) and
// after a Dense (folded by predict), softmax over an image's channels, a Concatenate of a convolution,
// Identity and a pooling, a Residual whose BatchNormalization folds, Flatten of a channels-first image.
struct ImageNet
    : Sequential<Input<10, 9, 3>, ZeroPadding2D<1, 2, 0, 1>, Conv2D<6, 3, 3, Tanh, 2, Padding::same>,
                 AveragePooling2D<2, 2, 1>, BatchNormalization, Activation<Sigmoid>,
                 Branches<Concatenate, Sequential<Conv2D<4, 1, 1, Relu>>, Identity, MaxPooling2D<1, 1, 1>>,
                 Activation<Softmax>, Residual<Conv2D<16, 3, 3, Linear, 1, Padding::same>, BatchNormalization>,
                 Activation<Relu>, ZeroPadding2D<1>, Conv2D<5, 2, 3, Relu, 2>, Flatten, Dense<40, 8, Relu>,
                 Dense<8, 8>, BatchNormalizationWith<0.9, 1e-5>, Dropout<0.25>, Dense<8, 5>> {};
// A global max pooling and a residual block's Add after a branch that leaves channels last.
struct GlobalMaxNet : Sequential<Input<8, 8, 2>, Conv2D<6, 3, 3, Relu, 2>, GlobalMaxPooling2D, BatchNormalization,
                                 Residual<Dense<6, 6, Tanh>, Dense<6, 6>>, Dense<6, 3>> {};
// Sequences: Conv1D same and strided valid, both 1-D poolings and both global ones, BatchNormalization
// on a sequence, Flatten of a channels-first sequence, Concatenate of vectors.
struct SequenceNet
    : Sequential<Input<12, 3>, Conv1D<5, 3, Relu, Padding1D::same>, MaxPooling1D<2>, Conv1D<4, 2, Linear, Padding1D::valid, 2>,
                 BatchNormalization, AveragePooling1D<2, 1>,
                 Branches<Concatenate, GlobalMaxPooling1D, GlobalAveragePooling1D, Flatten>, Dense<16, 3>> {};
// Recurrent layers: SimpleRNN and GRU, returning sequences or the last state, RepeatVector, softmax on
// a sequence, Dense on a sequence.
struct RecurrentNet
    : Sequential<Input<5, 4>, SimpleRNN<6, return_sequences>, AveragePooling1D<2, 1>, GRU<5>, RepeatVector<3>,
                 LSTM<4, return_sequences>, Activation<Softmax>, Dense<4, 2, Sigmoid>> {};
// Token ids: Embedding (ids given as floats, some with fractions that truncate), an LSTM over them,
// Flatten of a sequence, RepeatVector, the last state of a SimpleRNN.
struct EmbeddingNet : Sequential<Input<6>, Embedding<20, 8>, LSTM<7, return_sequences>, Flatten, RepeatVector<2>,
                                 SimpleRNN<4>, Dense<4, 3>> {};

std::mt19937 random_engine(2024);

float uniform(float low, float high) { return std::uniform_real_distribution<float>(low, high)(random_engine); }

void write_npy(const std::filesystem::path& path, std::vector<std::size_t> shape, const float* values, std::size_t count) {
    const std::vector<std::uint8_t> bytes = io::encode_npy(shape, std::span<const float>(values, count));
    io::write_file_atomically(path, std::as_bytes(std::span(bytes)));
}

template <class Net>
void export_network(const std::filesystem::path& dir, const std::string& name, std::size_t samples, std::ofstream& manifest,
                    std::size_t vocabulary = 0) {
    auto model = compile<Net>(optimizers::SGD{}, losses::MeanSquaredError{});
    model.initialize(1);
    model.network().visit_parameters([](std::size_t, const std::string&, Parameter& p) {
        for (float& v : p.value) {
            if (p.name == "bias") v += uniform(-0.2f, 0.2f);  // (kernels keep their Glorot / orthogonal draws)
            else if (p.name == "gamma" || p.name == "moving_variance") v = uniform(0.5f, 1.5f);
            else if (p.name == "beta" || p.name == "moving_mean") v = uniform(-0.5f, 0.5f);
            else if (p.name == "embeddings") v = uniform(-1.0f, 1.0f);
        }
    });
    Matrix x = Matrix::from_shape({samples, Net::input_size});
    for (float& v : x) v = vocabulary > 0 ? uniform(0.0f, float(vocabulary) - 0.01f) : uniform(-1.0f, 1.0f);
    const Matrix y = model.predict(x, {.batch_size = 5});  // several batches, the last one partial

    const auto& trained = model;  // save takes a const model
    onnx::save(trained, dir / (name + ".onnx"));
    std::vector<std::size_t> in_shape{samples}, out_shape{samples};
    for (std::size_t d : Net::input_shape::dims) in_shape.push_back(d);
    for (std::size_t d : Net::output_shape::dims) out_shape.push_back(d);
    write_npy(dir / (name + ".input.npy"), in_shape, x.data(), x.size());
    write_npy(dir / (name + ".expected.npy"), out_shape, y.data(), y.size());
    manifest << name << '\n';
}

}  // namespace

int main(int argc, char** argv) try {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s OUTPUT_DIR\n", argv[0]);
        return 2;
    }
    const std::filesystem::path dir = argv[1];
    std::filesystem::create_directories(dir);
    std::ofstream manifest(dir / "manifest.txt");
    export_network<MnistMlp>(dir, "mnist_mlp", 16, manifest);
    export_network<MnistConvnet>(dir, "mnist_convnet", 12, manifest);
    export_network<examples::FashionResNet20>(dir, "fashion_resnet20", 6, manifest);
    export_network<examples::addition::Network<examples::addition::LstmLayers, 3>>(dir, "addition_lstm", 11, manifest);
    export_network<ControlChartNet>(dir, "control_charts", 11, manifest);
    export_network<ImageNet>(dir, "image_layers", 11, manifest);
    export_network<GlobalMaxNet>(dir, "global_max", 11, manifest);
    export_network<SequenceNet>(dir, "sequence_layers", 11, manifest);
    export_network<RecurrentNet>(dir, "recurrent_layers", 11, manifest);
    export_network<EmbeddingNet>(dir, "embedding", 11, manifest, 20);
    manifest.close();
    if (!manifest) throw std::runtime_error("cannot write " + (dir / "manifest.txt").string());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "export_models: %s\n", e.what());
    return 1;
}
