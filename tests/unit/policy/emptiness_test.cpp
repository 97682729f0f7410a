// Empty policies: a file that declares nothing is an error located in the
// top file (1:1 when it is blank or comments, else its first line that says
// something); a file that declares anything at all loads. Names: the table
// name rule that `[settings] table` and `--table` share.
#include <catch2/catch.hpp>

#include "policy/load.h"
#include "policy/names.h"

using namespace nftpolicy;
using namespace nftpolicy::policy;

namespace {

// "file:line:col: message" of the first error, or "" when the text loads.
std::string first_error(const std::string& text) {
    SourceManager sources;
    Diagnostics diags;
    auto policy = load_policy_text("site.toml", text, LoadOptions{}, sources, diags);
    const Diagnostic* d = diags.first_error();
    CHECK(policy.has_value() == (d == nullptr));
    return d ? d->span.where() + ": " + d->message : "";
}

const std::string kEmptyFile =
    "the policy file is empty (nothing but blank lines and comments); expected at least one [hosts.NAME] table";
const std::string kNothing =
    "the policy declares nothing to compile: no hosts, flows, groups, services, migrations or management, in "
    "this file or in what it includes";

}  // namespace

TEST_CASE("a blank or comment-only file is empty, at 1:1") {
    CHECK(first_error("") == "site.toml:1:1: " + kEmptyFile);
    CHECK(first_error("\n\n  \t\n") == "site.toml:1:1: " + kEmptyFile);
    CHECK(first_error("# only\n  # comments\r\n") == "site.toml:1:1: " + kEmptyFile);
}

TEST_CASE("a file whose keys declare nothing is reported at its first key") {
    CHECK(first_error("include = []\n") == "site.toml:1:1: " + kNothing);
    CHECK(first_error("# head\n\n[settings]\ntable = \"t\"\n") == "site.toml:3:1: " + kNothing);
    CHECK(first_error("[baseline]\ninput = \"accept\"\n") == "site.toml:1:1: " + kNothing);
    CHECK(first_error("disabled_flows = []\n") == "site.toml:1:1: " + kNothing);
}

TEST_CASE("anything declared is not empty") {
    CHECK(first_error("[groups]\nweb = []\n").empty());
    CHECK(first_error("[services]\nhttp = { tcp = [80] }\n").empty());
    CHECK(first_error("[hosts.h]\nroles = []\n").empty());
    CHECK(first_error("[migrations.m]\ngates = [\"g\"]\n").empty());
    CHECK(first_error("[management]\nfrom = \"any\"\n").empty());
}

TEST_CASE("an error already reported is not followed by the emptiness error") {
    CHECK(first_error("[settings]\ntable = \"a b\"\n") ==
          "site.toml:2:9: invalid table name 'a b': use 1-32 letters, digits, '_' and '-'");
}

TEST_CASE("table names: what [settings] table and --table accept") {
    CHECK_FALSE(table_name_error("nftpolicy"));
    CHECK_FALSE(table_name_error("site_2-b"));
    CHECK_FALSE(table_name_error(std::string(32, 't')));
    CHECK(table_name_error(std::string(33, 't')) ==
          "invalid table name '" + std::string(33, 't') + "': use 1-32 letters, digits, '_' and '-'");
    for (const char* bad : {"", "a b", "-x", "_x", "a.b", "a/b", "é"}) {
        INFO(bad);
        CHECK(table_name_error(bad));
    }
}
