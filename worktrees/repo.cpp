#include "worktrees/git.hpp"

#include "abtool/edit_distance.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <vector>

namespace abtool::worktrees {

void ensure_libgit2() {
    static const int initialized = git_libgit2_init();
    (void)initialized;
}

std::string last_git_error() {
    const git_error* error = git_error_last();
    return error != nullptr && error->message != nullptr ? error->message : "unknown error";
}

void check(int code, const std::string& doing, ErrorKind kind) {
    if (code < 0) {
        throw Error(kind, fmt::format("{}: {}", doing, last_git_error()));
    }
}

std::string oid_hex(const git_oid& oid) {
    char buffer[GIT_OID_HEXSZ + 1] = {};
    git_oid_tostr(buffer, sizeof buffer, &oid);
    return buffer;
}

namespace {

// Branch, tag and remote names close to `wanted`, for "did you mean".
std::vector<std::string> close_names(git_repository* repo, const std::string& wanted) {
    git_strarray names{};
    std::vector<std::pair<std::size_t, std::string>> scored;
    if (git_reference_list(&names, repo) == 0) {
        for (std::size_t i = 0; i < names.count; ++i) {
            std::string name = names.strings[i];
            for (const char* prefix : {"refs/heads/", "refs/tags/", "refs/remotes/"}) {
                if (name.rfind(prefix, 0) == 0) {
                    name = name.substr(std::string(prefix).size());
                }
            }
            const std::size_t distance = edit_distance(wanted, name);
            if (distance <= std::max<std::size_t>(2, wanted.size() / 3) ||
                name.find(wanted) != std::string::npos) {
                scored.emplace_back(distance, name);
            }
        }
        git_strarray_dispose(&names);
    }
    std::sort(scored.begin(), scored.end());
    std::vector<std::string> result;
    for (const auto& [distance, name] : scored) {
        if (result.size() < 3 && std::find(result.begin(), result.end(), name) == result.end()) {
            result.push_back(name);
        }
    }
    return result;
}

void add_to_exclude(git_repository* repo) {
    const std::filesystem::path exclude =
        std::filesystem::path(git_repository_commondir(repo)) / "info" / "exclude";
    std::string text;
    {
        std::ifstream in(exclude);
        text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    if (text.find("/.abtool/") != std::string::npos) {
        return;
    }
    std::filesystem::create_directories(exclude.parent_path());
    std::ofstream out(exclude, std::ios::app);
    if (!text.empty() && text.back() != '\n') {
        out << '\n';
    }
    out << "# abtool's worktrees, builds and runs\n/.abtool/\n";
}

// The top of the working tree holding `path`, found without opening the repository (that is
// what failed): safe.directory wants the top level, not the subdirectory abtool started in. Falls
// back to `path` itself when no .git is found above it.
std::filesystem::path top_level_of(const std::filesystem::path& path) {
    std::error_code error;
    std::filesystem::path dir = std::filesystem::weakly_canonical(path, error);
    if (error) {
        return path;
    }
    for (std::filesystem::path at = dir; !at.empty(); at = at.parent_path()) {
        if (std::filesystem::exists(at / ".git", error)) {
            return at;
        }
        if (at == at.root_path()) {
            break;
        }
    }
    return dir;
}

} // namespace

Repository::Repository(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Repository::Repository(Repository&&) noexcept = default;
Repository& Repository::operator=(Repository&&) noexcept = default;
Repository::~Repository() = default;

Repository Repository::open(const std::filesystem::path& path) {
    ensure_libgit2();
    git_repository* raw = nullptr;
    const int code = git_repository_open_ext(&raw, path.c_str(), 0, nullptr);
    if (code < 0) {
        const std::string message = last_git_error();
        std::string hint;
        if (code == GIT_EOWNER) {
            hint = fmt::format("the repository is owned by another user; if you trust it: git "
                               "config --global --add safe.directory {}",
                               top_level_of(path).string());
        } else if (message.find("extension") != std::string::npos) {
            hint = "libgit2 1.5 cannot open repositories with this extension (e.g. "
                   "extensions.worktreeConfig, set by `git sparse-checkout`)";
        } else if (code == GIT_ENOTFOUND) {
            hint = "run abtool inside the git repository whose refs you compare";
        }
        throw Error(ErrorKind::usage,
                    fmt::format("cannot open a git repository at {}: {}", path.string(), message),
                    hint);
    }
    auto impl = std::make_unique<Impl>();
    impl->repo.reset(raw);
    if (git_repository_is_bare(raw) != 0 || git_repository_workdir(raw) == nullptr) {
        throw Error(
            ErrorKind::usage,
            fmt::format("{} is a bare repository: abtool needs a working tree", path.string()));
    }
    impl->root = std::filesystem::path(git_repository_workdir(raw)).lexically_normal();
    if (impl->root.has_filename() == false) {
        impl->root = impl->root.parent_path();
    }
    return Repository(std::move(impl));
}

const std::filesystem::path& Repository::root() const {
    return m_impl->root;
}

std::filesystem::path Repository::state_dir() const {
    const std::filesystem::path dir = m_impl->root / ".abtool";
    std::filesystem::create_directories(dir);
    add_to_exclude(m_impl->repo.get());
    return dir;
}

ResolvedRef Repository::resolve(std::string_view ref_view,
                                const std::vector<std::filesystem::path>& keep_as_in_head) {
    const std::string ref(ref_view);
    if (ref == k_current_ref) {
        state_dir(); // .abtool/ must be excluded before the snapshot looks at untracked files
        return snapshot_current(*m_impl, keep_as_in_head);
    }
    git_repository* repo = m_impl->repo.get();
    git_object* raw = nullptr;
    if (ref.empty() || ref.front() == '-' || git_revparse_single(&raw, repo, ref.c_str()) < 0) {
        // libgit2 never saw an empty or option-like ref (refused before it, as git would read it
        // as an option): its last error is stale or "unknown error", so say what is wrong here.
        const std::string message =
            ref.empty()          ? std::string("the ref is empty")
            : ref.front() == '-' ? std::string("invalid revision syntax: a ref cannot start with "
                                               "'-' (git would read it as an option)")
                                 : last_git_error();
        // Shallow first: in a shallow clone `main~5` fails because the history is missing, and
        // a close name (here `main`) would point the user the wrong way on its own.
        std::vector<std::string> hints;
        if (git_repository_is_shallow(repo) == 1) {
            hints.emplace_back("this is a shallow clone, so the commit may be outside the fetched "
                               "history: fetch the whole history (git fetch --unshallow; "
                               "actions/checkout: fetch-depth: 0)");
        }
        const std::vector<std::string> names = close_names(repo, ref);
        if (!names.empty()) {
            hints.push_back(fmt::format("did you mean {}?", fmt::join(names, ", ")));
        }
        throw Error(ErrorKind::usage, fmt::format("ref '{}' does not resolve: {}", ref, message),
                    fmt::format("{}", fmt::join(hints, "; or ")));
    }
    ObjectPtr object(raw);
    git_object* peeled = nullptr;
    check(git_object_peel(&peeled, object.get(), GIT_OBJECT_COMMIT),
          fmt::format("ref '{}' does not name a commit", ref), ErrorKind::usage);
    CommitPtr commit(reinterpret_cast<git_commit*>(peeled));
    ResolvedRef resolved;
    resolved.name = ref;
    resolved.commit = oid_hex(*git_commit_id(commit.get()));
    resolved.content_id = oid_hex(*git_commit_tree_id(commit.get()));
    resolved.kind = RefKind::commit;
    return resolved;
}

} // namespace abtool::worktrees
