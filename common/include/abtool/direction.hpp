// Which way a metric is better: one type for the runners that report it, the statistics that
// judge it and the files that store it ("lower" | "higher" in samples.jsonl, results.csv and the
// JSON report).
#pragma once

#include <optional>
#include <string_view>

namespace abtool {

enum class Direction { lower, higher };

constexpr std::string_view to_string(Direction direction) {
    return direction == Direction::lower ? "lower" : "higher";
}

// nullopt for anything but "lower" and "higher".
constexpr std::optional<Direction> direction_from_string(std::string_view text) {
    if (text == "lower") {
        return Direction::lower;
    }
    if (text == "higher") {
        return Direction::higher;
    }
    return std::nullopt;
}

} // namespace abtool
