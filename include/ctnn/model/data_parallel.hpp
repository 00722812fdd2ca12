// ctnn/model/data_parallel.hpp — the parts of data-parallel fit (FitOptions::data_parallel) that do
// not need the Model: the per-fit shard buffers, the shard's dropout seed, rank 0's state broadcast,
// and the agreement checks made before the first collective call. Model::train_step_data_parallel
// (model.hpp) is the step itself.
#pragma once

#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <span>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "ctnn/core/communicator.hpp"
#include "ctnn/core/parameter.hpp"
#include "ctnn/core/random.hpp"
#include "ctnn/core/tensor.hpp"
#include "ctnn/distributed/shard_sum.hpp"

namespace ctnn::detail {

// Buffers of one data-parallel fit: this rank's shards' gradients, one Buffer per shard and
// parameter, traded with Parameter::gradient by swapping (no copies), and every shard's loss
// and metric sums.
struct DataParallelStep {
    DataParallelStep() = default;
    DataParallelStep(const DataParallel& options, const std::vector<Parameter*>& parameters, std::size_t values_per_shard)
        : communicator(options.communicator),
          deterministic(options.reduction == GradientReduction::deterministic),
          shards(deterministic ? options.shards : std::size_t(options.communicator->size())),
          mine(distributed::shards_of_rank(options.communicator->rank(), options.communicator->size(), shards)),
          gradients(mine.last - mine.first),
          shard_pointers(parameters.size()),
          sums(shards * values_per_shard) {
        for (auto& shard : gradients)
            for (const Parameter* p : parameters) shard.emplace_back(p->size());
    }
    // The pointers sum_shards_in_tree_order takes for parameter i: its local shards in order.
    std::span<float* const> shards_of(std::size_t parameter) {
        std::vector<float*>& pointers = shard_pointers[parameter];
        pointers.clear();  // capacity kept: no allocation after the first step
        for (auto& shard : gradients) pointers.push_back(shard[parameter].data());
        return pointers;
    }
    Communicator* communicator = nullptr;
    bool deterministic = true;
    std::size_t shards = 1;
    distributed::ShardRange mine{0, 0};
    std::vector<std::vector<Buffer>> gradients;    // [local shard][parameter]
    std::vector<std::vector<float*>> shard_pointers;  // [parameter][local shard]
    std::vector<double> sums;                        // (shards, values_per_shard): loss and metric sums
};

// SplitMix64's finalizer over (step, shard): shard streams that do not overlap one another.
inline std::uint64_t shard_seed(std::uint64_t step_seed, std::size_t shard) {
    std::uint64_t z = step_seed ^ (0xD1B54A32D192ED03ULL * (std::uint64_t(shard) + 1));
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}
// Rank 0's weights and random stream on every rank, so every rank starts from the same model
// (whatever each did before: initialize, load_weights, an earlier fit).
inline void share_rank_zero_state(Communicator& communicator, const std::vector<Parameter*>& parameters, Rng& rng) {
    for (Parameter* p : parameters) communicator.broadcast(std::span<float>(p->value.data(), p->size()), 0);
    std::uint64_t seed = rng.next_u64();
    std::array<std::uint8_t, sizeof seed> bytes{};
    std::memcpy(bytes.data(), &seed, sizeof seed);
    communicator.broadcast(std::span<std::uint8_t>(bytes), 0);
    std::memcpy(&seed, bytes.data(), sizeof seed);
    rng = Rng(seed);
}
// stop_training as rank 0 has it, on every rank (a callback may run on rank 0 only).
inline bool rank_zero_says_stop(Communicator& communicator, bool stop_training) {
    std::array<std::uint8_t, 1> flag{static_cast<std::uint8_t>(stop_training ? 1 : 0)};
    communicator.broadcast(std::span<std::uint8_t>(flag), 0);
    return flag[0] != 0;
}
// Every rank must train on the same number of samples with the same options: a rank that
// differs would wait forever in a collective the others never make. All ranks see the same
// sums, so all of them throw or none does.
struct NamedValue {
    const char* name;
    double value;
};
inline void agree_across_ranks(const char* where, Communicator& communicator, std::initializer_list<NamedValue> values) {
    std::vector<double> sums;
    for (const NamedValue& v : values) {
        sums.push_back(v.value);
        sums.push_back(v.value * v.value);
    }
    communicator.allreduce_sum(std::span<double>(sums));
    const double ranks = communicator.size();
    std::size_t i = 0;
    for (const NamedValue& v : values) {
        const double sum = sums[i], sum_of_squares = sums[i + 1];
        i += 2;
        if (ranks * sum_of_squares == sum * sum) continue;  // all equal
        std::ostringstream message;
        message << where << ": the ranks were given different data sizes or options: " << v.name << " is "
                << v.value << " here, " << sum / ranks << " on average over the " << communicator.size()
                << " ranks; every rank must call with the same x, y and options";
        throw std::invalid_argument(message.str());
    }
}
inline void check_data_parallel(const std::string& where, const DataParallel& options) {
    if (!options.enabled()) return;
    const std::size_t ranks = static_cast<std::size_t>(options.communicator->size());
    if (options.reduction != GradientReduction::deterministic) return;
    if (options.shards == 0 || !std::has_single_bit(options.shards) || options.shards < ranks)
        throw std::invalid_argument(where + ": data_parallel.shards is " + std::to_string(options.shards) +
                                    "; expected a power of two (1, 2, 4, 8, ...) at least the number of ranks (" +
                                    std::to_string(ranks) + ")");
}

}  // namespace ctnn::detail
