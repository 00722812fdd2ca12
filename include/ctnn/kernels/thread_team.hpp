// ctnn/kernels/thread_team.hpp — the threads behind parallel::run: one team of std::threads per
// process, created on first use, that consecutive kernel calls (the layers of one predict, the
// products of one training step) reuse while its workers are still awake.
//
// Why not `#pragma omp parallel`: with OMP_WAIT_POLICY=PASSIVE (what a machine shared with other work
// needs) libgomp puts its workers to sleep as soon as a region ends, so every kernel call pays a
// futex wake-up of each worker (a two-thread batch-1 predict was slower than a one-thread one; figures
// in benchmarks/README.md); with ACTIVE they spin forever and an idle program keeps every core busy. These workers spin
// for a bounded window after each job, then sleep: back-to-back kernels find them awake, an idle
// program costs no CPU once the window has passed.
//
//   spin window   CTNN_SPIN_US=<microseconds> if set (0: sleep as soon as a job is done, libgomp's
//                 PASSIVE); otherwise 200 ms with OMP_WAIT_POLICY=ACTIVE (the KMP_BLOCKTIME default of
//                 Intel's OpenMP, oneDNN and MKL), else 200 µs. Read once, when the team is created.
//                 Except with ACTIVE: when the scheduler has preempted a worker twice within 10 ms
//                 (other programs want the cores: its involuntary context switches, looked at once a
//                 millisecond), the team does not spin for the next 20 ms; a caller whose workers
//                 have not all picked its job up sleeps instead of spinning. On a busy machine threads
//                 that sleep are woken promptly by the scheduler, threads that spin wait for a time slice.
//   wake-up       each worker has its own mailbox (a job sequence number on its own cache line); the
//                 caller bumps the mailboxes of the threads it uses and makes a futex call
//                 (FUTEX_WAKE) only for a worker that went to sleep.
//   one caller    the team runs one job at a time; a second thread that calls a kernel meanwhile runs
//                 it inline on itself (try-lock), as does a call from inside a job (nesting).
//   fork()        the child has no workers: a pthread_atfork handler forgets the parent's team (kept
//                 reachable, never used) and the child creates its own on first use.
//   exit          a function-local static joins the workers when static objects are destroyed
//                 (so a dlclose'd library leaves no thread running its code); kernel calls after that
//                 run inline.
//   exceptions    a job's body must not throw: it runs inside a noexcept function on every thread,
//                 so an exception ends the program through std::terminate.
#pragma once

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <new>
#include <thread>
#include <vector>

#if defined(__unix__) || defined(__APPLE__)
#include <pthread.h>
#define CTNN_TEAM_HAS_ATFORK 1
#endif
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace ctnn::kernels::parallel {

// The spin-wait hint: x86's pause; on AArch64 isb, which stalls the core briefly where yield is a
// no-op on most cores (Rust's spin_loop made the same choice); nothing elsewhere.
inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("isb" ::: "memory");
#endif
}

