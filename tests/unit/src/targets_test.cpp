// The targets registry: reference/targets.json reads, every malformed entry is refused naming
// the file and the entry, and --target picks an id from --targets or targets.json beside the
// config. And the ssh command line an ssh target is reached with.
#include "abtool/error.hpp"
#include "src/core/targets.hpp"
#include "src/experiment/remote.hpp"
#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <string>

namespace abtool {
namespace {

std::string error_of(const std::function<void()>& call) {
    try {
        call();
    } catch (const Error& error) {
        EXPECT_EQ(error.kind(), ErrorKind::usage) << error.what();
        return error.what();
    }
    ADD_FAILURE() << "no error";
    return "";
}

TEST(Targets, TheReferenceRegistry_HasLocal) {
    const std::vector<Target> targets = load_targets(std::filesystem::path(ABTOOL_FIXTURES_DIR) /
                                                     ".." / ".." / "reference" / "targets.json");
    ASSERT_EQ(targets.size(), 1u);
    EXPECT_EQ(targets[0].id, "local");
    EXPECT_EQ(targets[0].kind, "local");
}

TEST(Targets, MalformedRegistries_NameTheFileAndTheEntry) {
    testing::TempDir dir;
    const std::filesystem::path file = dir.path() / "targets.json";
    const auto refused = [&](const std::string& text) {
        testing::write_file(file, text);
        return error_of([&] { load_targets(file); });
    };
    const std::string prefix = file.string() + ": ";
    EXPECT_NE(refused("{").find(prefix + "not JSON"), std::string::npos);
    EXPECT_NE(refused(R"({"targets": {}})").find(prefix + "no \"targets\" array"),
              std::string::npos);
    EXPECT_NE(refused(R"({"targets": [{"kind": "local"}]})").find(prefix + "target 1: no \"id\""),
              std::string::npos);
    const std::string twice = refused(R"({"targets": [{"id": "a"}, {"id": "a"}]})");
    EXPECT_NE(twice.find(prefix + "target 2: id 'a' is used by an earlier target"),
              std::string::npos)
        << twice;
    const std::string kind = refused(R"({"targets": [{"id": "d", "kind": "docker"}]})");
    EXPECT_NE(kind.find(prefix + "target 1 ('d'): kind 'docker' is not local or ssh"),
              std::string::npos)
        << kind;
    const std::string host =
        refused(R"({"targets": [{"id": "a"}, {"id": "s", "kind": "ssh", "workdir": "/w"}]})");
    EXPECT_NE(host.find(prefix + "target 2 ('s'): an ssh target needs \"host\" and \"workdir\""),
              std::string::npos)
        << host;
    const std::string port = refused(
        R"({"targets": [{"id": "s", "kind": "ssh", "host": "h", "workdir": "/w", "port": 70000}]})");
    EXPECT_NE(port.find("'port' must be an integer from 1 to 65535"), std::string::npos) << port;
    const std::string local =
        refused(R"({"targets": [{"id": "local", "kind": "ssh", "host": "h", "workdir": "/w"}]})");
    EXPECT_NE(local.find("its kind must be local"), std::string::npos) << local;
    // ssh would take a host or user starting with '-' as an option.
    const std::string option = refused(
        R"({"targets": [{"id": "s", "kind": "ssh", "host": "-oProxyCommand=x", "workdir": "/w"}]})");
    EXPECT_NE(option.find("'host' value '-oProxyCommand=x' is not a host name"), std::string::npos)
        << option;
    const std::string user = refused(
        R"({"targets": [{"id": "s", "kind": "ssh", "host": "h", "user": "a b", "workdir": "/w"}]})");
    EXPECT_NE(user.find("'user' value 'a b' is not a user name"), std::string::npos) << user;
}

TEST(Targets, ChooseTarget_FromTheRegistryBesideTheConfigOrTheFlag) {
    testing::TempDir dir;
    const std::filesystem::path config = dir.path() / "abtool.toml";
    // No registry: local only.
    EXPECT_EQ(choose_target(std::nullopt, std::nullopt, config).id, "local");
    const std::string none = error_of([&] { choose_target("box", std::nullopt, config); });
    EXPECT_NE(none.find("--target 'box': no targets.json beside " + config.string()),
              std::string::npos)
        << none;
    testing::write_file(dir.path() / "targets.json",
                        R"({"targets": [{"id": "box", "kind": "local"},
                                        {"id": "far", "kind": "ssh", "host": "h", "workdir": "/w"}]})");
    EXPECT_EQ(choose_target("box", std::nullopt, config).id, "box");
    EXPECT_EQ(choose_target(std::nullopt, std::nullopt, config).id, "local");
    const std::string unknown = error_of([&] { choose_target("nope", std::nullopt, config); });
    EXPECT_NE(unknown.find("--target 'nope' is not in " + (dir.path() / "targets.json").string()),
              std::string::npos)
        << unknown;
    const Target far = choose_target("far", std::nullopt, config);
    EXPECT_EQ(far.kind, "ssh");
    EXPECT_EQ(far.host, "h");
    EXPECT_EQ(far.port, 22);
    EXPECT_EQ(far.abtool, "abtool");
    // --targets over the file beside the config.
    testing::write_file(dir.path() / "other.json", R"({"targets": [{"id": "other"}]})");
    EXPECT_EQ(choose_target("other", dir.path() / "other.json", config).id, "other");
    EXPECT_NE(error_of([&] {
                  choose_target("box", dir.path() / "other.json", config);
              }).find("is not in " + (dir.path() / "other.json").string()),
              std::string::npos);
}

} // namespace
} // namespace abtool

