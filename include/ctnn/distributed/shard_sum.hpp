// ctnn/distributed/shard_sum.hpp — the sum of a global batch's shard gradients, in one fixed binary
// tree whatever the number of ranks, so that data-parallel training gives the same bits on 1, 2, 3
// or 4 ranks (GradientReduction::deterministic). Needs only a Communicator, never MPI itself.
//
//   the tree      node(0, i) = shard i's vector; node(l+1, i) = node(l, 2i) + node(l, 2i+1), element
//                 by element, left operand first; the sum is the root. Float addition is commutative
//                 bit for bit but not associative: the grouping is what has to be fixed, and it is.
//   the shards    `shards` is a power of two >= the number of ranks; rank r holds the contiguous
//                 range shards_of_rank(r, ranks, shards).
//   power of two  each rank's range is one subtree: reduced locally, then recursive halving (step k
//   ranks         pairs rank and rank ^ (1 << k): exactly the tree's next level, on a half of the
//                 vector each time) and recursive doubling to give every rank the whole sum.
//                 Each rank sends and receives about 2 * length floats in all, as a ring allreduce.
//   other counts  each rank reduces the largest aligned subtrees inside its range, every rank gathers
//                 all of them (allgather) and finishes the tree above them itself: more traffic
//                 (a few vectors per rank, to every rank), the same bits.
#pragma once

#include <algorithm>
#include <bit>
#include <cstddef>
#include <map>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "ctnn/core/communicator.hpp"

