// ctnn/core/communicator.hpp — what data-parallel fit needs from the processes it runs on, and
// the options that turn it on. MPI implements Communicator (distributed/mpi_communicator.hpp);
// nothing outside ctnn/distributed/ ever includes MPI.
//
//   distributed::MpiCommunicator world;  // MPI_COMM_WORLD
//   model.fit(x, y, {.epochs = 10, .batch_size = 1000, .data_parallel = {.communicator = &world}});
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace ctnn {

// The ranks of one job, numbered 0 .. size()-1. Every call is collective unless it says otherwise:
// every rank makes it, in the same order, with the same sizes.
class Communicator {
public:
    virtual ~Communicator() = default;
    virtual int rank() const noexcept = 0;
    virtual int size() const noexcept = 0;

    // Root's `data` into every rank's `data`.
    virtual void broadcast(std::span<float> data, int root) = 0;
    virtual void broadcast(std::span<std::uint8_t> data, int root) = 0;
    // Element-wise sum over the ranks, on every rank. The order of the additions is the
    // implementation's (and may change with the number of ranks): exact only for sums of values
    // of which at most one per element is nonzero, or of integers.
    virtual void allreduce_sum(std::span<float> data) = 0;
    virtual void allreduce_sum(std::span<double> data) = 0;
    // Point to point, not collective: send `out` to `peer` and receive `in` from it, at once.
    virtual void exchange(int peer, std::span<const float> out, std::span<float> in) = 0;
    // Every rank's `mine` laid end to end, in rank order, on every rank; counts[r] is rank r's size.
    virtual void allgather(std::span<const float> mine, std::span<float> all, std::span<const std::size_t> counts) = 0;
    // Ends every rank of the job after printing `message` (which names this rank). Not collective.
    [[noreturn]] virtual void abort(const std::string& message, int exit_code) = 0;
};

// How the gradients of a global batch are summed across ranks.
enum class GradientReduction {
    // The batch is cut into `shards` parts whatever the number of ranks; each part's gradient is
    // computed alone and the parts are summed in a fixed binary tree: the same bits at any rank count.
    deterministic,
    // Each rank's part of the batch is one computation, summed by the communicator's allreduce:
    // larger products per rank and no tree, but the bits depend on the number of ranks.
    allreduce,
};

// FitOptions::data_parallel / EvaluateOptions::data_parallel. batch_size stays the global batch.
struct DataParallel {
    Communicator* communicator = nullptr;  // null: this process alone (no sharding at all)
    std::size_t shards = 8;                 // a power of two, at least the number of ranks
    GradientReduction reduction = GradientReduction::deterministic;

    bool enabled() const noexcept { return communicator != nullptr; }
};

}  // namespace ctnn
