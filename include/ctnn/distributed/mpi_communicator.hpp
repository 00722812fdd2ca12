// ctnn/distributed/mpi_communicator.hpp — ctnn::Communicator over MPI (Open MPI, MPICH, ...).
//
// The one ctnn header that includes <mpi.h>: a program that trains data-parallel includes it and
// links MPI (meson: dependency('mpi', language: 'cpp'); or build with mpic++); the rest of ctnn
// never needs MPI, which is why ctnn/ctnn.hpp does not include this.
//
//   distributed::MpiCommunicator world;   // initializes MPI if nobody has (and finalizes it)
//   return distributed::run_or_abort(world, [&] {
//       model.fit(x, y, {.batch_size = 1000, .data_parallel = {.communicator = &world}});
//   });
//
//   errors      the communicator is a duplicate of the one given (so ctnn's messages never mix with
//               the program's own) with MPI_ERRORS_RETURN: a failed call throws mpi_error naming the
//               call, instead of MPI's default of ending the job without saying where.
//   sizes       MPI counts are int: longer buffers go in pieces of at most INT_MAX elements.
//   threads     MPI_THREAD_FUNNELED: only the thread that made the communicator calls MPI (ctnn's
//               kernel threads never do).
#pragma once

// The MPI-2 C++ bindings, deprecated and removed in MPI-3, are of no use here and only add warnings.
#ifndef OMPI_SKIP_MPICXX
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "ctnn/core/communicator.hpp"
#include "ctnn/distributed/run_or_abort.hpp"

