// ctnn/detail/scratch.hpp — buffers a block needs only while one of its calls runs (the gradients it
// passes back through its layers, its branches' outputs until the merge), shared by every block at the
// same nesting depth. Blocks run one after another, so one set per depth serves a whole network: a
// ResNet-20 keeps 4 gradient buffers of its widest block instead of 4 per block (about a third of its
// training memory). Per thread, so data-parallel ranks on threads never share one.
#pragma once

#include <cstddef>
#include <vector>

#include "ctnn/core/tensor.hpp"

namespace ctnn::detail {

class Scratch {
public:
    // Enters one level deeper for the lifetime of the object: a block's call holds one.
    Scratch() { ++depth(); }
    ~Scratch() { --depth(); }
    Scratch(const Scratch&) = delete;
    Scratch& operator=(const Scratch&) = delete;

    // Buffer `slot` of this depth, at least `floats` long (grown on first use, never shrunk, so a
    // training loop's steady state allocates nothing).
    float* buffer(std::size_t slot, std::size_t floats) {
        auto& pool = levels();
        if (pool.size() < depth()) pool.resize(depth());  // (moving the levels keeps their buffers' memory)
        auto& level = pool[depth() - 1];
        if (level.size() <= slot) level.resize(slot + 1);
        if (level[slot].size() < floats) level[slot].resize(floats);
        return level[slot].data();
    }

private:
    static std::size_t& depth() {
        thread_local std::size_t d = 0;
        return d;
    }
    static std::vector<std::vector<Buffer>>& levels() {
        thread_local std::vector<std::vector<Buffer>> pool;
        return pool;
    }
};

}  // namespace ctnn::detail
