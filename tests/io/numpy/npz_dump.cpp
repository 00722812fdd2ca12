// Prints every array of an .npz as read by ctnn::io::load_npz, one line each:
//   <name> TAB <dims joined by ','> TAB <float32 bit patterns in hex, C order, joined by ' '>
// so a script can compare exact bits with numpy. On error prints the message and exits with 1.
// Usage: npz_dump IN.npz
#include <bit>
#include <cstdint>
#include <cstdio>
#include <exception>

#include <ctnn/io/npz.hpp>

int main(int argc, char** argv) try {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s IN.npz\n", argv[0]);
        return 2;
    }
    for (const auto& array : ctnn::io::load_npz(argv[1])) {
        std::printf("%s\t", array.name.c_str());
        for (std::size_t d = 0; d < array.shape.size(); ++d) std::printf(d ? ",%zu" : "%zu", array.shape[d]);
        std::printf("\t");
        for (std::size_t i = 0; i < array.values.size(); ++i)
            std::printf(i ? " %08x" : "%08x", static_cast<unsigned>(std::bit_cast<std::uint32_t>(array.values[i])));
        std::printf("\n");
    }
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
}
