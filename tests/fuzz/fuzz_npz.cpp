// libFuzzer target for the .npz reader (ctnn/io/npz.hpp, zip.hpp, npy.hpp): any input must either
// parse or throw ctnn::file_error; anything else (crash, sanitizer report, other exception,
// allocation beyond libFuzzer's -rss_limit_mb/-malloc_limit_mb) is a bug.
// Inputs starting with the .npy magic also go straight to the .npy decoder: inside an archive the
// CRC rejects nearly every mutation before the header parser sees it.
// Built by tests/fuzz/run_fuzz.sh; seeds in tests/fuzz/corpus/npz/, past crashes in tests/fuzz/regressions/npz/.
#include <cstddef>
#include <cstdint>
#include <span>

#include <ctnn/io/npz.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> bytes(data, size);
    try {
        if (size >= 6 && data[0] == 0x93 && data[1] == 'N') {
            const auto array = ctnn::io::decode_npy(bytes, "fuzz.npy");
            std::size_t count = 1;
            for (std::size_t d : array.shape) count *= d;
            if (count != array.values.size()) __builtin_trap();
        } else {
            for (const auto& array : ctnn::io::parse_npz(bytes, "fuzz.npz")) {
                std::size_t count = 1;
                for (std::size_t d : array.shape) count *= d;
                if (count != array.values.size()) __builtin_trap();  // the decoder's own invariant
            }
        }
    } catch (const ctnn::file_error&) {
        // Rejected input: the expected outcome for almost everything.
    }
    return 0;
}
