// The migration state file: its format (round trip, version, every kind of
// corruption named with file:line), atomic replacement (a prepared write
// that is never committed leaves the old file; an unwritable directory fails
// before anything changes), and the precedence command line > state >
// policy file as it reaches the effective phases and gates.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "policy_builder.h"
#include "resolve/phases.h"
#include "state/precedence.h"
#include "state/site_state.h"

using namespace nftpolicy;
using namespace nftpolicy::state;
using policy::Phase;

namespace {

std::string temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "nftpolicy-state-XXXXXX").string();
    REQUIRE(mkdtemp(pattern.data()) != nullptr);
    return pattern;
}

std::string slurp(const std::string& path) {
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

SiteState sample() {
    SiteState s;
    s.phases["ses-2_7"] = PhaseEntry{Phase::coexist, 1764643200};
    s.gates["ses-2_7.backoffice-migrated"] = GateEntry{true, 1764643300};
    s.gates["ses-2_7.agents-migrated"] = GateEntry{false, 1764643400};
    return s;
}

std::string error_of(const std::string& text) {
    auto r = parse_state(text, "/var/lib/nftpolicy/migrations");
    REQUIRE_FALSE(r);
    return r.error().message;
}

}  // namespace

TEST_CASE("state: serialize and parse round trip, in a documented format") {
    const std::string text = serialize(sample());
    CHECK(text ==
          "# nftpolicy migration state (docs/migrations.md); written by nftpolicy\n"
          "nftpolicy-state 1\n"
          "phase ses-2_7 coexist 1764643200\n"
          "gate ses-2_7.agents-migrated open 1764643400\n"
          "gate ses-2_7.backoffice-migrated flipped 1764643300\n");
    auto back = parse_state(text, "x");
    REQUIRE(back);
    CHECK(*back == sample());
    auto empty = parse_state(serialize(SiteState{}), "x");
    REQUIRE(empty);
    CHECK(*empty == SiteState{});
}

TEST_CASE("state: corrupt files are errors naming file:line and what was expected") {
    const std::string p = "/var/lib/nftpolicy/migrations:";
    CHECK(error_of("").rfind(p + "0: corrupt state file: no 'nftpolicy-state 1' line", 0) == 0);
    CHECK(error_of("# only a comment\n").find("no 'nftpolicy-state 1' line (empty or truncated file)") !=
          std::string::npos);
    CHECK(error_of("phase m coexist 1\n").rfind(p + "1: corrupt state file: expected 'nftpolicy-state 1' first", 0) == 0);
    CHECK(error_of("nftpolicy-state 2\n").find(":1: corrupt state file: version 2 is not supported") != std::string::npos);
    CHECK(error_of("nftpolicy-state 1\nphase m coexisting 1\n").rfind(p + "2: corrupt state file: expected 'phase "
                                                                      "MIGRATION legacy|coexist|final SECONDS'", 0) == 0);
    CHECK(error_of("nftpolicy-state 1\nphase m coexist\n").find(":2: corrupt state file: expected 'phase") !=
          std::string::npos);
    CHECK(error_of("nftpolicy-state 1\ngate m.g closed 5\n").find(":2: corrupt state file: expected 'gate "
                                                                 "MIGRATION.GATE flipped|open SECONDS'") != std::string::npos);
    CHECK(error_of("nftpolicy-state 1\ngate mg flipped 5\n").find(":2: corrupt") != std::string::npos);
    CHECK(error_of("nftpolicy-state 1\ngate m.g flipped -5\n").find(":2: corrupt") != std::string::npos);
    CHECK(error_of("nftpolicy-state 1\ngate m.g flipped 5\ngate m.g open 6\n").find(":3: corrupt state file: a second "
                                                                                    "entry for this gate") != std::string::npos);
    CHECK(error_of("nftpolicy-state 1\nphse m coexist 1\n").find(":2: corrupt state file: unknown entry 'phse'") !=
          std::string::npos);
    CHECK(error_of(std::string("nftpolicy-state 1\nphase m coexist 1\0\n", 37)).find(":2: corrupt") != std::string::npos);
}

TEST_CASE("state: a missing file is the empty state; an unreadable one is an error") {
    const std::string dir = temp_dir();
    auto missing = read_state(state_path(dir));
    REQUIRE(missing);
    CHECK(*missing == SiteState{});
    std::filesystem::create_directory(state_path(dir));  // a directory where the file should be
    auto unreadable = read_state(state_path(dir));
    REQUIRE_FALSE(unreadable);
    CHECK(unreadable.error().message.find("cannot read state file " + state_path(dir)) == 0);
    std::filesystem::remove_all(dir);
}

