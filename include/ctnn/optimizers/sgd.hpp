// ctnn/optimizers/sgd.hpp — SGD with optional (Nesterov) momentum, Keras 3 semantics:
// v ← μ·v − lr·g;  w ← w + v,  or with Nesterov  w ← w + μ·v − lr·g.
#pragma once

#include <cstdint>
#include <string_view>

#include "ctnn/core/parameter.hpp"
#include "ctnn/kernels/optimizer.hpp"

namespace ctnn::optimizers {

struct SGD {
    static constexpr std::string_view name = "sgd";
    float learning_rate = 0.01f;
    float momentum = 0.0f;
    bool nesterov = false;

    struct State {
        Buffer velocity;  // empty without momentum
    };
    State make_state(const Parameter& p) const { return {momentum != 0.0f ? Buffer(p.size(), 0.0f) : Buffer{}}; }

    // Each buffer of a parameter's state by name, for training-state files ("optimizer/<weight>/<name>").
    template <class F>
    static void visit_state(State& s, F&& f) {
        f("velocity", s.velocity);
    }

    void begin_step() { ++iterations; }
    void update(Parameter& p, State& s) const {
        if (momentum != 0.0f && s.velocity.size() != p.size()) s.velocity.assign(p.size(), 0.0f);  // momentum set after compile
        kernels::sgd_update(p.size(), p.value.data(), p.gradient.data(), momentum != 0.0f ? s.velocity.data() : nullptr,
                            learning_rate, momentum, nesterov);
    }

    std::int64_t iterations = 0;
};

}  // namespace ctnn::optimizers
