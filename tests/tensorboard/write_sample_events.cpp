// Writes a known TensorBoard log for tests/tensorboard/check_events.py, which decodes it with
// protoc-generated code and its own CRC-32C and compares every value with the list it keeps itself.
// Usage: write_sample_events <log_dir>   (prints the event file paths it wrote)
#include "ctnn/tensorboard/event_writer.hpp"

#include <cstdio>
#include <exception>
#include <limits>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <log_dir>\n", argv[0]);
        return 2;
    }
    try {
        const std::filesystem::path log_dir = argv[1];
        const float nan = std::numeric_limits<float>::quiet_NaN();
        const float inf = std::numeric_limits<float>::infinity();
        {
            ctnn::tensorboard::EventWriter train(log_dir / "train");
            for (int step = 0; step < 5; ++step) train.add_scalar("loss", 1.0f / static_cast<float>(step + 1), step);
            const float accuracy[] = {0.25f, 0.5f, nan, 0.75f, inf};
            for (int step = 0; step < 5; ++step) train.add_scalar("accuracy", accuracy[step], 10 * step);
            std::vector<float> weights;  // 0, 0.5, ..., 49.5: 10 per bucket in 10 buckets
            for (int i = 0; i < 100; ++i) weights.push_back(0.5f * static_cast<float>(i));
            weights.push_back(nan);  // ignored
            train.add_histogram("weights", weights, 7, 10);
            train.add_histogram("constant", std::vector<float>{3.0f, 3.0f, 3.0f}, 1);
            train.add_histogram("empty", std::vector<float>{}, 1);
            train.add_text("note", "hello, TensorBoard \xc3\xbcnicode", 0);
            train.add_scalar_legacy("legacy", 2.5f, 5);
            train.add_scalar("negative_step", 1.0f, -3);
            train.flush();
            std::printf("%s\n", train.path().c_str());
        }
        ctnn::tensorboard::EventWriter validation(log_dir / "validation", ".v2");
        validation.add_scalar("epoch_loss", 0.125f, 1);
        std::printf("%s\n", validation.path().c_str());
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "write_sample_events: %s\n", e.what());
        return 1;
    }
}
