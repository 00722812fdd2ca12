// Under mpirun -np 2, expected to fail: rank 1 cannot open its data file and throws before the first
// collective call, while rank 0 is already waiting in a broadcast. run_or_abort must end both with
// "ctnn: rank 1 of 2: <path>: cannot open ..." on stderr and a nonzero exit, never a hang.
#include <fstream>
#include <string>
#include <vector>

#include <ctnn/core/error.hpp>
#include <ctnn/distributed/distributed.hpp>

int main(int argc, char** argv) {
    const std::string path = argc > 1 ? argv[1] : "/nonexistent/train-images-idx3-ubyte";
    ctnn::distributed::MpiCommunicator world;
    return ctnn::distributed::run_or_abort(world, [&] {
        if (world.rank() == 1) {
            std::ifstream in(path, std::ios::binary);
            if (!in) throw ctnn::file_error(path, "cannot open (no such file)");
        }
        std::vector<float> weights(1000, 1.0f);
        world.broadcast(weights, 0);  // rank 0 waits here for rank 1, which never comes
        return 0;
    });
}