namespace ctnn::distributed {

// An MPI call returned an error: what() names the call, the rank and MPI's own message.
class mpi_error : public std::runtime_error {
public:
    mpi_error(const std::string& message, int code) : std::runtime_error(message), code_(code) {}
    int code() const noexcept { return code_; }  // the MPI error code

private:
    int code_;
};

namespace detail {

template <class T> MPI_Datatype mpi_type();
template <> inline MPI_Datatype mpi_type<float>() { return MPI_FLOAT; }
template <> inline MPI_Datatype mpi_type<double>() { return MPI_DOUBLE; }
template <> inline MPI_Datatype mpi_type<std::uint8_t>() { return MPI_UINT8_T; }

// MPI_Init is once per process and MPI_Finalize ends MPI for good: the first MpiCommunicator
// initializes MPI when nobody has, and the last one alive finalizes it only in that case.
struct MpiLifetime {
    static inline int live = 0;
    static inline bool initialized_by_ctnn = false;
};

}  // namespace detail

class MpiCommunicator final : public Communicator {
public:
    // A duplicate of `comm` (MPI_COMM_WORLD by default). `max_count_per_call` is the most elements one
    // MPI call moves (INT_MAX, MPI's limit); smaller values exist to test the splitting.
    explicit MpiCommunicator(MPI_Comm comm = MPI_COMM_WORLD, std::size_t max_count_per_call = INT_MAX)
        : max_count_(max_count_per_call) {
        if (max_count_ == 0 || max_count_ > std::size_t{INT_MAX})
            throw std::invalid_argument("MpiCommunicator: max_count_per_call must be in 1 .. INT_MAX, got " +
                                        std::to_string(max_count_per_call));
        int initialized = 0, finalized = 0;
        MPI_Initialized(&initialized);
        MPI_Finalized(&finalized);
        if (finalized)
            throw std::logic_error("MpiCommunicator: MPI is already finalized (by an earlier MpiCommunicator that "
                                   "initialized it, or by the program); keep one alive for the whole program");
        if (!initialized) {
            int provided = 0;
            if (MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
                throw std::runtime_error("MpiCommunicator: MPI_Init_thread failed");
            detail::MpiLifetime::initialized_by_ctnn = true;
        }
        ++detail::MpiLifetime::live;
        try {
            check(MPI_Comm_dup(comm, &comm_), "MPI_Comm_dup");
            check(MPI_Comm_set_errhandler(comm_, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
            check(MPI_Comm_rank(comm_, &rank_), "MPI_Comm_rank");
            check(MPI_Comm_size(comm_, &size_), "MPI_Comm_size");
        } catch (...) {
            release();
            throw;
        }
    }
    MpiCommunicator(const MpiCommunicator&) = delete;
    MpiCommunicator& operator=(const MpiCommunicator&) = delete;
    ~MpiCommunicator() override { release(); }

    int rank() const noexcept override { return rank_; }
    int size() const noexcept override { return size_; }
    MPI_Comm comm() const noexcept { return comm_; }  // the duplicate, for a program's own MPI calls

    void broadcast(std::span<float> data, int root) override { broadcast_impl(data, root); }
    void broadcast(std::span<std::uint8_t> data, int root) override { broadcast_impl(data, root); }
    void allreduce_sum(std::span<float> data) override { allreduce_impl(data); }
    void allreduce_sum(std::span<double> data) override { allreduce_impl(data); }

    void exchange(int peer, std::span<const float> out, std::span<float> in) override {
        check_rank(peer, "exchange: peer");
        // Both sides cut at the same multiples of max_count_, so the peer makes as many calls as we do
        // (our out is its in and the other way round).
        const std::size_t pieces = std::max(pieces_of(out.size()), pieces_of(in.size()));
        for (std::size_t i = 0; i < pieces; ++i) {
            const std::size_t offset = i * max_count_;
            const int send = piece(out.size(), offset), receive = piece(in.size(), offset);
            MPI_Status status;
            check(MPI_Sendrecv(out.data() + std::min(offset, out.size()), send, MPI_FLOAT, peer, exchange_tag,
                               in.data() + std::min(offset, in.size()), receive, MPI_FLOAT, peer, exchange_tag, comm_,
                               &status),
                  "MPI_Sendrecv");
            // MPI accepts a shorter message than the buffer and would leave the rest of `in` stale.
            int received = 0;
            check(MPI_Get_count(&status, MPI_FLOAT, &received), "MPI_Get_count");
            if (received != receive)
                throw std::length_error("MpiCommunicator::exchange: rank " + std::to_string(rank_) + " expected " +
                                        std::to_string(in.size()) + " floats from rank " + std::to_string(peer) +
                                        ", which sent fewer; both sides must pass matching sizes");
        }
    }

    void allgather(std::span<const float> mine, std::span<float> all, std::span<const std::size_t> counts) override {
        if (counts.size() != static_cast<std::size_t>(size_))
            throw std::invalid_argument("MpiCommunicator::allgather: expected one count per rank (" +
                                        std::to_string(size_) + "), got " + std::to_string(counts.size()));
        std::size_t total = 0;
        for (std::size_t c : counts) total += c;
        if (mine.size() != counts[static_cast<std::size_t>(rank_)] || all.size() != total)
            throw std::invalid_argument("MpiCommunicator::allgather: rank " + std::to_string(rank_) + " passed " +
                                        std::to_string(mine.size()) + " floats (its count is " +
                                        std::to_string(counts[static_cast<std::size_t>(rank_)]) + ") into " +
                                        std::to_string(all.size()) + " (the counts sum to " + std::to_string(total) + ")");
        if (total <= max_count_) {
            std::vector<int> icounts(counts.size()), displacements(counts.size());
            int offset = 0;
            for (std::size_t r = 0; r < counts.size(); ++r) {
                icounts[r] = static_cast<int>(counts[r]);
                displacements[r] = offset;
                offset += icounts[r];
            }
            check(MPI_Allgatherv(mine.data(), icounts[static_cast<std::size_t>(rank_)], MPI_FLOAT, all.data(),
                                 icounts.data(), displacements.data(), MPI_FLOAT, comm_),
                  "MPI_Allgatherv");
            return;
        }
        // Displacements are int too: past max_count_ in all, each rank's part is broadcast from it.
        std::copy(mine.begin(), mine.end(), all.begin() + static_cast<std::ptrdiff_t>(offset_of(counts, rank_)));
        std::size_t offset = 0;
        for (int r = 0; r < size_; ++r) {
            broadcast_impl(all.subspan(offset, counts[static_cast<std::size_t>(r)]), r);
            offset += counts[static_cast<std::size_t>(r)];
        }
    }

    // Prints `message` on stderr and ends every process of the job with `exit_code` (MPI_Abort).
    [[noreturn]] void abort(const std::string& message, int exit_code) override {
        std::fprintf(stderr, "%s\n", message.c_str());
        std::fflush(stderr);
        MPI_Abort(comm_, exit_code);
        std::_Exit(exit_code);  // MPI_Abort does not return; if an implementation did, end this process at least
    }

private:
    static constexpr int exchange_tag = 15;

    void release() noexcept {
        int finalized = 0;
        MPI_Finalized(&finalized);  // a program may have finalized MPI itself, and then nothing can be freed
        if (comm_ != MPI_COMM_NULL && !finalized) MPI_Comm_free(&comm_);
        if (--detail::MpiLifetime::live == 0 && detail::MpiLifetime::initialized_by_ctnn && !finalized) MPI_Finalize();
    }

    void check(int code, const char* call) const {
        if (code == MPI_SUCCESS) return;
        char text[MPI_MAX_ERROR_STRING] = {};
        int length = 0;
        MPI_Error_string(code, text, &length);
        throw mpi_error(std::string(call) + " failed on rank " + std::to_string(rank_) + " of " + std::to_string(size_) +
                            ": " + std::string(text, static_cast<std::size_t>(std::max(length, 0))),
                        code);
    }
    void check_rank(int r, const char* what) const {
        if (r < 0 || r >= size_)
            throw std::invalid_argument(std::string("MpiCommunicator::") + what + " must be a rank in 0 .. " +
                                        std::to_string(size_ - 1) + ", got " + std::to_string(r));
    }
    std::size_t pieces_of(std::size_t n) const noexcept { return (n + max_count_ - 1) / max_count_; }
    int piece(std::size_t n, std::size_t offset) const noexcept {
        return offset >= n ? 0 : static_cast<int>(std::min(max_count_, n - offset));
    }
    static std::size_t offset_of(std::span<const std::size_t> counts, int rank) {
        std::size_t offset = 0;
        for (int r = 0; r < rank; ++r) offset += counts[static_cast<std::size_t>(r)];
        return offset;
    }

    template <class T>
    void broadcast_impl(std::span<T> data, int root) {
        check_rank(root, "broadcast: root");
        for (std::size_t offset = 0; offset < data.size(); offset += max_count_)
            check(MPI_Bcast(data.data() + offset, piece(data.size(), offset), detail::mpi_type<T>(), root, comm_),
                  "MPI_Bcast");
    }
    template <class T>
    void allreduce_impl(std::span<T> data) {
        for (std::size_t offset = 0; offset < data.size(); offset += max_count_)
            check(MPI_Allreduce(MPI_IN_PLACE, data.data() + offset, piece(data.size(), offset), detail::mpi_type<T>(),
                                MPI_SUM, comm_),
                  "MPI_Allreduce");
    }

    MPI_Comm comm_ = MPI_COMM_NULL;
    int rank_ = 0;
    int size_ = 1;
    std::size_t max_count_;
};

}  // namespace ctnn::distributed
