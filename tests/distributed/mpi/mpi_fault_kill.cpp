// Under mpirun -np 2, expected to fail: rank 1 is killed (SIGKILL, as by the OOM killer) in the
// middle of a loop of allreduces. mpirun must notice and end the job with a nonzero exit, never hang.
#include <csignal>
#include <vector>

#include <ctnn/distributed/distributed.hpp>

int main() {
    ctnn::distributed::MpiCommunicator world;
    return ctnn::distributed::run_or_abort(world, [&] {
        std::vector<float> gradients(10000, 1.0f);
        // Enough steps that rank 0 is still in the loop long after rank 1 died at step 100.
        for (int step = 0; step < 10'000'000; ++step) {
            if (step == 100 && world.rank() == 1) std::raise(SIGKILL);
            world.allreduce_sum(gradients);
            gradients.assign(gradients.size(), 1.0f);
        }
        return 0;
    });
}
