// ctnn/core/logs.hpp — `Logs`, the name → value record handed to every callback hook (Keras's
// `logs` dict). Small and flat: keys keep their insertion order (so progress bars and CSV files
// print loss before accuracy), and updating an existing key never allocates, so the batch loop
// can reuse one Logs object.
#pragma once

#include <algorithm>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ctnn {

class Logs {
public:
    using value_type = std::pair<std::string, double>;

    Logs() = default;
    Logs(std::initializer_list<value_type> init) : entries_(init) {}

    // Inserts or overwrites.
    void set(std::string_view name, double value) {
        if (auto* slot = find(name)) {
            *slot = value;
        } else {
            entries_.emplace_back(std::string(name), value);
        }
    }
    bool contains(std::string_view name) const noexcept { return find(name) != nullptr; }
    double at(std::string_view name) const {
        if (const auto* slot = find(name)) return *slot;
        throw std::out_of_range(std::string("Logs::at(\"") + std::string(name) + "\"): no such entry; present: " + keys_joined());
    }
    // Keras-style lookup with a fallback, for callbacks that monitor an optional key.
    double get(std::string_view name, double fallback) const noexcept {
        const auto* slot = find(name);
        return slot ? *slot : fallback;
    }
    void erase(std::string_view name) {
        std::erase_if(entries_, [&](const value_type& e) { return e.first == name; });
    }
    void clear() noexcept { entries_.clear(); }
    bool empty() const noexcept { return entries_.empty(); }
    std::size_t size() const noexcept { return entries_.size(); }
    auto begin() const noexcept { return entries_.begin(); }
    auto end() const noexcept { return entries_.end(); }

    std::string keys_joined() const {
        std::string out;
        for (const auto& [k, v] : entries_) out += (out.empty() ? "" : ", ") + k;
        return out.empty() ? "(none)" : out;
    }

private:
    double* find(std::string_view name) noexcept {
        for (auto& [k, v] : entries_)
            if (k == name) return &v;
        return nullptr;
    }
    const double* find(std::string_view name) const noexcept {
        for (const auto& [k, v] : entries_)
            if (k == name) return &v;
        return nullptr;
    }
    std::vector<value_type> entries_;
};

}  // namespace ctnn
