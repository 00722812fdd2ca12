// ctnn/detail/type_list.hpp — the few type-list tools Sequential needs. Not public API.
#pragma once

#include <cstddef>
#include <string_view>
#include <type_traits>

namespace ctnn::detail {

template <class... Ts> struct type_list {
    static constexpr std::size_t size = sizeof...(Ts);
};

// Number of entries of `list` before position `End` whose kind equals `kind` (Keras's automatic
// layer names: dense, dense_1, dense_2, ...).
template <class... Ts>
constexpr std::size_t count_kind_before(std::size_t end, std::string_view kind, type_list<Ts...>) {
    std::size_t count = 0, index = 0;
    ((index++ < end && Ts::kind == kind ? ++count : count), ...);
    return count;
}

}  // namespace ctnn::detail
