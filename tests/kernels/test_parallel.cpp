// Tests of kernels/parallel.hpp and kernels/thread_team.hpp: parallel::run's team runs every part of
// a job exactly once, nests inline, survives concurrent callers, fork() and thousands of back-to-back
// jobs, sleeps when idle, and the GEMM gives the same bits on one thread and on two.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <thread>
#include <vector>

#include <doctest/doctest.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ctnn/activations.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/kernels/gemm.hpp"
#include "ctnn/kernels/loss.hpp"
#include "ctnn/kernels/parallel.hpp"
#include "ctnn/kernels/simd.hpp"

#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define CTNN_TEST_LEAK_CHECKED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(leak_sanitizer)
#define CTNN_TEST_LEAK_CHECKED 1
#endif
#endif
#ifndef CTNN_TEST_LEAK_CHECKED
#define CTNN_TEST_LEAK_CHECKED 0
#endif

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace kernels_test_parallel {

namespace {

namespace par = ctnn::kernels::parallel;
using ctnn::kernels::layout;

// Sets OpenMP's thread count (what the kernels use) for the scope; nothing without OpenMP.
struct thread_count {
#ifdef _OPENMP
    int saved = omp_get_max_threads();
    explicit thread_count(int n) { omp_set_num_threads(n); }
    ~thread_count() { omp_set_num_threads(saved); }
#else
    explicit thread_count(int) {}
#endif
    thread_count(const thread_count&) = delete;
    thread_count& operator=(const thread_count&) = delete;
};

std::vector<float> random_floats(std::size_t n, std::uint64_t seed) {
    ctnn::Rng rng(seed);
    std::vector<float> v(n);
    for (auto& x : v) x = rng.uniform(-1.0f, 1.0f);
    return v;
}

// Shapes that take each of gemm's splits (rows with a shared packed B, columns, private B) and the
// small-M paths, with sizes off the tile edges.
struct product {
    std::size_t m, n, k;
    std::vector<float> a, b, bias;
    product(std::size_t m_, std::size_t n_, std::size_t k_)
        : m(m_), n(n_), k(k_), a(random_floats(m * k, 11 + m)), b(random_floats(k * n, 12 + n)),
          bias(random_floats(n, 13 + k)) {}
    std::vector<float> compute() const {
        std::vector<float> c(m * n, -7.0f);
        if (m <= 6)
            ctnn::kernels::gemm_small_m<ctnn::kernels::gemm_arch, ctnn::Relu>(m, n, k, a.data(), k, b.data(), n,
                                                                            c.data(), n, bias.data());
        else
            ctnn::kernels::gemm<ctnn::kernels::gemm_arch, layout::row_major, layout::row_major, ctnn::Relu>(
                m, n, k, a.data(), k, b.data(), n, c.data(), n, bias.data());
        return c;
    }
};

std::vector<product> products() {
    std::vector<product> p;
    p.emplace_back(1, 1000, 784);   // batch-1 predict, first layer
    p.emplace_back(5, 500, 1000);   // small M, several rows
    p.emplace_back(128, 1000, 784); // training step, rows split
    p.emplace_back(40, 1003, 257);  // few rows, wide: columns split
    p.emplace_back(333, 77, 515);   // tall and narrow
    return p;
}

bool same_bits(const std::vector<float>& x, const std::vector<float>& y) {
    return x.size() == y.size() && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
}

// The process's CPU time (all threads), seconds.
double process_cpu_seconds() {
    timespec ts{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

// Waits for a child for at most `seconds` (then kills it); returns its exit code, or -1 if it did
// not exit normally (killed, or still running after `seconds`).
int wait_for_child(pid_t child, int seconds) {
    int status = 0;
    for (int waited_ms = 0;; waited_ms += 10) {
        const pid_t done = waitpid(child, &status, WNOHANG);
        if (done == child) break;
        if (done < 0 || waited_ms >= seconds * 1000) {
            kill(child, SIGKILL);
            waitpid(child, &status, 0);
            return -1;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

TEST_CASE("parallel::run runs every thread of a job exactly once, the caller as thread 0") {
    for (int threads : {2, 3, 4, 8}) {
        for (int repeat = 0; repeat < 50; ++repeat) {
            std::vector<std::atomic<int>> hits(16);
            std::vector<std::thread::id> ids(16);
            std::atomic<int> granted{-1}, disagreements{0};
            par::run(threads, [&](int t, int nt) {
                int expected = -1;
                if (!granted.compare_exchange_strong(expected, nt) && expected != nt) disagreements.fetch_add(1);
                hits[static_cast<std::size_t>(t)].fetch_add(1);
                ids[static_cast<std::size_t>(t)] = std::this_thread::get_id();
            });
            const int nt = granted.load();
            INFO("asked " << threads << ", granted " << nt);
            // The team grants what is asked (fewer only when the system refuses a thread).
            CHECK(nt == threads);
            CHECK(disagreements.load() == 0);
            for (int t = 0; t < 16; ++t) CHECK(hits[static_cast<std::size_t>(t)].load() == (t < nt ? 1 : 0));
            CHECK(ids[0] == std::this_thread::get_id());
            for (int t = 1; t < nt; ++t)
                for (int u = 0; u < t; ++u) CHECK(ids[static_cast<std::size_t>(t)] != ids[static_cast<std::size_t>(u)]);
        }
    }
    int calls = 0;
    par::run(1, [&](int t, int nt) { calls += (t == 0 && nt == 1) ? 1 : 100; });
    CHECK(calls == 1);
}

TEST_CASE("parallel::run inside a job runs inline on the calling thread") {
    std::atomic<int> outer{0}, inner_ok{0}, inner_bad{0};
    par::run(2, [&](int, int nt) {
        outer.fetch_add(nt == 2 ? 1 : 100);
        const std::thread::id me = std::this_thread::get_id();
        CHECK(par::nested());
        CHECK(par::threads_for(std::size_t{1} << 40) == 1);
        CHECK_FALSE(ctnn::kernels::detail::worth_threads(std::size_t{1} << 30));
        int inner_calls = 0;
        par::run(2, [&](int t, int n) {
            ++inner_calls;
            if (t == 0 && n == 1 && std::this_thread::get_id() == me) {
                inner_ok.fetch_add(1);
            } else {
                inner_bad.fetch_add(1);
            }
        });
        if (inner_calls != 1) inner_bad.fetch_add(1);
    });
    CHECK(outer.load() == 2);
    CHECK(inner_ok.load() == 2);
    CHECK(inner_bad.load() == 0);
    CHECK_FALSE(par::nested());
}

TEST_CASE("parallel::run from two threads at once: both complete, correctly, one of them inline while the other has the team") {
    constexpr std::size_t n = 10007;
    std::vector<double> values(n);
    for (std::size_t i = 0; i < n; ++i) values[i] = static_cast<double>(i % 97);
    double expected = 0;
    for (double v : values) expected += v;

    std::atomic<int> wrong{0}, shared{0}, inline_runs{0};
    auto caller = [&] {
        for (int job = 0; job < 3000; ++job) {
            std::vector<double> partial(8, 0.0);
            int granted = 0;
            par::run(2, [&](int t, int nt) {
                if (t == 0) granted = nt;
                const par::range part = par::split(n, nt, t, 1);
                double s = 0;
                for (std::size_t i = part.begin; i < part.end; ++i) s += values[i];
                partial[static_cast<std::size_t>(t)] = s;
            });
            double total = 0;
            for (double p : partial) total += p;
            if (total != expected) wrong.fetch_add(1);
            (granted == 2 ? shared : inline_runs).fetch_add(1);
        }
    };
    std::thread first(caller), second(caller);
    first.join();
    second.join();
    CHECK(wrong.load() == 0);
    CHECK(shared.load() + inline_runs.load() == 6000);
    CHECK(shared.load() > 0);
    MESSAGE("jobs on the team: " << shared.load() << ", inline (team busy): " << inline_runs.load());
}

TEST_CASE("gemm from two threads at once gives the bits it gives alone") {
    thread_count two(2);
    const std::vector<product> cases = products();
    std::vector<std::vector<float>> alone;
    for (const product& p : cases) alone.push_back(p.compute());
    std::atomic<int> mismatches{0};
    auto caller = [&] {
        for (int round = 0; round < 10; ++round)
            for (std::size_t i = 0; i < cases.size(); ++i)
                if (!same_bits(cases[i].compute(), alone[i])) mismatches.fetch_add(1);
    };
    std::thread first(caller), second(caller);
    first.join();
    second.join();
    CHECK(mismatches.load() == 0);
}

TEST_CASE("gemm gives the same bits on 1 and on 2 threads") {
    for (const product& p : products()) {
        INFO("m=" << p.m << " n=" << p.n << " k=" << p.k);
        std::vector<float> one, two;
        {
            thread_count t1(1);
            one = p.compute();
        }
        {
            thread_count t2(2);
            two = p.compute();
        }
        CHECK(same_bits(one, two));
    }
}

TEST_CASE("the loops on the team: accuracy counts and elementwise maps agree on 1 and 2 threads") {
    constexpr std::size_t N = 10, batch = 20000;  // batch * N above the threads' threshold
    const std::vector<float> p = random_floats(batch * N, 21), t = random_floats(batch * N, 22);
    std::size_t expected = 0;
    for (std::size_t r = 0; r < batch; ++r) {
        std::size_t ap = 0, at = 0;
        for (std::size_t j = 1; j < N; ++j) {
            if (p[r * N + j] > p[r * N + ap]) ap = j;
            if (t[r * N + j] > t[r * N + at]) at = j;
        }
        expected += ap == at ? 1 : 0;
    }
    for (int threads : {1, 2}) {
        thread_count n(threads);
        CHECK(ctnn::kernels::argmax_match_count<N>(batch, p.data(), t.data()) == expected);
        std::vector<float> y(batch * N, 0.0f);
        ctnn::kernels::detail::simd_for_parallel<ctnn::kernels::simd_arch>(
            batch * N, [&](std::size_t k, auto l) {
                using namespace ctnn::kernels::detail;
                store(y.data() + k, load(l, p.data() + k) * splat(l, 2.0f));
            });
        std::size_t bad = 0;
        for (std::size_t k = 0; k < batch * N; ++k) bad += y[k] == 2.0f * p[k] ? 0 : 1;
        CHECK(bad == 0);
    }
}

TEST_CASE("100,000 back-to-back jobs with a spin barrier inside") {
    constexpr int jobs = 100'000;
    std::vector<int> slots(2, 0);
    long long wrong = 0;
    for (int job = 0; job < jobs; ++job) {
        par::spin_barrier barrier(2);
        int granted = 0;
        par::run(2, [&](int t, int nt) {
            if (t == 0) granted = nt;
            if (nt != 2) return;
            slots[static_cast<std::size_t>(t)] = job + t;
            barrier.wait();  // each reads what the other wrote before the barrier
            if (slots[static_cast<std::size_t>(1 - t)] != job + 1 - t) slots[static_cast<std::size_t>(t)] = -1;
            barrier.wait();
        });
        if (granted != 2 || slots[0] != job || slots[1] != job + 1) ++wrong;
    }
    CHECK(wrong == 0);
}

TEST_CASE("jobs after the workers went to sleep wake them") {
    const auto window = par::team_spin_window();
    long long wrong = 0;
    for (int job = 0; job < 20; ++job) {
        std::this_thread::sleep_for(window + std::chrono::milliseconds(1));
        std::atomic<int> ran{0};
        par::run(3, [&](int, int nt) { ran.fetch_add(nt == 3 ? 1 : 100); });
        if (ran.load() != 3) ++wrong;
    }
    CHECK(wrong == 0);
}

TEST_CASE("an idle team costs no CPU once its spin window has passed") {
    const auto window = par::team_spin_window();
    if (window > std::chrono::milliseconds(20)) {
        MESSAGE("spin window " << window.count() / 1000 << " µs (OMP_WAIT_POLICY=ACTIVE or CTNN_SPIN_US): skipped");
        return;
    }
    // Three spinning workers would spend about 0.9 s in 300 ms (still ~0.3 s when other programs
    // hold both cores). A worker the scheduler had not run for a while can still be inside its
    // window when the measurement starts: up to three measurements, the lowest counts. A team that
    // kept spinning fails all three.
    double lowest = 1e9;
    for (int attempt = 0; attempt < 3 && lowest >= 0.05; ++attempt) {
        par::run(4, [](int, int) {});
        std::this_thread::sleep_for(window + std::chrono::milliseconds(5));
        const double before = process_cpu_seconds();
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        lowest = std::min(lowest, process_cpu_seconds() - before);
    }
    CHECK(lowest < 0.05);
}

TEST_CASE("a forked child gets a team of its own: multi-threaded gemm, parallel jobs and exit work in it") {
    thread_count two(2);
    const std::vector<product> cases = products();
    std::vector<std::vector<float>> parent;
    for (const product& p : cases) parent.push_back(p.compute());  // the parent's team is awake now
    par::run(2, [](int, int) {});

    for (int variant = 0; variant < 3; ++variant) {
        INFO("variant " << variant);
        std::fflush(nullptr);  // nothing buffered for the child to print a second time
        const pid_t child = fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            // 0: as inherited; 1: the child's team never spins (every job wakes sleeping workers);
            // 2: the child waits until its workers sleep, then exits with them asleep.
            if (variant == 1) setenv("CTNN_SPIN_US", "0", 1);
            int code = 0;
            for (std::size_t i = 0; i < cases.size(); ++i)
                if (!same_bits(cases[i].compute(), parent[i])) code = 10 + static_cast<int>(i);
            for (int job = 0; job < 2000 && code == 0; ++job) {
                par::spin_barrier barrier(2);
                std::atomic<int> ran{0};
                par::run(2, [&](int, int nt) {
                    if (nt == 2) barrier.wait();
                    ran.fetch_add(nt);
                });
                if (ran.load() != 4) code = 3;
            }
            if (variant == 1 && par::team_spin_window().count() != 0) code = 4;
            if (variant != 2) _exit(code);
            std::this_thread::sleep_for(par::team_spin_window() + std::chrono::milliseconds(20));
#if !CTNN_TEST_LEAK_CHECKED
            std::exit(code);  // static destructors run: the child's team is joined, the parent's left alone
#else
            // LeakSanitizer would report what the parent's workers (absent here) allocated in their
            // thread_local workspaces: exit() is checked in a fresh process below instead.
            _exit(code);
#endif
        }
        CHECK(wait_for_child(child, 120) == 0);
    }
    // The parent's team is untouched.
    for (std::size_t i = 0; i < cases.size(); ++i) CHECK(same_bits(cases[i].compute(), parent[i]));
}

namespace {

constexpr const char* exit_test_name = "a program exits with the team's workers asleep or spinning and calls kernels after that";

// Destroyed after the team's closer (constructed before the team): a kernel called from a static
// destructor then runs inline. Ends the process itself, the exit status telling how that went.
struct calls_run_at_exit {
    calls_run_at_exit() = default;
    calls_run_at_exit(const calls_run_at_exit&) = delete;
    calls_run_at_exit& operator=(const calls_run_at_exit&) = delete;
    ~calls_run_at_exit() {
        int calls = 0, granted = 0;
        par::run(2, [&](int, int nt) {
            ++calls;
            granted = nt;
        });
        std::fflush(nullptr);
        _exit(calls == 1 && granted == 1 ? 0 : 5);
    }
};

}  // namespace

// In a fresh process (this executable run again on this test case alone), so that leak checkers see
// no other thread's allocations: exit() with workers asleep, with workers spinning, and with a
// static object that calls a kernel after the team was joined.
TEST_CASE(exit_test_name) {
    if (const char* mode = std::getenv("CTNN_TEST_TEAM_EXIT")) {  // the fresh process
        const std::string m = mode;
        if (m == "after") static calls_run_at_exit late;  // constructed before the team
        {
            thread_count two(2);
            for (const product& p : products()) (void)p.compute();
        }
        par::run(3, [](int, int) {});
        if (m == "asleep") std::this_thread::sleep_for(par::team_spin_window() + std::chrono::milliseconds(20));
        std::fflush(nullptr);
        std::exit(0);
    }
    for (const char* mode : {"asleep", "spinning", "after"}) {
        INFO("mode " << mode);
        std::fflush(nullptr);
        const pid_t child = fork();
        REQUIRE(child >= 0);
        if (child == 0) {
            setenv("CTNN_TEST_TEAM_EXIT", mode, 1);
            const std::string filter = std::string("--test-case=") + exit_test_name;
            execl("/proc/self/exe", "test_kernels", filter.c_str(), static_cast<char*>(nullptr));
            _exit(127);
        }
        CHECK(wait_for_child(child, 120) == 0);
    }
}

}  // namespace kernels_test_parallel
