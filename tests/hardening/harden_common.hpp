// tests/hardening/harden_common.hpp — the network, data and fit shared by train_until_killed (the
// program the crash test kills) and the tests that check what it left behind, so both sides can
// rebuild the same weights bit for bit (same seed, OMP_NUM_THREADS=1).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include <ctnn/callbacks/model_checkpoint.hpp>
#include <ctnn/callbacks/tensorboard.hpp>
#include <ctnn/ctnn.hpp>

namespace ctnn::hardening {

// 64 -> 512 -> 10: cheap to train, but 39k parameters make each checkpoint a 156 KB .npz whose
// write + fsync + rename takes long enough for some kills to land inside it.
struct KilledNet : Sequential<Dense<64, 512, Relu>, Dense<512, 10, Softmax>> {};

inline constexpr std::size_t killed_samples = 512;
inline constexpr std::size_t killed_batch = 16;  // 32 batches per epoch, each one logged
inline constexpr std::uint64_t killed_seed = 7;

inline auto make_killed_model() {
    auto model = compile<KilledNet>(optimizers::SGD{.learning_rate = 0.05f}, losses::CategoricalCrossentropy{},
                                    metrics::Accuracy{});
    model.initialize(killed_seed);
    return model;
}

// Ten noisy classes in 64-D, one-hot targets; a pure function of the seed.
struct ClassData {
    Matrix x, y;
};
inline ClassData make_class_data(std::size_t n, std::uint64_t seed) {
    Rng rng(seed);
    ClassData d{Matrix::from_shape({n, 64}), Matrix::from_shape({n, 10})};
    d.y.fill(0.0f);
    for (std::size_t i = 0; i < n; ++i) {
        const std::size_t cls = i % 10;
        for (std::size_t c = 0; c < 64; ++c) d.x(i, c) = rng.uniform(-1.0f, 1.0f) + (c % 10 == cls ? 1.0f : 0.0f);
        d.y(i, cls) = 1.0f;
    }
    return d;
}

// Events one epoch adds to log_dir/train: batch_loss and batch_accuracy per batch, then
// epoch_loss, epoch_accuracy and epoch_learning_rate.
inline constexpr std::size_t events_per_epoch = 2 * (killed_samples / killed_batch) + 3;

inline FitOptions killed_fit_options(std::size_t epochs) {
    return {.epochs = epochs, .batch_size = killed_batch, .verbose = 0, .seed = killed_seed};
}

// The resumed runs (issue 23): Dropout and Adam, a quarter of the samples for validation (24
// batches of 16 per epoch), backups every 5 batches.
struct ResumeNet : Sequential<Dense<64, 128, Relu>, Dropout<0.2>, Dense<128, 10, Softmax>> {};
inline constexpr std::size_t resume_epochs = 3;
inline constexpr std::size_t resume_backup_batches = 5;

inline auto make_resume_model() {
    auto model = compile<ResumeNet>(optimizers::Adam{.learning_rate = 0.005f}, losses::CategoricalCrossentropy{},
                                    metrics::Accuracy{});
    model.initialize(killed_seed);
    return model;
}
inline FitOptions resume_fit_options() {
    return {.epochs = resume_epochs, .batch_size = killed_batch, .validation_split = 0.25, .verbose = 0, .seed = killed_seed};
}

// The checkpoint names ModelCheckpoint writes: ckpt-01.npz for the first epoch.
inline constexpr const char* checkpoint_pattern = "ckpt-{epoch:02d}.npz";

}  // namespace ctnn::hardening