namespace ctnn::distributed {

// Shards [first, last) of a global batch.
struct ShardRange {
    std::size_t first = 0;
    std::size_t last = 0;
    std::size_t size() const noexcept { return last - first; }
};

// Rank `rank`'s contiguous share of `shards` among `ranks`: [rank*shards/ranks, (rank+1)*shards/ranks).
inline ShardRange shards_of_rank(int rank, int ranks, std::size_t shards) {
    if (ranks <= 0 || rank < 0 || rank >= ranks)
        throw std::invalid_argument("shards_of_rank(rank, ranks, shards): expected 0 <= rank < ranks, got rank " +
                                    std::to_string(rank) + " of " + std::to_string(ranks));
    const auto r = static_cast<std::size_t>(rank), n = static_cast<std::size_t>(ranks);
    return {r * shards / n, (r + 1) * shards / n};
}

namespace detail {

// left[k] = left[k] + right[k]: one node of the tree from its two children, left operand first.
inline void add_children(float* left, const float* right, std::size_t length) noexcept {
    for (std::size_t k = 0; k < length; ++k) left[k] = left[k] + right[k];
}

// The subtree over vectors[0 .. count) (count a power of two), level by level, into vectors[0].
inline void reduce_subtree(float* const* vectors, std::size_t count, std::size_t length) noexcept {
    for (std::size_t step = 1; step < count; step *= 2)
        for (std::size_t j = 0; j + step < count; j += 2 * step) add_children(vectors[j], vectors[j + step], length);
}

// One node of the tree: level (log2 of the shards below it) and index within its level.
struct TreeNode {
    unsigned level = 0;
    std::size_t index = 0;
    std::size_t first_shard() const noexcept { return index << level; }
    auto operator<=>(const TreeNode&) const = default;
};

// The largest aligned complete subtrees that tile `range`, left to right (the canonical cover).
inline std::vector<TreeNode> subtrees_covering(ShardRange range) {
    std::vector<TreeNode> cover;
    for (std::size_t i = range.first; i < range.last;) {
        unsigned level = 0;
        while (i % (std::size_t{2} << level) == 0 && i + (std::size_t{2} << level) <= range.last) ++level;
        cover.push_back({level, i >> level});
        i += std::size_t{1} << level;
    }
    return cover;
}

// Rank counts that are powers of two: local subtree, then recursive halving and doubling.
inline void tree_sum_power_of_two_ranks(Communicator& comm, std::size_t shards, std::span<float* const> local,
                                        std::size_t length, std::span<float> out) {
    const int rank = comm.rank();
    const int ranks = comm.size();
    reduce_subtree(local.data(), shards / static_cast<std::size_t>(ranks), length);
    float* work = local[0];  // node(log2(shards / ranks), rank), then parts of the levels above it

    // Reduce-scatter: at step k this rank and rank ^ (1 << k) hold the two children of one node on
    // the same segment; each keeps one half of it (odd lengths split unevenly, alike on both sides).
    struct Segment {
        std::size_t lo, hi;
    };
    std::vector<Segment> before_step;  // the segment each step split, for the allgather's way back
    std::vector<float> received((length + 1) / 2);
    Segment mine{0, length};
    for (int bit = 1; bit < ranks; bit <<= 1) {
        const std::size_t mid = mine.lo + (mine.hi - mine.lo) / 2;
        const bool left_child = (rank & bit) == 0;
        const Segment keep = left_child ? Segment{mine.lo, mid} : Segment{mid, mine.hi};
        const Segment give = left_child ? Segment{mid, mine.hi} : Segment{mine.lo, mid};
        comm.exchange(rank ^ bit, std::span<const float>(work + give.lo, give.hi - give.lo),
                      std::span<float>(received.data(), keep.hi - keep.lo));
        for (std::size_t k = keep.lo; k < keep.hi; ++k) {
            const float other = received[k - keep.lo];
            work[k] = left_child ? work[k] + other : other + work[k];
        }
        before_step.push_back(mine);
        mine = keep;
    }

    // Allgather by recursive doubling: the same pairs in reverse order, each now swapping the halves
    // of the root it owns, until every rank has all of it.
    std::copy(work + mine.lo, work + mine.hi, out.data() + mine.lo);
    int bit = ranks >> 1;
    for (auto step = before_step.rbegin(); step != before_step.rend(); ++step, bit >>= 1) {
        const std::size_t mid = step->lo + (step->hi - step->lo) / 2;
        const bool left_child = (rank & bit) == 0;  // this rank kept the lower half at this step
        const Segment other = left_child ? Segment{mid, step->hi} : Segment{step->lo, mid};
        comm.exchange(rank ^ bit, std::span<const float>(out.data() + mine.lo, mine.hi - mine.lo),
                      out.subspan(other.lo, other.hi - other.lo));
        mine = *step;
    }
}

// Any rank count: local aligned subtrees, allgathered, and the tree above them on every rank.
inline void tree_sum_any_ranks(Communicator& comm, std::size_t shards, std::span<float* const> local,
                               std::size_t length, std::span<float> out) {
    const int ranks = comm.size();
    const ShardRange own = shards_of_rank(comm.rank(), ranks, shards);
    const std::vector<TreeNode> own_cover = subtrees_covering(own);
    std::vector<float> mine(own_cover.size() * length);
    for (std::size_t n = 0; n < own_cover.size(); ++n) {
        float* const* first = local.data() + (own_cover[n].first_shard() - own.first);
        reduce_subtree(first, std::size_t{1} << own_cover[n].level, length);
        std::copy(first[0], first[0] + length, mine.data() + n * length);
    }

    // Every rank knows every rank's cover, hence the counts and where each node lands.
    std::vector<std::size_t> counts(static_cast<std::size_t>(ranks));
    std::map<TreeNode, std::size_t> offset_of;  // node -> its offset in `all`
    std::size_t total = 0;
    for (int r = 0; r < ranks; ++r) {
        const std::vector<TreeNode> cover = subtrees_covering(shards_of_rank(r, ranks, shards));
        counts[static_cast<std::size_t>(r)] = cover.size() * length;
        for (const TreeNode& node : cover) {
            offset_of.emplace(node, total);
            total += length;
        }
    }
    std::vector<float> all(total);
    comm.allgather(mine, all, counts);

    // Above the cover: node = left + right, recursively; one scratch vector per level for the right
    // child (the left one is computed straight into the destination).
    const auto root_level = static_cast<unsigned>(std::countr_zero(shards));
    std::vector<std::vector<float>> scratch(root_level);
    auto evaluate = [&](auto& self, TreeNode node, float* dst) -> void {
        if (const auto found = offset_of.find(node); found != offset_of.end()) {
            std::copy_n(all.data() + found->second, length, dst);
            return;
        }
        std::vector<float>& right = scratch[node.level - 1];
        right.resize(length);
        self(self, TreeNode{node.level - 1, 2 * node.index}, dst);
        self(self, TreeNode{node.level - 1, 2 * node.index + 1}, right.data());
        add_children(dst, right.data(), length);
    };
    evaluate(evaluate, TreeNode{root_level, 0}, out.data());
}

}  // namespace detail

// The sum over all `shards` shards' vectors, in the fixed tree above, on every rank: the same bits
// for any number of ranks. Collective. `local` holds this rank's shards_of_rank(rank, size, shards)
// in order, `length` floats each (used as scratch: overwritten); `out` (length floats, not
// overlapping them) receives the sum. Every rank passes the same `shards` and `length`.
inline void sum_shards_in_tree_order(Communicator& comm, std::size_t shards, std::span<float* const> local,
                                     std::size_t length, std::span<float> out) {
    const int ranks = comm.size();
    // Checked on each rank before any communication, so that a bad call throws instead of deadlocking.
    if (!std::has_single_bit(shards) || shards < static_cast<std::size_t>(ranks))
        throw std::invalid_argument("sum_shards_in_tree_order: shards must be a power of two >= the number of ranks (" +
                                    std::to_string(ranks) + "), got " + std::to_string(shards));
    const ShardRange own = shards_of_rank(comm.rank(), ranks, shards);
    if (local.size() != own.size())
        throw std::invalid_argument("sum_shards_in_tree_order: rank " + std::to_string(comm.rank()) + " of " +
                                    std::to_string(ranks) + " holds shards [" + std::to_string(own.first) + ", " +
                                    std::to_string(own.last) + "), so expected " + std::to_string(own.size()) +
                                    " local vectors, got " + std::to_string(local.size()));
    if (out.size() != length)
        throw std::invalid_argument("sum_shards_in_tree_order: out must hold length = " + std::to_string(length) +
                                    " floats, got " + std::to_string(out.size()));
    for (float* v : local)
        if (v == nullptr && length > 0)
            throw std::invalid_argument("sum_shards_in_tree_order: a local shard vector is null");

    if (std::has_single_bit(static_cast<unsigned>(ranks)))
        detail::tree_sum_power_of_two_ranks(comm, shards, local, length, out);
    else
        detail::tree_sum_any_ranks(comm, shards, local, length, out);
}

}  // namespace ctnn::distributed
