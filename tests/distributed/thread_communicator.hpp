// tests/distributed/thread_communicator.hpp — a Communicator whose ranks are std::threads of one
// process, so that the distributed algorithms are unit-tested without MPI (and under the sanitizers).
//
//   ThreadWorld world(3);                                   // the shared state of 3 ranks
//   auto errors = world.run([&](ThreadCommunicator& comm) { ... comm.rank() ... });
//
// Collectives meet at a mutex / condition-variable barrier and read each other's buffers in place;
// exchange() goes through one mailbox per (sender, receiver) pair. Stricter than MPI where that
// catches bugs: ranks that disagree on a collective's kind, sizes or root, or an exchange whose
// sizes do not match, throw std::logic_error. abort() throws job_aborted on the calling rank and
// on every rank waiting in (or later entering) a call, as MPI_Abort ends every process.
#pragma once

#include <algorithm>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <ctnn/core/communicator.hpp>

namespace ctnn::testing {

// The job was aborted: by ThreadCommunicator::abort, or because a rank's body threw (ThreadWorld::run).
class job_aborted : public std::runtime_error {
public:
    job_aborted(int by_rank, int exit_code, const std::string& message)
        : std::runtime_error(message), by_rank(by_rank), exit_code(exit_code) {}
    int by_rank;    // the rank that ended the job
    int exit_code;  // abort's exit code; -1 when a body threw
};

class ThreadCommunicator;

// The state the ranks of one job share. Not reusable after an abort.
class ThreadWorld {
public:
    explicit ThreadWorld(int ranks) : ranks_(ranks), slots_(static_cast<std::size_t>(ranks)) {
        if (ranks <= 0) throw std::invalid_argument("ThreadWorld(ranks): expected ranks > 0, got " + std::to_string(ranks));
    }
    ThreadWorld(const ThreadWorld&) = delete;
    ThreadWorld& operator=(const ThreadWorld&) = delete;

    int size() const noexcept { return ranks_; }

    // Runs body(comm) on one thread per rank and joins them; element r is rank r's exception (null if
    // none). A body that throws ends the job (the other ranks' calls throw job_aborted), so a rank
    // that fails before a collective never leaves the others waiting.
    template <class F>
    std::vector<std::exception_ptr> run(F body);

    // The first abort of the job, if any.
    bool aborted() const {
        std::lock_guard lock(mutex_);
        return aborted_;
    }
    int abort_rank() const {
        std::lock_guard lock(mutex_);
        return abort_rank_;
    }
    int abort_exit_code() const {
        std::lock_guard lock(mutex_);
        return abort_exit_code_;
    }
    std::string abort_message() const {
        std::lock_guard lock(mutex_);
        return abort_message_;
    }

private:
    friend class ThreadCommunicator;
    enum class Op { broadcast_f32, broadcast_u8, allreduce_f32, allreduce_f64, allgather };
    struct Slot {  // what one rank brought to the current collective
        Op op{};
        const void* data = nullptr;
        std::size_t size = 0;
        int root = 0;
        std::span<const std::size_t> counts;
    };

    // Records the first abort and wakes every waiting rank. Caller holds mutex_.
    void abort_locked(int rank, int exit_code, const std::string& message) {
        if (!aborted_) {
            aborted_ = true;
            abort_rank_ = rank;
            abort_exit_code_ = exit_code;
            abort_message_ = message;
        }
        changed_.notify_all();
    }
    [[noreturn]] void throw_aborted_locked() const { throw job_aborted(abort_rank_, abort_exit_code_, abort_message_); }

    // Every rank arrives before any leaves; throws job_aborted instead if the job is aborted meanwhile.
    void barrier_locked(std::unique_lock<std::mutex>& lock) {
        if (aborted_) throw_aborted_locked();
        const std::uint64_t generation = generation_;
        if (++arrived_ == ranks_) {
            arrived_ = 0;
            ++generation_;
            changed_.notify_all();
            return;
        }
        changed_.wait(lock, [&] { return generation_ != generation || aborted_; });
        if (generation_ == generation) throw_aborted_locked();
    }

