// ctnn/distributed/run_or_abort.hpp — one rank's failure ends the whole job, with a message.
//
// An exception on one rank (a missing file, a bad shape) would otherwise leave the other ranks
// waiting forever in their next collective call. run_or_abort turns it into Communicator::abort,
// which ends every rank. Needs no MPI; mpi_communicator.hpp includes it.
//
//   distributed::MpiCommunicator world;
//   int main() { return distributed::run_or_abort(world, [&] { ... train ... }); }
#pragma once

#include <concepts>
#include <cstdlib>
#include <exception>
#include <string>
#include <type_traits>
#include <utility>

#include "ctnn/core/communicator.hpp"

namespace ctnn::distributed {

// Runs body() and returns its result (0 if it returns nothing). If it throws, calls
// comm.abort("ctnn: rank R of N: <what()>", 1), which ends every rank of the job.
template <class F>
    requires std::invocable<F&> &&
             (std::is_void_v<std::invoke_result_t<F&>> || std::convertible_to<std::invoke_result_t<F&>, int>)
int run_or_abort(Communicator& comm, F&& body) {
    std::string what;
    try {
        if constexpr (std::is_void_v<std::invoke_result_t<F&>>) {
            body();
            return 0;
        } else {
            return static_cast<int>(body());
        }
    } catch (const std::exception& e) {
        what = e.what();
    } catch (...) {
        what = "an exception not derived from std::exception";
    }
    comm.abort("ctnn: rank " + std::to_string(comm.rank()) + " of " + std::to_string(comm.size()) + ": " + what, 1);
    std::abort();  // not reached (abort is [[noreturn]]), but g++ does not see that through a virtual call
}

}  // namespace ctnn::distributed
