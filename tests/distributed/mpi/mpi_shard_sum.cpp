// Under mpirun (tests/distributed/mpi/meson.build runs it at 1, 2, 3 and 4 ranks): MpiCommunicator's
// calls, whole and cut into pieces, and sum_shards_in_tree_order over real MPI against the serial
// tree on every rank. Rank 0 prints "bits <hash>" of all the sums: the wrapper checks that it is the
// same at every rank count. Exits 1 on any mismatch (every rank counts them; the sum decides).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <numeric>
#include <string>
#include <vector>

#include <ctnn/distributed/distributed.hpp>

#include "../tree_oracle.hpp"

namespace {

using ctnn::distributed::MpiCommunicator;

int failures = 0;

void expect(bool ok, const MpiCommunicator& comm, const std::string& what) {
    if (ok) return;
    ++failures;
    std::fprintf(stderr, "rank %d of %d: FAILED: %s\n", comm.rank(), comm.size(), what.c_str());
}

// broadcast, allreduce, allgather and exchange on sizes that a small max_count_per_call cuts into pieces.
void check_calls(MpiCommunicator& comm, const std::string& label) {
    const int rank = comm.rank(), ranks = comm.size();
    for (int root = 0; root < ranks; ++root) {
        std::vector<float> f(10, float(rank));
        comm.broadcast(f, root);
        expect(f == std::vector<float>(10, float(root)), comm, label + ": float broadcast from rank " + std::to_string(root));
        std::vector<std::uint8_t> b(7, std::uint8_t(rank));
        comm.broadcast(b, root);
        expect(b == std::vector<std::uint8_t>(7, std::uint8_t(root)), comm, label + ": byte broadcast");
    }
    // Small integers: exact in any order of addition.
    std::vector<float> f(11);
    std::iota(f.begin(), f.end(), float(rank));
    comm.allreduce_sum(f);
    std::vector<double> d(9, double(rank + 1));
    comm.allreduce_sum(d);
    const float rank_sum = float(ranks * (ranks - 1) / 2);
    for (std::size_t k = 0; k < f.size(); ++k) expect(f[k] == rank_sum + float(ranks) * float(k), comm, label + ": float allreduce");
    expect(d == std::vector<double>(9, double(ranks * (ranks + 1) / 2)), comm, label + ": double allreduce");

    // Rank r brings r + 2 copies of r.
    std::vector<std::size_t> counts;
    std::vector<float> expected;
    for (int r = 0; r < ranks; ++r) {
        counts.push_back(std::size_t(r) + 2);
        expected.insert(expected.end(), std::size_t(r) + 2, float(r));
    }
    std::vector<float> all(expected.size(), -1.0f);
    comm.allgather(std::vector<float>(std::size_t(rank) + 2, float(rank)), all, counts);
    expect(all == expected, comm, label + ": allgather with variable counts");

    // Pairs (0,1), (2,3), ...; an odd last rank exchanges with itself. Unequal directions: 5 out, 8 back.
    const int peer = (rank ^ 1) < ranks ? rank ^ 1 : rank;
    const std::size_t out_size = rank < peer ? 5 : 8, in_size = rank < peer ? 8 : 5;
    std::vector<float> in(peer == rank ? 5 : in_size);
    comm.exchange(peer, std::vector<float>(peer == rank ? 5 : out_size, float(rank)), in);
    expect(in == std::vector<float>(in.size(), float(peer)), comm, label + ": exchange with rank " + std::to_string(peer));
}

// Every (shards, length) case valid at 1 to 4 ranks; returns the FNV hash of all the sums.
std::uint64_t check_tree_sums(MpiCommunicator& comm, const std::string& label) {
    std::uint64_t hash = 0xcbf29ce484222325ull;
    for (std::size_t shards : {4u, 8u, 16u})
        for (std::size_t length : {1u, 7u, 1000u, 12345u}) {
            const auto data = ctnn::testing::mixed_magnitude_shards(shards, length, ctnn::testing::case_seed(shards, length));
            const auto own = ctnn::distributed::shards_of_rank(comm.rank(), comm.size(), shards);
            std::vector<std::vector<float>> scratch(data.begin() + std::ptrdiff_t(own.first),
                                                    data.begin() + std::ptrdiff_t(own.last));
            std::vector<float*> local;
            for (auto& v : scratch) local.push_back(v.data());
            std::vector<float> out(length, -1.0f);
            ctnn::distributed::sum_shards_in_tree_order(comm, shards, local, length, out);
            const auto expected = ctnn::testing::serial_tree_sum(data);
            expect(ctnn::testing::bits_differing(out, expected) == 0, comm,
                   label + ": tree sum of " + std::to_string(shards) + " shards of length " + std::to_string(length) +
                       " differs from the serial tree in " + std::to_string(ctnn::testing::bits_differing(out, expected)) +
                       " elements");
            // And the data can tell: another grouping would not have passed.
            expect(ctnn::testing::bits_differing(ctnn::testing::left_to_right_sum(data), expected) > 0, comm,
                   label + ": a left-to-right sum gives the tree's bits on this data; the check above proves nothing");
            hash = ctnn::testing::fnv1a(out, hash);
        }
    return hash;
}

}  // namespace

int main() {
    MpiCommunicator world;
    return ctnn::distributed::run_or_abort(world, [&] {
        check_calls(world, "whole calls");
        const std::uint64_t hash = check_tree_sums(world, "whole calls");
        {
            // At most 3 elements per MPI call: every call above goes in pieces (and allgather by broadcasts).
            MpiCommunicator pieces(MPI_COMM_WORLD, 3);
            check_calls(pieces, "calls in pieces of 3");
            expect(check_tree_sums(pieces, "calls in pieces of 3") == hash, world, "calls in pieces of 3: other bits");
        }

        // An MPI error is an exception naming the call: a message longer than the receive buffer
        // (truncation), between pairs of ranks (Open MPI truncates a message to oneself silently).
        if (const int peer = world.rank() ^ 1; peer < world.size()) {
            std::string error;
            try {
                std::vector<float> in(2);
                world.exchange(peer, std::vector<float>(4, 1.0f), in);
            } catch (const ctnn::distributed::mpi_error& e) {
                error = e.what();
            }
            expect(error.find("MPI_Sendrecv failed on rank " + std::to_string(world.rank())) != std::string::npos, world,
                   "a truncated exchange throws mpi_error naming MPI_Sendrecv, got \"" + error + "\"");
        }

        std::vector<double> total{double(failures)};
        world.allreduce_sum(total);
        if (world.rank() == 0) {
            std::printf("bits %016llx\n", static_cast<unsigned long long>(hash));
            std::printf("%d ranks: %s\n", world.size(), total[0] == 0 ? "all checks passed" : "FAILED");
        }
        return total[0] == 0 ? 0 : 1;
    });
}
