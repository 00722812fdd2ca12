// benchmarks/bench_allreduce.cpp — what one data-parallel step pays to sum gradients across ranks.
//
// Times, for the gradient sizes of the reference MLP (1,290,510 floats, 5.16 MB) and of the
// convnet (34,826 floats, 139 KB):
//   MPI_Allreduce        MPI_IN_PLACE, MPI_FLOAT, MPI_SUM: what GradientReduction::allreduce calls
//   tree, S shards       distributed::sum_shards_in_tree_order with S shards spread over the ranks
//                        (GradientReduction::deterministic): the local additions of a rank's
//                        S/ranks shards, then the tree's levels across ranks
//   tree, <ranks> shards the same with one shard per rank: the communication alone, no local additions
// Each timing starts after a barrier and ends when the slowest rank is done (the max over ranks);
// the median over the repetitions is printed, with the algorithm bandwidth (vector bytes / time)
// and the bus bandwidth of a ring allreduce (2 (p-1)/p bytes / time, NCCL's convention) to compare
// with a link's speed. An MPI program, not Google Benchmark: every rank must run each repetition.
//
// Run:     mpirun -np 2 build/benchmarks/bench_allreduce [repetitions]
//          (as root add --allow-run-as-root; --oversubscribe for more ranks than cores)
#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

// First: it keeps Open MPI's deprecated C++ bindings out before including <mpi.h>.
#include <ctnn/distributed/distributed.hpp>

#include <mpi.h>

namespace {

using ctnn::distributed::MpiCommunicator;

// Median over `repetitions` of the slowest rank's time for op(), after `warmup` untimed calls;
// reset() runs before each call, untimed (sum_shards_in_tree_order overwrites its inputs).
double median_seconds(int repetitions, const std::function<void()>& reset, const std::function<void()>& op) {
    constexpr int warmup = 3;
    std::vector<double> times;
    for (int i = -warmup; i < repetitions; ++i) {
        reset();
        MPI_Barrier(MPI_COMM_WORLD);
        const double start = MPI_Wtime();
        op();
        double elapsed = MPI_Wtime() - start;
        MPI_Allreduce(MPI_IN_PLACE, &elapsed, 1, MPI_DOUBLE, MPI_MAX, MPI_COMM_WORLD);
        if (i >= 0) times.push_back(elapsed);
    }
    std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
    return times[times.size() / 2];
}

void report(const MpiCommunicator& world, const char* what, const char* model, std::size_t floats, double seconds) {
    if (world.rank() != 0) return;
    const double bytes = 4.0 * double(floats), p = world.size();
    // One rank moves nothing: its bandwidths would be meaningless, so only its time is printed.
    if (world.size() == 1) {
        std::printf("%-22s %-8s %9zu floats  %2d ranks  %10.1f us\n", what, model, floats, 1, seconds * 1e6);
        return;
    }
    std::printf("%-22s %-8s %9zu floats  %2d ranks  %10.1f us  algbw %6.2f GB/s  busbw %6.2f GB/s\n", what, model,
                floats, world.size(), seconds * 1e6, bytes / seconds / 1e9, 2.0 * (p - 1) / p * bytes / seconds / 1e9);
}

}  // namespace

int main(int argc, char** argv) {
    MpiCommunicator world;
    return ctnn::distributed::run_or_abort(world, [&] {
        const int repetitions = argc > 1 ? std::atoi(argv[1]) : 30;
        if (repetitions <= 0) throw std::invalid_argument("bench_allreduce [repetitions]: expected a positive count");
        const auto ranks = static_cast<std::size_t>(world.size());
        if (world.rank() == 0)
            std::printf("bench_allreduce: %zu ranks, median of %d repetitions (slowest rank each)\n", ranks, repetitions);

        struct Case {
            const char* model;
            std::size_t floats;
        };
        for (const Case c : {Case{"mlp", 1'290'510}, Case{"convnet", 34'826}}) {
            std::vector<float> gradient(c.floats);
            auto fill = [&] { std::fill(gradient.begin(), gradient.end(), 1.0f); };
            report(world, "MPI_Allreduce", c.model, c.floats, median_seconds(repetitions, fill, [&] {
                MPI_Allreduce(MPI_IN_PLACE, gradient.data(), int(c.floats), MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
            }));

            // The deterministic reduction with `shards` shards: this rank's shards_of_rank vectors.
            for (const std::size_t shards : {std::size_t{8}, ranks}) {
                if (shards < ranks) continue;
                const auto mine = ctnn::distributed::shards_of_rank(world.rank(), world.size(), shards);
                std::vector<std::vector<float>> local(mine.size(), std::vector<float>(c.floats));
                std::vector<float*> pointers;
                for (auto& v : local) pointers.push_back(v.data());
                std::vector<float> total(c.floats);
                auto refill = [&] {
                    for (auto& v : local) std::fill(v.begin(), v.end(), 1.0f);
                };
                const std::string label = "tree, " + std::to_string(shards) + " shards";
                report(world, label.c_str(), c.model, c.floats, median_seconds(repetitions, refill, [&] {
                    ctnn::distributed::sum_shards_in_tree_order(world, shards, pointers, c.floats, total);
                }));
                if (shards == ranks) break;  // 8 ranks: the two cases are one
            }
        }
    });
}