    const int ranks_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    int arrived_ = 0;
    std::uint64_t generation_ = 0;
    std::vector<Slot> slots_;
    std::map<std::pair<int, int>, std::deque<std::vector<float>>> mailboxes_;  // (from, to) -> messages
    bool aborted_ = false;
    int abort_rank_ = -1;
    int abort_exit_code_ = 0;
    std::string abort_message_;
};

class ThreadCommunicator final : public Communicator {
public:
    ThreadCommunicator(ThreadWorld& world, int rank) : world_(world), rank_(rank) {
        if (rank < 0 || rank >= world.size())
            throw std::invalid_argument("ThreadCommunicator(world, rank): expected 0 <= rank < " +
                                        std::to_string(world.size()) + ", got " + std::to_string(rank));
    }

    int rank() const noexcept override { return rank_; }
    int size() const noexcept override { return world_.size(); }

    void broadcast(std::span<float> data, int root) override { broadcast_impl(ThreadWorld::Op::broadcast_f32, data, root); }
    void broadcast(std::span<std::uint8_t> data, int root) override {
        broadcast_impl(ThreadWorld::Op::broadcast_u8, data, root);
    }
    void allreduce_sum(std::span<float> data) override { allreduce_impl(ThreadWorld::Op::allreduce_f32, data); }
    void allreduce_sum(std::span<double> data) override { allreduce_impl(ThreadWorld::Op::allreduce_f64, data); }

    void exchange(int peer, std::span<const float> out, std::span<float> in) override {
        std::unique_lock lock(world_.mutex_);
        if (world_.aborted_) world_.throw_aborted_locked();
        if (peer < 0 || peer >= size()) fail_locked("exchange: peer " + std::to_string(peer) + " is not a rank");
        world_.mailboxes_[{rank_, peer}].emplace_back(out.begin(), out.end());
        world_.changed_.notify_all();
        auto& inbox = world_.mailboxes_[{peer, rank_}];
        world_.changed_.wait(lock, [&] { return !inbox.empty() || world_.aborted_; });
        if (inbox.empty()) world_.throw_aborted_locked();
        std::vector<float> message = std::move(inbox.front());
        inbox.pop_front();
        if (message.size() != in.size())
            fail_locked("exchange: rank " + std::to_string(rank_) + " expected " + std::to_string(in.size()) +
                        " floats from rank " + std::to_string(peer) + ", got " + std::to_string(message.size()));
        std::copy(message.begin(), message.end(), in.begin());
    }

    void allgather(std::span<const float> mine, std::span<float> all, std::span<const std::size_t> counts) override {
        std::unique_lock lock(world_.mutex_);
        if (counts.size() != static_cast<std::size_t>(size()))
            fail_locked("allgather: expected " + std::to_string(size()) + " counts, got " + std::to_string(counts.size()));
        std::size_t total = 0;
        for (std::size_t c : counts) total += c;
        if (mine.size() != counts[static_cast<std::size_t>(rank_)] || all.size() != total)
            fail_locked("allgather: rank " + std::to_string(rank_) + " passed " + std::to_string(mine.size()) +
                        " floats into " + std::to_string(all.size()) + " for counts summing to " + std::to_string(total));
        deposit_locked(lock, {ThreadWorld::Op::allgather, mine.data(), mine.size(), 0, counts});
        for (const auto& slot : world_.slots_)
            if (!std::equal(slot.counts.begin(), slot.counts.end(), counts.begin(), counts.end()))
                throw std::logic_error("allgather: the ranks passed different counts");
        lock.unlock();
        std::size_t offset = 0;
        for (const auto& slot : world_.slots_) {
            const auto* first = static_cast<const float*>(slot.data);
            std::copy(first, first + slot.size, all.begin() + static_cast<std::ptrdiff_t>(offset));
            offset += slot.size;
        }
        lock.lock();
        world_.barrier_locked(lock);  // the others' `mine` stay untouched until everyone has copied
    }

