// ctnn/io/npz.hpp — named float32 arrays in an .npz file, the format of numpy.savez.
//
// save_npz writes one deflated "<name>.npy" entry per array, atomically, so
// `numpy.load("weights.npz")["dense/kernel"]` works. load_npz/parse_npz read files from our writer,
// numpy.savez and numpy.savez_compressed (float32 only; other dtypes are named in the error).
// This header knows nothing of models: matching names and shapes to a network is the caller's job.
#pragma once

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <functional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/error.hpp"
#include "../core/named_array.hpp"
#include "atomic_file.hpp"
#include "npy.hpp"
#include "zip.hpp"

namespace ctnn::io {

// Parses an .npz held in memory. `name` (the file name) begins every error message, which also
// names the array: "weights.npz: array 'dense_1/bias': CRC mismatch (...)". Arrays come back in
// archive order. Throws ctnn::file_error for anything malformed, never allocates a size the data
// cannot back (see the limits in zip.hpp).
inline std::vector<NamedArray> parse_npz(std::span<const std::uint8_t> bytes, const std::string& name) {
    const ZipReader zip(bytes, name);
    std::vector<NamedArray> arrays;
    arrays.reserve(zip.entries().size());
    std::set<std::string, std::less<>> seen;
    for (const ZipEntry& entry : zip.entries()) {
        if (entry.name.size() <= 4 || !entry.name.ends_with(".npy"))
            throw file_error(name, "entry " + detail::quoted_name(entry.name) +
                                       " is not an .npy array (numpy.savez names entries '<array>.npy')");
        std::string array_name = entry.name.substr(0, entry.name.size() - 4);
        const std::string label = "array " + detail::quoted_name(array_name) + ": ";
        if (!seen.insert(array_name).second) throw file_error(name, label + "appears twice");
        NpyArray array;
        try {
            const std::vector<std::uint8_t> npy = detail::zip_extract(bytes, entry);
            array = detail::decode_npy(npy);
        } catch (const detail::zip_error& e) {
            throw file_error(name, label + e.what());
        } catch (const detail::npy_error& e) {
            throw file_error(name, label + e.what());
        }
        arrays.push_back({std::move(array_name), std::move(array.shape), std::move(array.values)});
    }
    return arrays;
}

inline std::vector<NamedArray> load_npz(const std::filesystem::path& path) {
    const std::string where = path.string();
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) throw file_error(where, std::string("cannot open: ") + std::strerror(errno));
    struct Close {
        int fd;
        ~Close() { ::close(fd); }
    } close_on_exit{fd};
    struct stat status {};
    if (::fstat(fd, &status) != 0) throw file_error(where, std::string("cannot stat: ") + std::strerror(errno));
    if (!S_ISREG(status.st_mode)) throw file_error(where, "not a regular file");
    // A zip without ZIP64 cannot be larger than 4 GiB plus its end record and comment.
    const auto size = static_cast<std::uint64_t>(status.st_size);
    if (size > zip_max_archive_size + detail::zip_end_record_size + 0xFFFF)
        throw file_error(where, "is " + std::to_string(size) + " bytes, larger than any zip without ZIP64");
    std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
    std::size_t done = 0;
    while (done < bytes.size()) {
        const ::ssize_t got = ::read(fd, bytes.data() + done, bytes.size() - done);
        if (got < 0 && errno == EINTR) continue;
        if (got < 0) throw file_error(where, std::string("read failed: ") + std::strerror(errno));
        if (got == 0) throw file_error(where, "file shrank while being read");
        done += static_cast<std::size_t>(got);
    }
    return parse_npz(bytes, where);
}

// Writes the arrays (deflated) to `path` atomically: on any failure the previous file is intact.
// Throws std::invalid_argument for a bad name (empty, duplicate, absolute, with '..' or NUL) or a
// shape that does not hold values.size() values; ctnn::file_error for I/O failures.
inline void save_npz(const std::filesystem::path& path, const std::vector<NamedArray>& arrays) {
    const std::string where = path.string();
    std::set<std::string, std::less<>> names;
    for (const NamedArray& array : arrays) {
        const std::string label = "save_npz(" + where + "): array " + detail::quoted_name(array.name) + " ";
        const std::string problem = detail::zip_name_problem(array.name + ".npy");
        if (array.name.empty()) throw std::invalid_argument(label + "has an empty name");
        if (!problem.empty()) throw std::invalid_argument(label + "has a name that " + problem);
        if (!names.insert(array.name).second) throw std::invalid_argument(label + "appears twice");
        std::size_t count = 0;
        if (!detail::checked_element_count(array.shape, count) || count != array.values.size())
            throw std::invalid_argument(label + "has shape " + detail::shape_repr(array.shape) + " but " +
                                        std::to_string(array.values.size()) + " values");
        if (array.shape.size() > npy_max_dimensions)
            throw std::invalid_argument(label + "has more than " + std::to_string(npy_max_dimensions) +
                                        " dimensions");
    }
    ZipWriter zip(where);
    for (const NamedArray& array : arrays) zip.add(array.name + ".npy", encode_npy(array.shape, array.values));
    const std::vector<std::uint8_t> archive = zip.finish();
    write_file_atomically(path, std::as_bytes(std::span(archive)));
}

}  // namespace ctnn::io
