// A small ctnn program for the end-to-end CPU check (tests/cpu/check_foreign_cpu.py): built for
// x86-64-v4, its Dense forward pass runs AVX-512 code. On a CPU without AVX-512 the check before main
// must stop it with a message; built with CTNN_NO_CPU_CHECK it reaches that code and dies of SIGILL.
#include <cstdio>

#include <ctnn/ctnn.hpp>

struct Net : ctnn::Sequential<ctnn::Dense<64, 32, ctnn::Relu>, ctnn::Dense<32, 10, ctnn::Softmax>> {};

int main() {
    Net net;
    ctnn::Rng rng(1);
    net.initialize(rng);
    Net::Workspace ws;
    ws.reserve(8);
    float x[8 * 64];
    for (int i = 0; i < 8 * 64; ++i) x[i] = 0.01f * float(i % 17);
    net.forward(x, ws, {8, ctnn::Phase::inference, nullptr});
    std::printf("ran on %s: %g\n", ctnn::compiled_isa().c_str(), double(ws.output()[0]));
    return 0;
}