    [[noreturn]] void abort(const std::string& message, int exit_code) override {
        std::unique_lock lock(world_.mutex_);
        world_.abort_locked(rank_, exit_code, message);
        world_.throw_aborted_locked();
    }

private:
    // A call that cannot go on: this rank throws std::logic_error, the others job_aborted. Holds mutex_.
    [[noreturn]] void fail_locked(const std::string& message) {
        world_.abort_locked(rank_, -1, message);
        throw std::logic_error(message);
    }

    // Publishes this rank's slot and waits for all; then checks that every rank called the same
    // collective with the same size and root (each rank sees the same slots, so all throw alike).
    void deposit_locked(std::unique_lock<std::mutex>& lock, ThreadWorld::Slot slot) {
        world_.slots_[static_cast<std::size_t>(rank_)] = slot;
        world_.barrier_locked(lock);
        for (const auto& other : world_.slots_) {
            if (other.op != slot.op || other.root != slot.root ||
                (slot.op != ThreadWorld::Op::allgather && other.size != slot.size))
                throw std::logic_error("ThreadCommunicator: the ranks called different collectives, or the same "
                                       "with different sizes or roots");
        }
    }

    template <class T>
    void broadcast_impl(ThreadWorld::Op op, std::span<T> data, int root) {
        std::unique_lock lock(world_.mutex_);
        if (root < 0 || root >= size()) fail_locked("broadcast: root " + std::to_string(root) + " is not a rank");
        deposit_locked(lock, {op, data.data(), data.size(), root, {}});
        lock.unlock();
        if (rank_ != root) {
            const auto* source = static_cast<const T*>(world_.slots_[static_cast<std::size_t>(root)].data);
            std::copy(source, source + data.size(), data.begin());
        }
        lock.lock();
        world_.barrier_locked(lock);  // the root's data stays untouched until everyone has copied
    }

    // Sums in rank order, the same on every rank; each rank writes its own data only after all have read.
    template <class T>
    void allreduce_impl(ThreadWorld::Op op, std::span<T> data) {
        std::unique_lock lock(world_.mutex_);
        deposit_locked(lock, {op, data.data(), data.size(), 0, {}});
        lock.unlock();
        std::vector<T> sum(static_cast<const T*>(world_.slots_[0].data),
                           static_cast<const T*>(world_.slots_[0].data) + data.size());
        for (std::size_t r = 1; r < world_.slots_.size(); ++r) {
            const auto* other = static_cast<const T*>(world_.slots_[r].data);
            for (std::size_t k = 0; k < sum.size(); ++k) sum[k] = sum[k] + other[k];
        }
        lock.lock();
        world_.barrier_locked(lock);
        lock.unlock();
        std::copy(sum.begin(), sum.end(), data.begin());
    }

    ThreadWorld& world_;
    int rank_;
};

template <class F>
std::vector<std::exception_ptr> ThreadWorld::run(F body) {
    std::vector<std::exception_ptr> errors(static_cast<std::size_t>(ranks_));
    std::vector<std::thread> threads;
    for (int r = 0; r < ranks_; ++r) {
        threads.emplace_back([this, r, &body, &errors] {
            try {
                ThreadCommunicator comm(*this, r);
                body(comm);
            } catch (const std::exception& e) {
                errors[static_cast<std::size_t>(r)] = std::current_exception();
                std::lock_guard lock(mutex_);
                abort_locked(r, -1, "rank " + std::to_string(r) + " threw: " + e.what());
            } catch (...) {
                errors[static_cast<std::size_t>(r)] = std::current_exception();
                std::lock_guard lock(mutex_);
                abort_locked(r, -1, "rank " + std::to_string(r) + " threw");
            }
        });
    }
    for (auto& t : threads) t.join();
    return errors;
}

// Rethrows the first rank's exception (in rank order), if any.
inline void rethrow_first(const std::vector<std::exception_ptr>& errors) {
    for (const auto& e : errors)
        if (e) std::rethrow_exception(e);
}

}  // namespace ctnn::testing
