// Runs on an ssh target through the real binary (issue 15): the test starts a real sshd (Debian's
// openssh-server) on 127.0.0.1 with a throwaway host key, user key and known_hosts, and registers
// it as target "box" whose workdir is a temporary directory of this machine, reached only through
// ssh. A run there gives the rows a local run gives (CURRENT included, the target's id in
// results.csv); a host key that does not match is refused with exit 2; a build that fails there
// is exit 3 with its log copied back; sshd killed mid-run gives exit 3 (Ctrl-C here exit 130),
// the samples taken so far in the local run directory, and the target's abtool stopped.
// The workloads print fixed values (B is 30% slower), so nothing depends on the machine's speed.
#include "tests/support/json_report.hpp"
#include "tests/support/shell.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/test_repo.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <netinet/in.h>
#include <pwd.h>
#include <sstream>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace abtool::testing {
namespace {

constexpr const char* k_sshd = "/usr/sbin/sshd";

// A port nothing listens on now (the kernel's choice for a bound-then-closed socket).
int free_port() {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof address);
    socklen_t size = sizeof address;
    getsockname(fd, reinterpret_cast<sockaddr*>(&address), &size);
    close(fd);
    return ntohs(address.sin_port);
}

std::string user_name() {
    const passwd* entry = getpwuid(getuid());
    return entry != nullptr ? entry->pw_name : "root";
}

// The processes whose parent is `pid`, and theirs, from /proc.
std::vector<pid_t> descendants(pid_t pid) {
    std::vector<pid_t> found;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.find_first_not_of("0123456789") != std::string::npos) {
            continue;
        }
        std::ifstream stat(entry.path() / "stat");
        std::string text((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
        const auto close_paren = text.rfind(')');
        if (close_paren == std::string::npos) {
            continue;
        }
        std::istringstream fields(text.substr(close_paren + 2));
        char state = 0;
        pid_t parent = 0;
        fields >> state >> parent;
        if (parent == pid) {
            const pid_t child = std::stoi(name);
            found.push_back(child);
            for (pid_t grandchild : descendants(child)) {
                found.push_back(grandchild);
            }
        }
    }
    return found;
}

std::string comm_of(pid_t pid) {
    std::ifstream in("/proc/" + std::to_string(pid) + "/comm");
    std::string name;
    std::getline(in, name);
    return name;
}

