// tests/fuzz/fuzz_idx.cpp — libFuzzer target for ctnn/io/idx.hpp and ctnn/io/gzip.hpp.
//
// Any input must either parse or throw ctnn::file_error / std::invalid_argument; anything else
// (a crash, a sanitizer report, another exception escaping, a huge allocation) is a finding.
// Build and run through tests/fuzz/run_fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <vector>

#include "ctnn/io/gzip.hpp"
#include "ctnn/io/idx.hpp"

namespace {
// Small limits keep each execution fast; the checks they exercise are the same as at 2 GiB.
constexpr std::size_t max_inflated_bytes = std::size_t{16} << 20;
constexpr std::size_t max_data_bytes = std::size_t{8} << 20;

void check_array(const ctnn::io::IdxArray& array) {
    // What the parser promises: data holds exactly prod(dims) elements.
    if (array.data.size() != array.element_count() * array.element_size()) __builtin_trap();
    if (array.dims.empty() || array.dims.size() > ctnn::io::idx_max_dims) __builtin_trap();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> bytes(data, size);
    try {
        check_array(ctnn::io::parse_idx(bytes, "fuzz", max_data_bytes));
    } catch (const ctnn::file_error&) {
    } catch (const std::invalid_argument&) {
    }
    try {
        check_array(ctnn::io::decode_idx(bytes, "fuzz", max_data_bytes));
    } catch (const ctnn::file_error&) {
    } catch (const std::invalid_argument&) {
    }
    if (ctnn::io::is_gzip(bytes)) {
        try {
            const std::vector<std::uint8_t> inflated = ctnn::io::inflate_gzip(bytes, max_inflated_bytes, "fuzz");
            check_array(ctnn::io::parse_idx(inflated, "fuzz", max_data_bytes));
        } catch (const ctnn::file_error&) {
        } catch (const std::invalid_argument&) {
        }
    }
    return 0;
}
