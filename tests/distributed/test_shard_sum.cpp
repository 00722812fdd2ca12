// ctnn/distributed/shard_sum.hpp (and run_or_abort.hpp): the tree sum on 1 to 4 thread ranks against
// the serial tree, bit for bit. No MPI here: tests/distributed/mpi/ runs the same under mpirun.
#include <doctest/doctest.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <ctnn/distributed/run_or_abort.hpp>
#include <ctnn/distributed/shard_sum.hpp>

#include "thread_communicator.hpp"
#include "tree_oracle.hpp"

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace distributed_test_shard_sum {

using namespace ctnn;
using ctnn::testing::ThreadCommunicator;
using ctnn::testing::ThreadWorld;

const std::size_t shard_counts[] = {4, 8, 16};
const std::size_t lengths[] = {1, 7, 1000, 12345};

// Every rank's result of sum_shards_in_tree_order on `ranks` thread ranks, rank order.
std::vector<std::vector<float>> tree_sum_on_ranks(int ranks, const std::vector<std::vector<float>>& data,
                                                  std::size_t length) {
    std::vector<std::vector<float>> results(static_cast<std::size_t>(ranks));
    ThreadWorld world(ranks);
    testing::rethrow_first(world.run([&](ThreadCommunicator& comm) {
        const auto own = distributed::shards_of_rank(comm.rank(), comm.size(), data.size());
        std::vector<std::vector<float>> scratch(data.begin() + static_cast<std::ptrdiff_t>(own.first),
                                                data.begin() + static_cast<std::ptrdiff_t>(own.last));
        std::vector<float*> local;
        for (auto& v : scratch) local.push_back(v.data());
        auto& out = results[static_cast<std::size_t>(comm.rank())];
        out.assign(length, -1.0f);
        distributed::sum_shards_in_tree_order(comm, data.size(), local, length, out);
    }));
    return results;
}

TEST_CASE("shard_sum.shards_of_rank_cuts_contiguous_ranges_that_cover_every_shard") {
    CHECK(distributed::shards_of_rank(0, 3, 8).first == 0);
    CHECK(distributed::shards_of_rank(0, 3, 8).last == 2);
    CHECK(distributed::shards_of_rank(1, 3, 8).first == 2);
    CHECK(distributed::shards_of_rank(1, 3, 8).last == 5);
    CHECK(distributed::shards_of_rank(2, 3, 8).first == 5);
    CHECK(distributed::shards_of_rank(2, 3, 8).last == 8);
    for (int ranks = 1; ranks <= 9; ++ranks)
        for (std::size_t shards : {9u, 16u, 64u}) {
            INFO("ranks " << ranks << ", shards " << shards);
            std::size_t next = 0;
            for (int r = 0; r < ranks; ++r) {
                const auto range = distributed::shards_of_rank(r, ranks, shards);
                CHECK(range.first == next);
                CHECK(range.size() >= 1);
                next = range.last;
            }
            CHECK(next == shards);
        }
    CHECK_THROWS_AS(distributed::shards_of_rank(3, 3, 8), std::invalid_argument);
    CHECK_THROWS_AS(distributed::shards_of_rank(0, 0, 8), std::invalid_argument);
}

TEST_CASE("shard_sum.a_rank_range_is_covered_by_its_largest_aligned_subtrees") {
    using Node = distributed::detail::TreeNode;
    CHECK(distributed::detail::subtrees_covering({0, 8}) == std::vector<Node>{{3, 0}});
    CHECK(distributed::detail::subtrees_covering({2, 5}) == std::vector<Node>{{1, 1}, {0, 4}});
    CHECK(distributed::detail::subtrees_covering({5, 8}) == std::vector<Node>{{0, 5}, {1, 3}});
    CHECK(distributed::detail::subtrees_covering({3, 13}) == std::vector<Node>{{0, 3}, {2, 1}, {2, 2}, {0, 12}});
}

// The check that gives the others their teeth: on this data another grouping of the same sum
// changes the bits, so a result equal to the serial tree's was really summed in the tree's order.
TEST_CASE("shard_sum.the_test_data_tells_a_left_to_right_sum_from_the_tree") {
    for (std::size_t shards : shard_counts)
        for (std::size_t length : lengths) {
            INFO("shards " << shards << ", length " << length);
            const auto data = testing::mixed_magnitude_shards(shards, length, testing::case_seed(shards, length));
            CHECK(testing::bits_differing(testing::serial_tree_sum(data), testing::left_to_right_sum(data)) > 0);
        }
}

TEST_CASE("shard_sum.every_rank_gets_the_serial_tree_bit_for_bit_on_1_2_3_and_4_ranks") {
    for (std::size_t shards : shard_counts)
        for (std::size_t length : lengths) {
            const auto data = testing::mixed_magnitude_shards(shards, length, testing::case_seed(shards, length));
            const auto expected = testing::serial_tree_sum(data);
            for (int ranks = 1; ranks <= 4; ++ranks) {
                INFO("shards " << shards << ", length " << length << ", ranks " << ranks);
                const auto results = tree_sum_on_ranks(ranks, data, length);
                for (std::size_t r = 0; r < results.size(); ++r) {
                    INFO("rank " << r);
                    CHECK(testing::bits_differing(results[r], expected) == 0);
                }
            }
        }
}

TEST_CASE("shard_sum.more_shards_per_rank_and_rank_counts_up_to_8") {
    // 5, 6 and 7 ranks take the general path with ranges of 2 and 3 shards; 8 the power-of-two one.
    const std::size_t shards = 64, length = 33;
    const auto data = testing::mixed_magnitude_shards(shards, length, 7);
    const auto expected = testing::serial_tree_sum(data);
    for (int ranks = 5; ranks <= 8; ++ranks) {
        INFO("ranks " << ranks);
        for (const auto& result : tree_sum_on_ranks(ranks, data, length))
            CHECK(testing::bits_differing(result, expected) == 0);
    }
}

TEST_CASE("shard_sum.zero_length_vectors_sum_to_nothing_without_error") {
    const auto data = testing::mixed_magnitude_shards(8, 0, 1);
    for (int ranks = 1; ranks <= 4; ++ranks)
        for (const auto& result : tree_sum_on_ranks(ranks, data, 0)) CHECK(result.empty());
}

TEST_CASE("shard_sum.bad_arguments_throw_on_every_rank_before_any_communication") {
    auto expect_every_rank_throws = [](int ranks, std::size_t shards, std::size_t local_count, std::size_t length,
                                       std::size_t out_size, const std::string& words) {
        ThreadWorld world(ranks);
        const auto errors = world.run([&](ThreadCommunicator& comm) {
            std::vector<std::vector<float>> scratch(local_count, std::vector<float>(length));
            std::vector<float*> local;
            for (auto& v : scratch) local.push_back(v.data());
            std::vector<float> out(out_size);
            distributed::sum_shards_in_tree_order(comm, shards, local, length, out);
        });
        for (const auto& error : errors) {
            REQUIRE(error);
            try {
                std::rethrow_exception(error);
            } catch (const std::invalid_argument& e) {
                INFO(e.what());
                CHECK(std::string(e.what()).find(words) != std::string::npos);
            } catch (...) {
                FAIL("expected std::invalid_argument on every rank");
            }
        }
    };
    expect_every_rank_throws(2, 6, 3, 4, 4, "shards must be a power of two >= the number of ranks (2), got 6");
    expect_every_rank_throws(4, 2, 1, 4, 4, "shards must be a power of two >= the number of ranks (4), got 2");
    expect_every_rank_throws(2, 8, 3, 4, 4, "expected 4 local vectors, got 3");
    expect_every_rank_throws(2, 8, 4, 4, 5, "out must hold length = 4 floats, got 5");
}

TEST_CASE("thread_communicator.collectives_and_exchange") {
    ThreadWorld world(3);
    std::vector<std::string> failures(3);
    testing::rethrow_first(world.run([&](ThreadCommunicator& comm) {
        const int r = comm.rank();
        auto expect = [&](bool ok, const char* what) {
            if (!ok) failures[static_cast<std::size_t>(r)] += std::string(what) + "; ";
        };
        std::vector<float> b{float(r), float(r)};
        comm.broadcast(b, 2);
        expect(b == std::vector<float>{2, 2}, "broadcast from rank 2");
        std::vector<std::uint8_t> bytes{std::uint8_t(r)};
        comm.broadcast(bytes, 1);
        expect(bytes[0] == 1, "byte broadcast from rank 1");
        std::vector<double> d{1.0 * r, 10.0};
        comm.allreduce_sum(d);
        expect(d == std::vector<double>{3.0, 30.0}, "allreduce of doubles");
        std::vector<float> mine(static_cast<std::size_t>(r), float(r));  // rank r brings r copies of r
        const std::vector<std::size_t> counts{0, 1, 2};
        std::vector<float> all(3);
        comm.allgather(mine, all, counts);
        expect(all == std::vector<float>{1, 2, 2}, "allgather with variable counts");
        // Ranks 0 and 1 swap 1 float for 2, rank 2 exchanges with itself.
        const int peer = r == 2 ? 2 : 1 - r;
        std::vector<float> out(r == 0 ? 1 : 2, float(r)), in(r == 1 ? 1 : 2);
        comm.exchange(peer, out, in);
        expect(in == std::vector<float>(in.size(), float(peer)), "exchange");
    }));
    for (const auto& f : failures) CHECK(f == "");
}

TEST_CASE("thread_communicator.ranks_that_disagree_on_a_collective_throw_instead_of_hanging") {
    ThreadWorld world(2);
    const auto errors = world.run([](ThreadCommunicator& comm) {
        std::vector<float> data(comm.rank() == 0 ? 3 : 4);
        comm.allreduce_sum(data);
    });
    for (const auto& error : errors) CHECK_THROWS_AS(std::rethrow_exception(error), std::logic_error);
}

TEST_CASE("run_or_abort.a_rank_that_throws_ends_every_rank_with_its_rank_and_cause") {
    ThreadWorld world(2);
    const auto errors = world.run([](ThreadCommunicator& comm) {
        distributed::run_or_abort(comm, [&] {
            if (comm.rank() == 1) throw std::runtime_error("data/train-images-idx3-ubyte: cannot open");
            std::vector<float> weights(10);
            comm.broadcast(weights, 0);  // rank 0 waits here for a rank that will never come
        });
    });
    CHECK(world.abort_rank() == 1);
    CHECK(world.abort_exit_code() == 1);
    CHECK(world.abort_message() == "ctnn: rank 1 of 2: data/train-images-idx3-ubyte: cannot open");
    for (const auto& error : errors) CHECK_THROWS_AS(std::rethrow_exception(error), testing::job_aborted);
}

TEST_CASE("run_or_abort.returns_the_body's_result_or_0") {
    ThreadWorld world(1);
    ThreadCommunicator comm(world, 0);
    CHECK(distributed::run_or_abort(comm, [] { return 7; }) == 7);
    CHECK(distributed::run_or_abort(comm, [] {}) == 0);
    CHECK_FALSE(world.aborted());
    CHECK_THROWS_AS(distributed::run_or_abort(comm, [] { throw 42; }), testing::job_aborted);
    CHECK(world.abort_message() == "ctnn: rank 0 of 1: an exception not derived from std::exception");
}

}  // namespace distributed_test_shard_sum
