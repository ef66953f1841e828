// A real git repository in a TempDir, driven with the git command line, for tests that need
// commits, branches, tags and a dirty working tree.
#pragma once

#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

namespace abtool::testing {

class TestRepo {
public:
    explicit TestRepo(const std::filesystem::path& root) : m_root(root) {
        std::filesystem::create_directories(m_root);
        git("init -q -b main");
        git("config user.name abtool-test");
        git("config user.email test@abtool.invalid");
        git("config commit.gpgsign false");
    }

    const std::filesystem::path& root() const { return m_root; }

    // Runs `git <args>` in the repository and returns its output (throws on failure).
    std::string git(const std::string& args) const {
        return must("git -C " + quote(m_root.string()) + " " + args);
    }

    void write(const std::string& rel, const std::string& text) const {
        write_file(m_root / rel, text);
    }

    // Stages everything and commits; returns the new commit id.
    std::string commit(const std::string& message) const {
        git("add -A");
        git("commit -q --allow-empty -m " + quote(message));
        return head();
    }

    std::string head() const {
        std::string id = git("rev-parse HEAD");
        return id.substr(0, id.find_first_of("\r\n"));
    }

    void tag(const std::string& name) const { git("tag " + name); }

    // The one run directory abtool made in .abtool/runs (a test failure when there is not
    // exactly one).
    std::filesystem::path only_run_dir() const {
        std::vector<std::filesystem::path> runs;
        for (const auto& entry : std::filesystem::directory_iterator(m_root / ".abtool" / "runs")) {
            runs.push_back(entry.path());
        }
        EXPECT_EQ(runs.size(), 1u);
        return runs.empty() ? std::filesystem::path() : runs.front();
    }

private:
    std::filesystem::path m_root;
};

} // namespace abtool::testing
