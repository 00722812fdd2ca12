// examples/control_charts.hpp — the synthetic control chart time series (Alcock & Manolopoulos, 1999;
// the UCI "Synthetic Control Chart Time Series" data set is 600 of them) generated from their published
// formulas, so the example needs no download: 60 steps of a process around m = 30 with noise s·r, r
// uniform in [−3, 3], s = 2, in six classes:
//   0 normal            y = m + r·s
//   1 cyclic            y = m + r·s + a·sin(2πt/T),   a in [10, 15], T in [10, 15]
//   2 increasing trend  y = m + r·s + g·t,            g in [0.2, 0.5]
//   3 decreasing trend  y = m + r·s − g·t
//   4 upward shift      y = m + r·s + k·x,            x in [7.5, 20], k = 0 before a step t3 in [20, 40], 1 after
//   5 downward shift    y = m + r·s − k·x
// Values are standardised as (y − 30) / 10 so the network sees numbers near [−3, 3]. Shared by
// examples/control_charts.cpp and its PyTorch twin's data (benchmarks/pytorch_control_charts.py).
#pragma once

#include <cmath>
#include <cstddef>
#include <numbers>

#include <ctnn/core/random.hpp>
#include <ctnn/core/tensor.hpp>

namespace examples::control_charts {

inline constexpr std::size_t steps = 60;
inline constexpr std::size_t classes = 6;

struct Series {
    ctnn::Matrix x;  // (n, steps): one standardised series per row
    ctnn::Matrix y;  // (n, classes): one-hot
};

// `per_class` series of each class, interleaved (class = row % 6), from `seed`.
inline Series generate(std::size_t per_class, std::uint64_t seed) {
    constexpr double m = 30.0, s = 2.0;
    ctnn::Rng rng(seed);
    const std::size_t n = per_class * classes;
    Series out{ctnn::Matrix::from_shape({n, steps}), ctnn::Matrix::from_shape({n, classes})};
    out.y.fill(0.0f);
    for (std::size_t row = 0; row < n; ++row) {
        const std::size_t kind = row % classes;
        const double a = rng.uniform(10.0f, 15.0f), period = rng.uniform(10.0f, 15.0f), g = rng.uniform(0.2f, 0.5f),
                     shift = rng.uniform(7.5f, 20.0f);
        const auto t3 = static_cast<std::size_t>(rng.uniform(20.0f, 40.0f));
        for (std::size_t t = 0; t < steps; ++t) {
            double v = m + s * rng.uniform(-3.0f, 3.0f);
            switch (kind) {
                case 1: v += a * std::sin(2.0 * std::numbers::pi * double(t) / period); break;
                case 2: v += g * double(t); break;
                case 3: v -= g * double(t); break;
                case 4: v += t >= t3 ? shift : 0.0; break;
                case 5: v -= t >= t3 ? shift : 0.0; break;
                default: break;
            }
            out.x(row, t) = static_cast<float>((v - m) / 10.0);
        }
        out.y(row, kind) = 1.0f;
    }
    return out;
}

}  // namespace examples::control_charts
