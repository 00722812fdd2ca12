// ctnn/kernels/parallel.hpp — the kernels' threading helpers: how many threads a call may use, how to
// run a body on them (ctnn's own thread team, kernels/thread_team.hpp), how to cut an output range
// into aligned parts (fixed, or claimed as the threads go). Kernels split their OUTPUT among threads
// (never a sum), so every result has one summation order whatever the thread count, and whichever
// thread computes it.
// The thread count is OpenMP's (omp_get_max_threads(), so OMP_NUM_THREADS applies); without OpenMP
// (meson -Dopenmp=disabled) every kernel runs inline on the calling thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <memory>
#include <thread>
#include <type_traits>

#include "ctnn/kernels/thread_team.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace ctnn::kernels::parallel {

// Below this many multiply-adds a fork/join (a few µs) costs more than the second core saves.
inline constexpr std::size_t min_work_per_thread = std::size_t{1} << 17;

// Whether the calling thread is inside a parallel job (ctnn's, or the user's OpenMP region): kernels
// called there run on that thread alone (never nest).
inline bool nested() noexcept {
#ifdef _OPENMP
    if (omp_in_parallel()) return true;
#endif
    return team_detail::inside_job;
}

// The threads a kernel may use: OpenMP's count (OMP_NUM_THREADS, omp_set_num_threads), 1 without
// OpenMP or when nested.
inline int max_threads() noexcept {
#ifdef _OPENMP
    return nested() ? 1 : std::max(1, omp_get_max_threads());
#else
    return 1;
#endif
}

// Threads worth using for `work` multiply-adds.
inline int threads_for(std::size_t work) noexcept {
    const auto by_work = static_cast<int>(std::min<std::size_t>(1024, std::max<std::size_t>(1, work / min_work_per_thread)));
    return std::min(max_threads(), by_work);
}

// Runs body(thread, threads) once per thread of a team of at most `threads` (inline when 1), the
// calling thread being thread 0. The body must use the `threads` it is given: fewer may be granted
// than asked (1 when nested, or when another thread of the program has the team). It must not throw:
// on more than one thread an exception ends the program (std::terminate).
template <class Body> void run(int threads, Body&& body) {
    if (threads > 1) {
        if (team_detail::team* team = team_detail::acquire()) {
            using body_type = std::remove_reference_t<Body>;
            team->execute(
                threads,
                [](void* b, int t, int nt) noexcept { (*static_cast<body_type*>(b))(t, nt); },
                const_cast<void*>(static_cast<const void*>(std::addressof(body))));
            team->release();
            return;
        }
    }
    body(0, 1);
}

// A barrier for the `threads` threads of one `run`: waiters spin briefly (arrivals inside a kernel
// are close together), then yield.
class spin_barrier {
public:
    explicit spin_barrier(int threads) noexcept : threads_(threads) {}
    void wait() noexcept {
        const unsigned generation = generation_.load(std::memory_order_acquire);
        if (arrived_.fetch_add(1, std::memory_order_acq_rel) + 1 == threads_) {
            arrived_.store(0, std::memory_order_relaxed);
            generation_.store(generation + 1, std::memory_order_release);
            return;
        }
        for (int spins = 0; generation_.load(std::memory_order_acquire) == generation; ++spins) {
            if (spins < 20000) {
                cpu_relax();
            } else {
                std::this_thread::yield();
            }
        }
    }

private:
    std::atomic<int> arrived_{0};
    std::atomic<unsigned> generation_{0};
    int threads_;
};

// Part `part` of `parts` of [0, n): contiguous, boundaries on multiples of `grain`, sizes as equal as
// the grain allows (earlier parts take the extra grains).
struct range {
    std::size_t begin, end;
};
inline range split(std::size_t n, int parts, int part, std::size_t grain) noexcept {
    const std::size_t grains = (n + grain - 1) / grain;
    const auto p = static_cast<std::size_t>(parts), q = static_cast<std::size_t>(part);
    const std::size_t base = grains / p, extra = grains % p;
    const std::size_t first = q * base + std::min(q, extra);
    const std::size_t count = base + (q < extra ? 1 : 0);
    return {std::min(n, first * grain), std::min(n, (first + count) * grain)};
}

// Guided self-scheduling of [0, n) among `threads` threads sharing the counter `next` (0 at the start):
// each call hands out the next block, about a (2 · threads)-th of what is left, between `grain` and
// `max_block` and on grain boundaries, or an empty range once all is handed out. Blocks shrink towards
// the end, so threads slowed down by other work on the machine take fewer of them and all finish
// within about one small block of each other, where fixed equal parts would wait for the slowest.
inline range claim(std::atomic<std::size_t>& next, std::size_t n, int threads, std::size_t grain,
                   std::size_t max_block) noexcept {
    const std::size_t share = 2 * static_cast<std::size_t>(std::max(threads, 1));
    std::size_t first = next.load(std::memory_order_relaxed), size = 0;
    do {
        if (first >= n) return {n, n};
        const std::size_t left = n - first;
        const std::size_t guided = (left + share - 1) / share;
        size = std::min(left, std::clamp((guided + grain - 1) / grain * grain, grain, max_block));
    } while (!next.compare_exchange_weak(first, first + size, std::memory_order_relaxed));
    return {first, first + size};
}

}  // namespace ctnn::kernels::parallel
