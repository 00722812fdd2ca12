// Tests of ctnn/io/npy.hpp: headers byte-identical to numpy 1.24's, exact float32 round trips,
// Fortran order, and a precise file_error for every kind of malformed header or data.
#include <ctnn/io/npy.hpp>

#include <bit>
#include <cstdint>
#include <string>
#include <vector>

#include <doctest/doctest.h>

// A namespace per file: the area's test files are compiled together as one unity translation unit.
namespace io_test_npy {

using ctnn::io::decode_npy;
using ctnn::io::encode_npy;
using ctnn::io::encode_npy_header;

namespace {

std::vector<std::uint8_t> bytes_of(const std::string& text) { return {text.begin(), text.end()}; }

// A version 1.0 .npy file with a hand-written header dict (padded like numpy) and raw data bytes.
std::vector<std::uint8_t> npy_with_dict(const std::string& dict, const std::vector<std::uint8_t>& data,
                                        std::uint8_t major = 1) {
    std::string header = dict;
    const std::size_t prefix_size = major == 1 ? 10 : 12;
    while ((prefix_size + header.size() + 1) % 64 != 0) header += ' ';
    header += '\n';
    // Assembled as a string: g++ 12 -O3 warns falsely (stringop-overflow) on vector inserts here.
    std::string prefix = std::string("\x93NUMPY", 6) + static_cast<char>(major) + '\0';
    prefix += static_cast<char>(header.size() & 0xff);
    prefix += static_cast<char>(header.size() >> 8);
    if (major == 2) prefix += std::string(2, '\0');
    const std::string file = prefix + header + std::string(data.begin(), data.end());
    return {file.begin(), file.end()};
}

std::vector<std::uint8_t> float_bytes(const std::vector<float>& values) {
    std::vector<std::uint8_t> data;
    for (float v : values) {
        const auto bits = std::bit_cast<std::uint32_t>(v);
        for (int b = 0; b < 4; ++b) data.push_back(static_cast<std::uint8_t>(bits >> (8 * b)));
    }
    return data;
}

// The message of the file_error decode_npy throws (and checks that it starts with the source).
std::string decode_error(const std::vector<std::uint8_t>& file) {
    try {
        decode_npy(file, "w.npy");
    } catch (const ctnn::file_error& e) {
        const std::string message = e.what();
        CHECK(message.starts_with("w.npy: "));
        return message;
    }
    FAIL("expected ctnn::file_error");
    return "";
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("Npy.header_is_byte_identical_to_numpy") {
    // Printed by numpy 1.24.2: io = BytesIO(); numpy.save(io, numpy.zeros(shape, numpy.float32)).
    // Every header is 128 bytes: 10 prefix bytes, the dict, spaces, '\n'; length field 0x76 = 118.
    const std::string prefix = std::string("\x93NUMPY\x01\x00\x76\x00", 10);
    SUBCASE("shape (3, 2)") {
        const std::vector<std::size_t> shape = {3, 2};
        const std::string numpy_header =
            prefix + "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }" + std::string(58, ' ') + "\n";
        CHECK(encode_npy_header(shape) == bytes_of(numpy_header));
    }
    SUBCASE("shape (5,)") {
        const std::vector<std::size_t> shape = {5};
        CHECK(encode_npy_header(shape) ==
              bytes_of(prefix + "{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }" + std::string(60, ' ') +
                       "\n"));
    }
    SUBCASE("shape ()") {
        CHECK(encode_npy_header({}) ==
              bytes_of(prefix + "{'descr': '<f4', 'fortran_order': False, 'shape': (), }" + std::string(62, ' ') +
                       "\n"));
    }
    SUBCASE("shape (784, 1000)") {
        const std::vector<std::size_t> shape = {784, 1000};
        CHECK(encode_npy_header(shape) ==
              bytes_of(prefix + "{'descr': '<f4', 'fortran_order': False, 'shape': (784, 1000), }" +
                       std::string(53, ' ') + "\n"));
    }
}

TEST_CASE("Npy.data_is_little_endian_float32") {
    const std::vector<std::size_t> shape = {2};
    const std::vector<float> values = {1.0f, -2.0f};
    const auto file = encode_npy(shape, values);
    REQUIRE(file.size() == 128 + 8);
    CHECK(std::vector<std::uint8_t>(file.begin() + 128, file.end()) ==
          std::vector<std::uint8_t>{0x00, 0x00, 0x80, 0x3f, 0x00, 0x00, 0x00, 0xc0});
    CHECK_THROWS_AS(encode_npy(std::vector<std::size_t>{3}, values), std::invalid_argument);
}

TEST_CASE("Npy.round_trip") {
    const std::vector<std::vector<std::size_t>> shapes = {{}, {0}, {5}, {3, 2}, {2, 0, 3}, {2, 3, 4}};
    for (const auto& shape : shapes) {
        std::size_t count = 1;
        for (auto d : shape) count *= d;
        std::vector<float> values(count);
        for (std::size_t i = 0; i < count; ++i) values[i] = static_cast<float>(i) * 0.25f - 1.5f;
        const auto decoded = decode_npy(encode_npy(shape, values), "x.npy");
        CHECK(decoded.shape == shape);
        CHECK(decoded.values == values);
    }
}

TEST_CASE("Npy.reads_what_numpy_may_write") {
    SUBCASE("Fortran order is returned in C order") {
        // numpy.asfortranarray([[1, 2, 3], [4, 5, 6]]) stores columns: 1 4 2 5 3 6.
        const auto file = npy_with_dict("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }",
                                        float_bytes({1, 4, 2, 5, 3, 6}));
        const auto array = decode_npy(file, "f.npy");
        CHECK(array.shape == std::vector<std::size_t>{2, 3});
        CHECK(array.values == std::vector<float>{1, 2, 3, 4, 5, 6});
    }
    SUBCASE("Fortran order, 3-D") {
        // Element (i, j, k) of shape (2, 2, 2) is 100i + 10j + k; on disk i varies fastest.
        std::vector<float> disk;
        for (int k = 0; k < 2; ++k)
            for (int j = 0; j < 2; ++j)
                for (int i = 0; i < 2; ++i) disk.push_back(static_cast<float>(100 * i + 10 * j + k));
        const auto array = decode_npy(
            npy_with_dict("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2, 2), }", float_bytes(disk)), "f.npy");
        CHECK(array.values == std::vector<float>{0, 1, 10, 11, 100, 101, 110, 111});
    }
    SUBCASE("version 2.0, keys in another order, double quotes, no trailing comma") {
        const auto file = npy_with_dict("{\"shape\": (2,), \"fortran_order\": False, \"descr\": \"<f4\"}",
                                        float_bytes({7, 8}), 2);
        const auto array = decode_npy(file, "v2.npy");
        CHECK(array.shape == std::vector<std::size_t>{2});
        CHECK(array.values == std::vector<float>{7, 8});
    }
}

TEST_CASE("Npy.dtype_mismatch_is_named") {
    const auto data = float_bytes({0, 0, 0, 0});  // 16 bytes: two float64 or four float32
    const std::string f8 = decode_error(npy_with_dict("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", data));
    CHECK(contains(f8, "w.npy: dtype is '<f8', expected '<f4' (float32)"));
    CHECK(contains(f8, "float64"));
    CHECK(contains(decode_error(npy_with_dict("{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }", data)),
                   "big-endian float32"));
    CHECK(contains(decode_error(npy_with_dict("{'descr': '<i4', 'fortran_order': False, 'shape': (4,), }", data)),
                   "int32"));
    CHECK(contains(
        decode_error(npy_with_dict("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (4,), }", data)),
        "structured"));
}

TEST_CASE("Npy.malformed_files_are_file_errors") {
    const auto data6 = float_bytes({1, 2, 3, 4, 5, 6});
    const std::string good = "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }";
    REQUIRE_NOTHROW(decode_npy(npy_with_dict(good, data6), "ok.npy"));

    SUBCASE("bad magic") {
        auto file = npy_with_dict(good, data6);
        file[1] = 'n';
        CHECK(contains(decode_error(file), "bad magic"));
    }
    SUBCASE("unsupported version") {
        auto file = npy_with_dict(good, data6);
        file[6] = 3;
        CHECK(contains(decode_error(file), "version 3.0 is not supported"));
    }
    SUBCASE("header length beyond the file") {
        auto file = npy_with_dict(good, {});
        file[9] = 0x40;  // 16 KiB header in a 128-byte file
        CHECK(contains(decode_error(file), "header length"));
    }
    SUBCASE("every truncation") {
        const auto file = npy_with_dict(good, data6);
        for (std::size_t length = 0; length < file.size(); ++length) {
            CAPTURE(length);
            const std::vector<std::uint8_t> cut(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(length));
            CHECK_THROWS_AS(decode_npy(cut, "cut.npy"), ctnn::file_error);
        }
    }
    SUBCASE("data size differs from the shape") {
        CHECK(contains(decode_error(npy_with_dict(good, float_bytes({1, 2, 3, 4, 5}))),
                       "data is 20 bytes, expected 24 for shape (3, 2)"));
        CHECK(contains(decode_error(npy_with_dict(good, float_bytes({1, 2, 3, 4, 5, 6, 7}))),
                       "data is 28 bytes, expected 24"));
        // Declares 2^40 floats but carries none: refused without allocating 4 TiB.
        CHECK(contains(
            decode_error(npy_with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': (1099511627776,), }", {})),
            "data is 0 bytes, expected 4398046511104"));
    }
    SUBCASE("shape product overflows") {
        CHECK(contains(decode_error(npy_with_dict(
                           "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296), }", {})),
                       "more elements than fit"));
        CHECK(contains(decode_error(npy_with_dict(
                           "{'descr': '<f4', 'fortran_order': False, 'shape': (4611686018427387904,), }", {})),
                       "more elements than fit"));
        CHECK(contains(decode_error(npy_with_dict(
                           "{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,), }", {})),
                       "does not fit in 64 bits"));
    }
    SUBCASE("bad dicts") {
        const std::vector<std::pair<std::string, std::string>> cases = {
            {"{'descr': '<f4', 'fortran_order': False, }", "'shape' is missing"},
            {"{'fortran_order': False, 'shape': (3, 2), }", "'descr' is missing"},
            {"{'descr': '<f4', 'shape': (3, 2), }", "'fortran_order' is missing"},
            {"{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", "'descr' appears twice"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), 'extra': 1, }", "unexpected key 'extra'"},
            {"{'descr': '<f4', 'fortran_order': maybe, 'shape': (3, 2), }", "True or False"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (6), }", "not a tuple"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (-6,), }", "negative dimension"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (3; 2), }", "',' or ')'"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': [3, 2], }", "'(' to open"},
            {"{'descr': '<f4' 'fortran_order': False, 'shape': (3, 2), }", "',' or '}'"},
            {"{'descr: '<f4', 'fortran_order': False, 'shape': (3, 2), }", "':'"},
            {"{'descr': '<f4\\x', 'fortran_order': False, 'shape': (3, 2), }", "escape"},
            {"{'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), } junk", "only padding"},
            {"'descr': '<f4', 'fortran_order': False, 'shape': (3, 2), }", "'{'"},
            {"{'descr': '<f4", "unterminated string"},
            {"", "'{'"},
        };
        for (const auto& [dict, expected] : cases) {
            CAPTURE(dict);
            const std::string message = decode_error(npy_with_dict(dict, data6));
            CHECK_MESSAGE(contains(message, expected), message);
        }
    }
    SUBCASE("too many dimensions") {
        std::string shape = "(";
        for (int i = 0; i < 33; ++i) shape += "1, ";
        CHECK(contains(decode_error(npy_with_dict("{'descr': '<f4', 'fortran_order': False, 'shape': " + shape +
                                                      "), }",
                                                  float_bytes({1}))),
                       "more than 32 dimensions"));
        const std::vector<std::size_t> too_many(33, 1);
        CHECK_THROWS_AS(encode_npy_header(too_many), std::invalid_argument);
    }
}

}  // namespace io_test_npy