TEST_CASE("state: written atomically; an uncommitted write leaves the old file") {
    const std::string dir = temp_dir();
    const std::string path = state_path(dir + "/sub");
    {
        auto first = prepare_state(path, sample());
        REQUIRE(first);
        CHECK_FALSE(std::filesystem::exists(path));  // prepared, not yet in place
        REQUIRE(first->commit());
    }
    const std::string before = slurp(path);
    {
        SiteState other;
        other.phases["m"] = PhaseEntry{Phase::final_, 7};
        auto abandoned = prepare_state(path, other);
        REQUIRE(abandoned);
    }  // never committed: e.g. the kernel refused the change
    CHECK(slurp(path) == before);
    auto read = read_state(path);
    REQUIRE(read);
    CHECK(*read == sample());
    std::size_t files = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(dir + "/sub")) ++files;
    CHECK(files == 1);  // no temporary file left behind
    std::filesystem::remove_all(dir);
}

TEST_CASE("state: an unwritable state directory fails at prepare, before anything changes") {
    if (geteuid() == 0) {
        // root ignores directory permissions: use a path under a regular file instead.
        const std::string dir = temp_dir();
        std::ofstream(dir + "/file") << "x";
        auto r = prepare_state(state_path(dir + "/file"), sample());
        REQUIRE_FALSE(r);
        CHECK(r.error().message.find("cannot create directory " + dir + "/file") == 0);
        std::filesystem::remove_all(dir);
        return;
    }
    const std::string dir = temp_dir();
    REQUIRE(chmod(dir.c_str(), 0500) == 0);
    auto r = prepare_state(state_path(dir), sample());
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::permission);
    chmod(dir.c_str(), 0700);
    std::filesystem::remove_all(dir);
}

namespace {

using resolve::ResolveOptions;
using resolve::testing::PolicyBuilder;

// A migration with two gates, phase coexist in the policy file, and the
// first gate flipped there.
PolicyBuilder site() {
    PolicyBuilder b;
    b.group("agents", {"10.10.0.0/16"}).group("servers", {"10.20.0.0/24"});
    b.migration("m", {"g1", "g2"}, Phase::coexist, {"g1"});
    b.host_roles("h", {"servers"});
    return b;
}

struct Effective {
    Phase phase;
    std::set<std::string> flipped;
};

Effective effective(const policy::Policy& p, const ResolveOptions& options) {
    Diagnostics diags;
    resolve::MigrationState ms(p, options, diags);
    REQUIRE_FALSE(diags.has_errors());
    return {ms.phase("m"), ms.flipped_gates()};
}

}  // namespace

TEST_CASE("state: precedence is command line > state > policy file") {
    PolicyBuilder b = site();
    SiteState st;
    st.phases["m"] = PhaseEntry{Phase::legacy, 1};
    st.gates["m.g1"] = GateEntry{false, 1};  // reopened: overrides the policy's `flipped`
    st.gates["m.g2"] = GateEntry{true, 1};

    ResolveOptions policy_only;
    CHECK(effective(b.policy, policy_only).phase == Phase::coexist);
    CHECK(effective(b.policy, policy_only).flipped == std::set<std::string>{"m.g1"});

    ResolveOptions with_state;
    CHECK(merge_state(st, b.policy, with_state).empty());
    CHECK(effective(b.policy, with_state).phase == Phase::legacy);
    CHECK(effective(b.policy, with_state).flipped == std::set<std::string>{"m.g2"});

    ResolveOptions cli;
    cli.phase = Phase::final_;
    cli.flipped_gates = {"m.g1"};
    CHECK(merge_state(st, b.policy, cli).empty());
    CHECK(effective(b.policy, cli).phase == Phase::final_);
    CHECK(effective(b.policy, cli).flipped == std::set<std::string>{"m.g1", "m.g2"});

    ResolveOptions per_migration;
    per_migration.phase_of["m"] = Phase::coexist;
    merge_state(st, b.policy, per_migration);
    CHECK(effective(b.policy, per_migration).phase == Phase::coexist);
}

TEST_CASE("state: entries the policy no longer declares are ignored with a warning") {
    PolicyBuilder b = site();
    SiteState st;
    st.phases["gone"] = PhaseEntry{Phase::final_, 1};
    st.gates["m.renamed"] = GateEntry{true, 1};
    ResolveOptions options;
    auto warnings = merge_state(st, b.policy, options);
    REQUIRE(warnings.size() == 2);
    CHECK(warnings[0] == "the state file sets the phase of migration 'gone', which the policy does not declare; ignored");
    CHECK(warnings[1] == "the state file records gate 'm.renamed', which the policy does not declare; ignored");
    CHECK(effective(b.policy, options).phase == Phase::coexist);
}

TEST_CASE("state: apply records the phases and gates chosen on the command line") {
    PolicyBuilder b = site();
    SiteState st;
    ResolveOptions cli;
    cli.phase = Phase::coexist;
    cli.flipped_gates = {"m.g2"};
    const std::map<std::string, Phase> migrations{{"m", Phase::legacy}};
    CHECK(record_choices(cli, migrations, 100, st));
    CHECK(st.phases.at("m").phase == Phase::coexist);
    CHECK(st.phases.at("m").since == 100);
    CHECK(st.gates.at("m.g2").flipped);
    ResolveOptions none;
    SiteState before = st;
    CHECK_FALSE(record_choices(none, migrations, 200, st));
    CHECK(st == before);  // an apply without --phase/--gates records nothing
}
