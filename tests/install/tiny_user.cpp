// tests/install/tiny_user.cpp — the user program of the install tests (pkg-config, CMake's
// find_package, meson subproject): trains a tiny net and round-trips its weights through a file (zlib).
// usage: tiny_user DIR   (a scratch directory for the weights file)
#include <ctnn/ctnn.hpp>
#include <cstdio>
#include <filesystem>
#if defined(CTNN_EXPECT_OPENMP) && !defined(_OPENMP)
#error "the build did not bring OpenMP (ctnn was installed with it)"
#endif
struct Tiny : ctnn::Sequential<ctnn::Dense<2, 4, ctnn::Tanh>, ctnn::Dense<4, 1, ctnn::Sigmoid>> {};
static_assert(Tiny::param_count == 17);
int main(int argc, char** argv) {
    if (argc != 2) return 2;
    auto model = ctnn::compile<Tiny>(ctnn::optimizers::Adam{}, ctnn::losses::BinaryCrossentropy{}, ctnn::metrics::Accuracy{});
    const ctnn::Matrix x = {{0, 1}, {1, 0}};
    const ctnn::Matrix y = {{1}, {0}};
    model.fit(x, y, {.epochs = 2, .batch_size = 2, .verbose = 0});
    const std::filesystem::path weights = std::filesystem::path(argv[1]) / "tiny.npz";
    model.save_weights(weights.string());  // zip + CRC-32 from zlib
    model.load_weights(weights.string());
    std::printf("a program built against ctnn works: %zu outputs\n", model.predict(x).size());
}