// Processes whose command line holds `text` (the target's abtool, found by its run id).
bool running_with(const std::string& text) {
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        std::ifstream in(entry.path() / "cmdline", std::ios::binary);
        std::string line((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        if (line.find(text) != std::string::npos && line.find("--as-target") != std::string::npos) {
            return true;
        }
    }
    return false;
}

class SshTarget : public ::testing::Test {
protected:
    void SetUp() override {
        if (!std::filesystem::exists(k_sshd) || shell("command -v ssh ssh-keygen").status != 0) {
            if (std::getenv("CI") != nullptr) {
                FAIL() << "openssh-server and openssh-client are needed: bash ci/install-deps.sh "
                          "--tests installs them";
            }
            GTEST_SKIP() << "no sshd here (apt-get install openssh-server, or bash "
                            "ci/install-deps.sh --tests)";
        }
        if (geteuid() == 0) {
            std::filesystem::create_directories("/run/sshd"); // sshd's privilege separation dir
        }
        const std::filesystem::path keys = m_dir / "keys";
        std::filesystem::create_directories(keys);
        for (const char* key : {"host_key", "user_key", "other_host_key"}) {
            must("ssh-keygen -q -t ed25519 -N '' -C abtool-test -f " +
                 quote((keys / key).string()));
        }
        std::filesystem::copy_file(keys / "user_key.pub", keys / "authorized_keys");
        m_port = free_port();
        write_file(keys / "sshd_config",
                   "Port " + std::to_string(m_port) + "\nListenAddress 127.0.0.1\nHostKey " +
                       (keys / "host_key").string() + "\nAuthorizedKeysFile " +
                       (keys / "authorized_keys").string() +
                       "\nPasswordAuthentication no\nKbdInteractiveAuthentication no\nUsePAM no\n"
                       "StrictModes no\nPermitRootLogin prohibit-password\nPidFile none\n");
        known_hosts("host_key");
        m_sshd = std::stoi(must("setsid " + std::string(k_sshd) + " -D -f " +
                                quote((keys / "sshd_config").string()) + " -E " +
                                quote((m_dir / "sshd.log").string()) +
                                " </dev/null >/dev/null 2>&1 & echo $!"));
        for (int i = 0; i < 200 && !ssh_answers(); ++i) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        ASSERT_TRUE(ssh_answers()) << read_file(m_dir / "sshd.log");

        m_repo.write(".gitignore", "results.csv\n");
        m_repo.write("abtool.toml", config(6, ""));
        m_repo.write("value.sh", ". ./scale.sh\nprintf '{\"case\": \"%s\", \"metric\": \"m\", "
                                 "\"value\": %d, \"unit\": \"us\", \"direction\": \"lower\"}\\n' "
                                 "\"$1\" $(( $2 * SCALE / 100 ))\n");
        m_repo.write("scale.sh", "SCALE=100\n");
        m_repo.commit("v1");
        m_repo.tag("v1");
        m_repo.write("scale.sh", "SCALE=130\n"); // uncommitted: CURRENT is 30% slower
        registry();
    }

    void TearDown() override {
        if (m_sshd > 0) {
            stop_sshd();
        }
    }

    static std::string config(int rounds, const std::string& before_value) {
        return "[build]\ncommand = [\"sh\", \"-c\", \"echo built here\"]\n[run]\nrounds = " +
               std::to_string(rounds) +
               "\nthreshold = \"5%\"\n[[workload]]\nname = \"alpha\"\nkind = \"hotpath\"\n"
               "format = \"jsonl\"\nschedule = \"alternate\"\ncommand = [\"sh\", \"-c\", \"" +
               before_value + "sh value.sh a 100\"]\n";
    }

    // known_hosts holding `key` as 127.0.0.1:port's host key.
    void known_hosts(const std::string& key) const {
        const std::string line =
            must("cut -d' ' -f1,2 " + quote((m_dir / "keys" / (key + ".pub")).string()));
        write_file(m_dir / "keys" / "known_hosts",
                   "[127.0.0.1]:" + std::to_string(m_port) + " " + line);
    }

    // The target's workdir holds a space, a quote and a $(...): a path, never a command.
    std::filesystem::path workdir() const { return m_dir / "target work 'dir' $(touch pwned)"; }

    // The target's abtool: this build's, through a script that gives it this test's sanitizer
    // settings, which sshd does not pass on (a real target's come from its login).
    std::filesystem::path target_abtool() const {
        const std::filesystem::path script = m_dir / "abtool-on-target";
        std::string text = "#!/bin/sh\n";
        for (const char* name : {"ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"}) {
            if (const char* value = std::getenv(name)) {
                text += "export " + std::string(name) + "=" + quote(value) + "\n";
            }
        }
        write_file(script, text + "exec " + quote(ABTOOL_BINARY) + " \"$@\"\n");
        std::filesystem::permissions(script, std::filesystem::perms::owner_all,
                                     std::filesystem::perm_options::add);
        return script;
    }

    void registry() const {
        const nlohmann::json targets{{"targets",
                                      {{{"id", "box"},
                                        {"kind", "ssh"},
                                        {"host", "127.0.0.1"},
                                        {"port", m_port},
                                        {"user", user_name()},
                                        {"identity_file", (m_dir / "keys" / "user_key").string()},
                                        {"known_hosts", (m_dir / "keys" / "known_hosts").string()},
                                        {"workdir", workdir().string()},
                                        {"abtool", target_abtool().string()}}}}};
        write_file(m_dir / "targets.json", targets.dump(2));
    }

    bool ssh_answers() const {
        return shell("ssh -o BatchMode=yes -o StrictHostKeyChecking=yes -o UserKnownHostsFile=" +
                     quote((m_dir / "keys" / "known_hosts").string()) + " -i " +
                     quote((m_dir / "keys" / "user_key").string()) + " -p " +
                     std::to_string(m_port) + " " + user_name() + "@127.0.0.1 true")
                   .status == 0;
    }

    // sshd and every sshd process serving a connection: the connections drop, the commands
    // they started (the target's abtool) are left to notice.
    void stop_sshd() {
        for (pid_t pid : descendants(m_sshd)) {
            if (comm_of(pid) == "sshd") {
                kill(pid, SIGKILL);
            }
        }
        kill(m_sshd, SIGKILL);
        m_sshd = -1;
    }

    ShellResult abtool(const std::string& args) const {
        return shell("cd " + quote(m_repo.root().string()) + " && CI=true " + quote(ABTOOL_BINARY) +
                     " " + args + " --targets " + quote((m_dir / "targets.json").string()) +
                     " 2>&1");
    }

    std::string results() const {
        const std::filesystem::path file = m_repo.root() / "results.csv";
        return std::filesystem::exists(file) ? read_file(file) : "";
    }

    std::filesystem::path out() const { return m_dir / "out.txt"; }
    std::filesystem::path start_long_run();
    int wait_for_exit() const;
    void expect_partial_run_kept(const std::filesystem::path& run) const;

    TempDir m_dir;
    TestRepo m_repo{m_dir / "repo"};
    int m_port = 0;
    pid_t m_sshd = -1;
};

std::size_t lines_of(const std::filesystem::path& file) {
    const std::string text = read_file(file);
    return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

TEST_F(SshTarget, ARunThere_GivesALocalRunsRows_WithTheTargetsId_CurrentIncluded) {
    const std::string status_before = m_repo.git("status --porcelain");
    const ShellResult local = abtool("--ref-a v1 --ref-b CURRENT --seed 7 --json " +
                                     quote((m_dir / "local.json").string()));
    ASSERT_EQ(local.status, 1) << local.output;
    const std::filesystem::path local_run = m_repo.only_run_dir();
    std::filesystem::rename(local_run, m_dir / "local-run");
    const ShellResult box = abtool("--ref-a v1 --ref-b CURRENT --seed 7 --target box --json " +
                                   quote((m_dir / "box.json").string()));
    ASSERT_EQ(box.status, 1) << box.output;
    EXPECT_NE(box.output.find("on target 'box' (" + user_name() + "@127.0.0.1:"), std::string::npos)
        << box.output;

    const JsonReport here(m_dir / "local.json");
    const JsonReport there(m_dir / "box.json");
    EXPECT_EQ(there.json().at("target_id"), "box");
    const nlohmann::json& row = there.row("alpha", "a", "m");
    const nlohmann::json& local_row = here.row("alpha", "a", "m");
    for (const char* field : {"verdict", "a", "b", "n", "delta_pct", "ci_low_pct", "ci_high_pct",
                              "p_value", "a_values", "b_values"}) {
        EXPECT_EQ(row.at(field), local_row.at(field)) << field;
    }
    EXPECT_EQ(row.at("verdict"), "regressed");
    EXPECT_NE(row.at("primary_key"), local_row.at("primary_key")); // the target is in the key

    // results.csv: the local run's row and the target's, same refs and commits.
    const std::string csv = results();
    const std::string head = m_repo.head();
    EXPECT_NE(csv.find(",local,alpha,hotpath,a,m,us,lower,v1,"), std::string::npos) << csv;
    EXPECT_NE(csv.find(",box,alpha,hotpath,a,m,us,lower,v1,"), std::string::npos) << csv;
    EXPECT_NE(csv.find(",CURRENT," + head + ",6,7,100,130,"), std::string::npos) << csv;

    // The local run directory: the plan as this repository names the refs, every sample the
    // local run took (as many lines), the target's build logs copied back.
    const std::filesystem::path run = m_repo.only_run_dir();
    const nlohmann::json plan = nlohmann::json::parse(read_file(run / "plan.json"));
    EXPECT_EQ(plan.at("target_id"), "box");
    EXPECT_EQ(plan.at("b").at("name"), "CURRENT");
    EXPECT_EQ(plan.at("b").at("kind"), "snapshot");
    EXPECT_EQ(plan.at("b").at("commit"), head);
    EXPECT_EQ(lines_of(run / "samples.jsonl"), lines_of(m_dir / "local-run" / "samples.jsonl"));
    EXPECT_NE(read_file(run / "build-b.log").find("built here"), std::string::npos);

    EXPECT_NE(box.output.find("sending 2 content(s) to target 'box'"), std::string::npos)
        << box.output;

    // Again, with one file changed: only B's content goes, and of it only what A's lacks.
    m_repo.write("scale.sh", "SCALE=130 # again\n");
    std::filesystem::rename(run, m_dir / "box-run");
    const ShellResult again = abtool("--ref-a v1 --ref-b CURRENT --seed 7 --target box");
    EXPECT_EQ(again.status, 1) << again.output;
    EXPECT_NE(again.output.find("sending 1 content(s) to target 'box'"), std::string::npos)
        << again.output;
    m_repo.write("scale.sh", "SCALE=130\n");
    const ShellResult same = abtool("--ref-a v1 --ref-b CURRENT --seed 7 --target box");
    EXPECT_EQ(same.status, 1) << same.output;
    EXPECT_NE(same.output.find("both contents are on target 'box' ("), std::string::npos)
        << same.output;

    // The working tree untouched; the workdir's odd name taken as a name.
    EXPECT_EQ(m_repo.git("status --porcelain"), status_before);
    EXPECT_TRUE(std::filesystem::is_directory(workdir() / "repo" / ".git"));
    EXPECT_FALSE(std::filesystem::exists(m_dir / "pwned"));
    EXPECT_FALSE(std::filesystem::exists(m_repo.root() / "pwned"));
}

TEST_F(SshTarget, AHostKeyThatDoesNotMatch_IsRefused_Exit2) {
    known_hosts("other_host_key");
    const ShellResult box = abtool("--ref-a v1 --ref-b CURRENT --target box");
    EXPECT_EQ(box.status, 2) << box.output;
    EXPECT_NE(box.output.find("target 'box' (" + user_name() +
                              "@127.0.0.1:" + std::to_string(m_port) + "): ssh refused the host"),
              std::string::npos)
        << box.output;
    EXPECT_NE(box.output.find("ssh-keyscan -p " + std::to_string(m_port) + " 127.0.0.1 >> " +
                              (m_dir / "keys" / "known_hosts").string()),
              std::string::npos)
        << box.output;
    EXPECT_EQ(results(), "");
    EXPECT_FALSE(std::filesystem::exists(workdir())); // nothing reached the target
}

TEST_F(SshTarget, ABuildThatFailsThere_Exit3_NamedAsHere_ItsLogCopiedBack) {
    std::string broken = config(6, "");
    broken.replace(broken.find("echo built here"), 15, "echo broken build; exit 4");
    m_repo.write("abtool.toml", broken);
    const ShellResult box = abtool("--ref-a v1 --ref-b CURRENT --target box");
    EXPECT_EQ(box.status, 3) << box.output;
    EXPECT_NE(box.output.find("build of ref 'v1' ("), std::string::npos) << box.output;
    EXPECT_NE(box.output.find("its abtool ended with exit code 3, saying why above"),
              std::string::npos)
        << box.output;
    const std::filesystem::path run = m_repo.only_run_dir();
    EXPECT_NE(read_file(run / "build-a.log").find("broken build"), std::string::npos);
    EXPECT_EQ(results(), "");
}

// A long run (40 rounds of 0.2 s runs) on the target, started in the background, up to the
// moment round 3's samples are here and the target's abtool runs: its local run directory
// (empty, and a test failure, when that moment does not come within 2 minutes).
std::filesystem::path SshTarget::start_long_run() {
    m_repo.write("abtool.toml", config(40, "sleep 0.2; "));
    must("cd " + quote(m_repo.root().string()) + " && (CI=true " + quote(ABTOOL_BINARY) +
         " --ref-a v1 --ref-b CURRENT --target box --targets " +
         quote((m_dir / "targets.json").string()) + " > " + quote(out().string()) +
         " 2>&1; echo $? > " + quote((m_dir / "status").string()) + ") >/dev/null 2>&1 &");
    const std::filesystem::path runs = m_repo.root() / ".abtool" / "runs";
    std::filesystem::path stream;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (std::chrono::steady_clock::now() < deadline) {
        if (std::filesystem::is_directory(runs)) {
            for (const auto& entry : std::filesystem::directory_iterator(runs)) {
                stream = entry.path() / "target-stream.txt";
            }
        }
        if (!stream.empty() && std::filesystem::exists(stream) &&
            read_file(stream).find("\"round\":3,\"run_ms\"") != std::string::npos) {
            EXPECT_TRUE(running_with(stream.parent_path().filename().string()));
            return stream.parent_path();
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    ADD_FAILURE() << "round 3 never came back from the target\n" << read_file(out());
    return {};
}

// The background run's exit status (-1 when it has not ended within a minute).
int SshTarget::wait_for_exit() const {
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!std::filesystem::exists(m_dir / "status") && std::chrono::steady_clock::now() < end) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return std::filesystem::exists(m_dir / "status") ? std::stoi(read_file(m_dir / "status")) : -1;
}

// What an unfinished run leaves: its samples so far here, an incomplete summary, no row; and
// the target's abtool, which notices at its next write, stops its workload and ends.
void SshTarget::expect_partial_run_kept(const std::filesystem::path& run) const {
    EXPECT_GE(lines_of(run / "samples.jsonl"), 6u) << read_file(out()); // rounds 1-3, both sides
    const nlohmann::json summary = nlohmann::json::parse(read_file(run / "summary.json"));
    EXPECT_EQ(summary.at("complete"), false);
    EXPECT_GE(summary.at("rounds_completed").get<int>(), 2);
    EXPECT_EQ(results(), "");
    const std::string run_id = run.filename().string();
    const auto gone = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (running_with(run_id) && std::chrono::steady_clock::now() < gone) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    EXPECT_FALSE(running_with(run_id));
}

TEST_F(SshTarget, SshdKilledMidRun_Exit3_PartialSamplesKept_TheTargetsAbtoolStops) {
    const std::filesystem::path run = start_long_run();
    ASSERT_FALSE(run.empty());
    stop_sshd();
    EXPECT_EQ(wait_for_exit(), 3) << read_file(out());
    EXPECT_NE(read_file(out()).find("target 'box' (" + user_name() +
                                    "@127.0.0.1:" + std::to_string(m_port) +
                                    "): the connection was lost during the run"),
              std::string::npos)
        << read_file(out());
    expect_partial_run_kept(run);
}

// Ctrl-C here: the ssh is stopped, and with it the target's run.
TEST_F(SshTarget, InterruptedHere_Exit130_PartialSamplesKept_TheTargetsAbtoolStops) {
    const std::filesystem::path run = start_long_run();
    ASSERT_FALSE(run.empty());
    // The local abtool: the one whose command line names this test's registry.
    const std::string registry = (m_dir / "targets.json").string();
    pid_t local = -1;
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        std::ifstream in(entry.path() / "cmdline", std::ios::binary);
        const std::string line((std::istreambuf_iterator<char>(in)),
                               std::istreambuf_iterator<char>());
        if (line.find(registry) != std::string::npos &&
            line.find(std::string(ABTOOL_BINARY) + '\0') == 0) {
            local = std::stoi(entry.path().filename().string());
        }
    }
    ASSERT_GT(local, 0);
    kill(local, SIGINT);
    EXPECT_EQ(wait_for_exit(), 130) << read_file(out());
    EXPECT_NE(read_file(out()).find("interrupted: the samples of "), std::string::npos)
        << read_file(out());
    expect_partial_run_kept(run);
}

} // namespace
} // namespace abtool::testing