namespace abtool {
namespace {

// The ssh command line of a target: every option abtool relies on, the host after "--", and a
// remote command in which every word stays one word whatever it holds, run here by a real sh as
// sshd would hand it to the remote user's shell.
TEST(SshArgv, HostKeysChecked_NoPrompt_EveryWordQuoted) {
    testing::TempDir dir;
    Target target;
    target.kind = "ssh";
    target.host = "bench.lan";
    target.user = "ci";
    target.port = 2222;
    target.identity_file = "~/.ssh/bench key";
    target.known_hosts = "/etc/abtool/known_hosts";
    target.workdir = "~/abtool work";
    EXPECT_EQ(remote_path(target, "repo"), "abtool work/repo");
    const std::string odd = (dir.path() / "it's $(touch pwned) `x` a;b").string();
    const std::vector<std::string> argv =
        ssh_argv(target, {{"printf", "%s|", odd, "*"}, {"cat", ">", odd}});
    const auto has = [&](std::initializer_list<const char*> words) {
        return std::search(argv.begin(), argv.end(), words.begin(), words.end()) != argv.end();
    };
    EXPECT_TRUE(has({"-o", "BatchMode=yes"}));
    EXPECT_TRUE(has({"-o", "StrictHostKeyChecking=yes"}));
    EXPECT_TRUE(has({"-p", "2222"}));
    EXPECT_TRUE(has({"-i", "~/.ssh/bench key", "-o", "IdentitiesOnly=yes"}));
    EXPECT_TRUE(has({"-o", "UserKnownHostsFile=/etc/abtool/known_hosts"}));
    EXPECT_TRUE(has({"-l", "ci"}));
    ASSERT_GE(argv.size(), 3u);
    EXPECT_EQ(argv.front(), "ssh");
    EXPECT_EQ(argv[argv.size() - 3], "--");
    EXPECT_EQ(argv[argv.size() - 2], "bench.lan");
    const testing::ShellResult run =
        testing::shell("cd " + testing::quote(dir.path().string()) + " && echo input | sh -c " +
                       testing::quote(argv.back()));
    EXPECT_EQ(run.status, 0) << run.output;
    EXPECT_EQ(run.output, odd + "|*|");
    EXPECT_EQ(testing::read_file(odd), "input\n"); // the one redirection: stdin into the file
    EXPECT_FALSE(std::filesystem::exists(dir.path() / "pwned"));
}

} // namespace
} // namespace abtool
