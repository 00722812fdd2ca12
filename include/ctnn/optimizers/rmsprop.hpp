// ctnn/optimizers/rmsprop.hpp — RMSprop, Keras 3 semantics and defaults:
// a ← ρ·a + (1−ρ)·g²;  w ← w − lr·g/√(a + ε).
#pragma once

#include <cstdint>
#include <string_view>

#include "ctnn/core/parameter.hpp"
#include "ctnn/kernels/optimizer.hpp"

namespace ctnn::optimizers {

struct RMSprop {
    static constexpr std::string_view name = "rmsprop";
    float learning_rate = 0.001f;
    float rho = 0.9f;
    float epsilon = 1e-7f;

    struct State {
        Buffer mean_square;  // running mean of g²
    };
    State make_state(const Parameter& p) const { return {Buffer(p.size(), 0.0f)}; }

    // Each buffer of a parameter's state by name, for training-state files ("optimizer/<weight>/<name>").
    template <class F>
    static void visit_state(State& s, F&& f) {
        f("mean_square", s.mean_square);
    }

    void begin_step() { ++iterations; }
    void update(Parameter& p, State& s) const {
        kernels::rmsprop_update(p.size(), p.value.data(), p.gradient.data(), s.mean_square.data(), learning_rate, rho,
                                epsilon);
    }

    std::int64_t iterations = 0;
};

}  // namespace ctnn::optimizers
