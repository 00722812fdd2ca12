// ctnn/optimizers/adam.hpp — Adam with Keras's defaults and its "epsilon hat" update:
// m ← β1·m + (1−β1)·g, v ← β2·v + (1−β2)·g², w ← w − α·m/(√v + ε), α = lr·√(1−β2^t)/(1−β1^t).
#pragma once

#include <cmath>
#include <cstdint>
#include <string_view>

#include "ctnn/core/parameter.hpp"
#include "ctnn/kernels/optimizer.hpp"

namespace ctnn::optimizers {

struct Adam {
    static constexpr std::string_view name = "adam";
    float learning_rate = 0.001f;
    float beta_1 = 0.9f;
    float beta_2 = 0.999f;
    float epsilon = 1e-7f;

    struct State {
        Buffer m, v;  // first and second moment, shaped as the parameter
    };
    State make_state(const Parameter& p) const { return {Buffer(p.size(), 0.0f), Buffer(p.size(), 0.0f)}; }

    // Once per training step, before the per-parameter updates.
    // Each buffer of a parameter's state by name, for training-state files ("optimizer/<weight>/<name>").
    template <class F>
    static void visit_state(State& s, F&& f) {
        f("m", s.m);
        f("v", s.v);
    }

    void begin_step() {
        ++iterations;
        const double t = static_cast<double>(iterations);
        step_size = static_cast<float>(learning_rate * std::sqrt(1.0 - std::pow(double(beta_2), t)) /
                                        (1.0 - std::pow(double(beta_1), t)));
    }
    void update(Parameter& p, State& s) const {
        kernels::adam_update(p.size(), p.value.data(), p.gradient.data(), s.m.data(), s.v.data(), step_size, beta_1,
                             beta_2, epsilon);
    }

    std::int64_t iterations = 0;  // Keras's optimizer.iterations (TensorBoard uses it as a step)
    float step_size = 0.0f;       // α of the current step, derived in begin_step()
};

}  // namespace ctnn::optimizers
