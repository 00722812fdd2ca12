// Writes the fixture arrays (npz_fixture.hpp) with ctnn::io::save_npz, for numpy to check.
// Usage: npz_write_fixture OUT.npz
#include <cstdio>
#include <exception>

#include "npz_fixture.hpp"

int main(int argc, char** argv) try {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s OUT.npz\n", argv[0]);
        return 2;
    }
    ctnn::io::save_npz(argv[1], npz_fixture::arrays());
    return 0;
} catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
}