namespace team_detail {

using clock = std::chrono::steady_clock;

inline constexpr std::chrono::microseconds default_spin{200};
inline constexpr std::chrono::microseconds active_spin{200'000};
inline constexpr int max_workers = 255;
// A spinning thread that sees this much time pass between two looks at the clock (normally a
// microsecond or two apart) was descheduled.
inline constexpr std::chrono::microseconds descheduled_gap{50};
// After a worker of the team was preempted, the team sleeps right after its jobs for this long.
inline constexpr std::chrono::milliseconds busy_machine_pause{20};
// How long a caller that finished its part waits for a worker to pick the job up before it concludes
// the worker is not running (a spinning worker picks a job up within a microsecond).
inline constexpr std::chrono::microseconds not_started_grace{5};

// True on a team's workers, and on a caller while it runs its own part of a job.
inline thread_local bool inside_job = false;

inline bool equals_ignoring_case(const char* text, const char* lower) noexcept {
    for (; *text && *lower; ++text, ++lower)
        if ((*text >= 'A' && *text <= 'Z' ? *text - 'A' + 'a' : *text) != *lower) return false;
    return *text == *lower;
}

inline bool active_wait_policy() noexcept {
    const char* policy = std::getenv("OMP_WAIT_POLICY");
    return policy && equals_ignoring_case(policy, "active");
}

// The window from the environment (see the top of this file); an unreadable CTNN_SPIN_US is ignored.
inline std::chrono::nanoseconds spin_window_from_environment() noexcept {
    if (const char* us = std::getenv("CTNN_SPIN_US"); us && *us) {
        char* end = nullptr;
        errno = 0;
        const unsigned long long value = std::strtoull(us, &end, 10);
        if (errno == 0 && *end == '\0' && us[0] != '-' && value <= 60'000'000ULL)
            return std::chrono::microseconds(static_cast<long long>(value));
    }
    return active_wait_policy() ? active_spin : default_spin;
}

// Involuntary context switches of the calling thread so far (the scheduler took its core away for
// another thread): how a worker finds that the machine has more work than cores. 0 where unknown.
inline long involuntary_switches() noexcept {
#if defined(__linux__) && defined(RUSAGE_THREAD)
    rusage usage{};
    if (getrusage(RUSAGE_THREAD, &usage) == 0) return usage.ru_nivcsw;
#endif
    return 0;
}

// Sleeps while `word` holds `seen` / wakes one sleeper of `word`. On Linux the futex system calls
// themselves: libstdc++'s std::atomic::wait first calls sched_yield a few times, and on a busy
// machine a yield can hand the core to another program for a whole time slice.
template <class T> void sleep_while_equal(const std::atomic<T>& word, T seen) noexcept {
#if defined(__linux__)
    static_assert(sizeof(std::atomic<T>) == sizeof(int) && std::atomic<T>::is_always_lock_free);
    syscall(SYS_futex, reinterpret_cast<const int*>(&word), FUTEX_WAIT_PRIVATE, static_cast<int>(seen), nullptr,
            nullptr, 0);
#else
    word.wait(seen, std::memory_order_acquire);
#endif
}
template <class T> void wake_one(std::atomic<T>& word) noexcept {
#if defined(__linux__)
    syscall(SYS_futex, reinterpret_cast<const int*>(&word), FUTEX_WAKE_PRIVATE, 1, nullptr, nullptr, 0);
#else
    word.notify_one();
#endif
}

// Waits until `word` differs from `seen`: spins (pause) for `window`, then sleeps in the kernel with
// `sleeping` set so that the waker knows to make the system call. The waker changes `word` then reads
// `sleeping`, the waiter sets `sleeping` then reads `word`, all sequentially consistent: one of the
// two sees the other's write, so a wake-up is never lost.
// It stops spinning as soon as it finds it lost its core for a while (two looks at the clock far
// apart), and then sets `descheduled`: the machine has other work, and there a thread that sleeps and
// is woken gets a core back sooner than one that used up its share spinning.
template <class T>
T await_change(const std::atomic<T>& word, T seen, std::atomic<bool>& sleeping, std::chrono::nanoseconds window,
               bool* descheduled = nullptr) noexcept {
    T now = word.load(std::memory_order_acquire);
    if (now != seen) return now;
    if (window.count() > 0) {
        const clock::time_point start = clock::now(), deadline = start + window;
        clock::time_point last = start;
        for (unsigned spins = 1;; ++spins) {
            cpu_relax();
            now = word.load(std::memory_order_acquire);
            if (now != seen) return now;
            if (spins % 16 == 0) {  // read the clock every few pauses, not every one (a pause is short)
                const clock::time_point time = clock::now();
                if (time - last > descheduled_gap) {
                    if (descheduled) *descheduled = true;
                    break;
                }
                if (time >= deadline) break;
                last = time;
            }
        }
    }
    sleeping.store(true, std::memory_order_seq_cst);
    while ((now = word.load(std::memory_order_seq_cst)) == seen) sleep_while_equal(word, seen);
    sleeping.store(false, std::memory_order_relaxed);
    return now;
}

// Changes nothing itself: tells a waiter of await_change that `word` has changed.
template <class T> void wake(std::atomic<T>& word, const std::atomic<bool>& sleeping) noexcept {
    if (sleeping.load(std::memory_order_seq_cst)) wake_one(word);
}

class team {
public:
    using job_function = void (*)(void* body, int thread, int threads) noexcept;

    // back_off: stop spinning for a while when the machine is busy (not with OMP_WAIT_POLICY=ACTIVE).
    team(std::chrono::nanoseconds spin, bool back_off) noexcept : spin_(spin), back_off_(back_off) {}
    team(const team&) = delete;
    team& operator=(const team&) = delete;
    ~team() = default;  // only after stop(), or never (a parent's team in a forked child)

    bool try_acquire() noexcept { return !busy_.exchange(true, std::memory_order_acquire); }
    void release() noexcept { busy_.store(false, std::memory_order_release); }

    // With the team acquired: job(body, t, n) for every t in [0, n), n = min(threads, 1 + the workers
    // this team has or can start), t = 0 on the calling thread. Returns when all are done.
    void execute(int threads, job_function job, void* body) noexcept {
        const int n = 1 + grow(std::min(threads, max_workers + 1) - 1);
        job_ = job;
        body_ = body;
        threads_ = n;
        remaining_.store(n - 1, std::memory_order_relaxed);
        started_.store(0, std::memory_order_relaxed);
        for (int w = 0; w < n - 1; ++w) {
            mailbox& box = *boxes_[static_cast<std::size_t>(w)];
            box.sequence.fetch_add(1, std::memory_order_seq_cst);  // publishes job_, body_, threads_
            wake(box.sequence, box.sleeping);
        }
        const bool was_inside = inside_job;
        inside_job = true;
        job(body, 0, n);
        inside_job = was_inside;
        await_workers(n - 1);
    }

    // Joins the workers; the team must be acquired and is never released afterwards.
    void stop() noexcept {
        stopping_.store(true, std::memory_order_relaxed);
        for (std::size_t w = 0; w < workers_.size(); ++w) {
            boxes_[w]->sequence.fetch_add(1, std::memory_order_seq_cst);
            wake_one(boxes_[w]->sequence);
        }
        for (std::thread& worker : workers_) worker.join();
        workers_.clear();
    }

    std::chrono::nanoseconds spin_window() const noexcept { return spin_; }
    int workers() const noexcept { return static_cast<int>(workers_.size()); }

    team* next_orphan = nullptr;  // the list of a forked child's teams inherited from its parents

private:
    struct alignas(128) mailbox {  // 128: a line and the line the adjacent-line prefetcher pairs it with
        std::atomic<std::uint32_t> sequence{0};
        std::atomic<bool> sleeping{false};
    };

    // Starts workers until there are `wanted` (or the system refuses); returns how many there are.
    int grow(int wanted) noexcept {
        while (static_cast<int>(workers_.size()) < wanted) {
            try {
                boxes_.reserve(workers_.size() + 1);
                workers_.reserve(workers_.size() + 1);
                if (boxes_.size() == workers_.size()) boxes_.push_back(std::make_unique<mailbox>());
                mailbox* box = boxes_.back().get();
                const int index = static_cast<int>(workers_.size()) + 1;
                workers_.emplace_back([this, box, index] { work(*box, index); });
            } catch (...) {  // std::system_error (no more threads) or std::bad_alloc: use fewer
                break;
            }
        }
        return std::min(wanted, static_cast<int>(workers_.size()));
    }

    // The caller, its own part done, waits for the `workers` others. It spins only while they all have
    // started: one that has not is asleep or waiting for a core, and then the caller sleeps at once,
    // which on a busy machine frees its core for that worker (a caller that spun would keep it).
    void await_workers(int workers) noexcept {
        int left = remaining_.load(std::memory_order_acquire);
        if (left == 0) return;
        const clock::time_point grace = clock::now() + not_started_grace;
        while (started_.load(std::memory_order_relaxed) < workers && clock::now() < grace) {
            for (int i = 0; i < 16; ++i) cpu_relax();
            if ((left = remaining_.load(std::memory_order_acquire)) == 0) return;
        }
        const std::chrono::nanoseconds spin =
            started_.load(std::memory_order_relaxed) < workers ? std::chrono::nanoseconds{0} : window(clock::now());
        while (left != 0) left = await_change(remaining_, left, caller_sleeping_, spin);
    }

    // The spin window now: none for a while after a thread of the team was preempted.
    std::chrono::nanoseconds window(clock::time_point time) const noexcept {
        return time < spin_again_at_.load(std::memory_order_relaxed) ? std::chrono::nanoseconds{0} : spin_;
    }

    void work(mailbox& box, int index) noexcept {
        inside_job = true;
        std::uint32_t seen = 0;
        long switches = involuntary_switches();
        clock::time_point next_look = clock::now(), last_preempted{};
        for (;;) {
            // At most once a millisecond: was this worker preempted since the last look? Then the
            // machine is busy, and the team sleeps between jobs for a while.
            const clock::time_point time = clock::now();
            if (back_off_ && time >= next_look) {
                const long now_switches = involuntary_switches();
                if (now_switches != switches) {  // two preemptions within 10 ms: a busy machine
                    if (time - last_preempted < std::chrono::milliseconds(10))
                        spin_again_at_.store(time + busy_machine_pause, std::memory_order_relaxed);
                    last_preempted = time;
                }
                switches = now_switches;
                next_look = time + std::chrono::milliseconds(1);
            }
            bool descheduled = false;
            seen = await_change(box.sequence, seen, box.sleeping, window(time), back_off_ ? &descheduled : nullptr);
            if (descheduled) spin_again_at_.store(clock::now() + busy_machine_pause, std::memory_order_relaxed);
            if (stopping_.load(std::memory_order_relaxed)) return;
            started_.fetch_add(1, std::memory_order_relaxed);
            job_(body_, index, threads_);
            if (remaining_.fetch_sub(1, std::memory_order_seq_cst) == 1) wake(remaining_, caller_sleeping_);
        }
    }

    std::chrono::nanoseconds spin_;
    bool back_off_;
    alignas(128) std::atomic<bool> busy_{false};
    // The job: written by the caller before it bumps the mailboxes, read by the workers after.
    job_function job_ = nullptr;
    void* body_ = nullptr;
    int threads_ = 1;
    std::atomic<bool> stopping_{false};
    alignas(128) std::atomic<int> remaining_{0};  // workers still running the job
    std::atomic<int> started_{0};                 // workers that have picked the job up
    std::atomic<clock::time_point> spin_again_at_{};  // no spinning before: the machine is busy
    std::atomic<bool> caller_sleeping_{false};
    std::vector<std::unique_ptr<mailbox>> boxes_;  // boxes_[w] is worker w's (thread w + 1)
    std::vector<std::thread> workers_;
};

// The process's team. Plain atomics with constant initialization and no destructor, so they stay
// usable while static objects are destroyed (a kernel called then runs inline).
struct registry {
    std::atomic<team*> current{nullptr};
    std::atomic<bool> closed{false};
    team* orphans = nullptr;
};
inline constinit registry the_registry{};

// After fork(), in the child (one thread): the parent's workers do not exist here. Its team stays
// allocated and reachable (destroying its std::threads would join threads that are not there).
inline void forget_team_after_fork() noexcept {
    if (team* inherited = the_registry.current.exchange(nullptr, std::memory_order_relaxed)) {
        inherited->next_orphan = the_registry.orphans;
        the_registry.orphans = inherited;
    }
    inside_job = false;
}

// Constructed with the first team, destroyed at exit (before every static object constructed before
// it, after those constructed after it): stops the team and joins its workers.
struct closer {
    closer() noexcept {
#ifdef CTNN_TEAM_HAS_ATFORK
        pthread_atfork(nullptr, nullptr, &forget_team_after_fork);
#endif
    }
    closer(const closer&) = delete;
    closer& operator=(const closer&) = delete;
    ~closer() {
        the_registry.closed.store(true, std::memory_order_seq_cst);
        team* t = the_registry.current.load(std::memory_order_acquire);
        if (!t) return;
        // Another thread may still be inside a kernel: wait for it a while; if it does not finish
        // (it called exit() from a job, say), leave the workers to the end of the process.
        for (int tries = 0; !t->try_acquire(); ++tries) {
            if (tries == 100'000) return;
            std::this_thread::sleep_for(std::chrono::microseconds(10));
        }
        t->stop();  // never released: a later kernel call runs inline
    }
};

inline team* create_team() noexcept {
    static closer at_exit;  // registered before the team can have a worker
    if (the_registry.closed.load(std::memory_order_acquire)) return nullptr;
    team* fresh = new (std::nothrow) team(spin_window_from_environment(), !active_wait_policy());
    if (!fresh) return nullptr;
    team* expected = nullptr;
    if (!the_registry.current.compare_exchange_strong(expected, fresh, std::memory_order_acq_rel)) {
        delete fresh;  // another thread was first
        return expected;
    }
    return fresh;
}

// The team, acquired for one job; nullptr when the caller should run the job inline (inside a job
// already, the team busy with another caller's job, or the process exiting).
inline team* acquire() noexcept {
    if (inside_job) return nullptr;
    team* t = the_registry.current.load(std::memory_order_acquire);
    if (!t && !(t = create_team())) return nullptr;
    return t->try_acquire() ? t : nullptr;
}

}  // namespace team_detail

// The spin window of the process's team (creating it if need be): for tests and benchmarks.
inline std::chrono::nanoseconds team_spin_window() noexcept {
    team_detail::team* t = team_detail::the_registry.current.load(std::memory_order_acquire);
    if (!t) t = team_detail::create_team();
    return t ? t->spin_window() : std::chrono::nanoseconds{0};
}

}  // namespace ctnn::kernels::parallel
