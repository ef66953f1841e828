// The example project (examples/pubsub), embedded in the binary at build time by
// cmake/embed_files.cmake, for `abtool demo`.
#pragma once

#include <string_view>
#include <vector>

namespace abtool {

struct EmbeddedFile {
    std::string_view path; // relative to the example's root
    std::string_view text;
};

const std::vector<EmbeddedFile>& example_files();

} // namespace abtool
