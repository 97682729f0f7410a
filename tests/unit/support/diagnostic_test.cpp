// Diagnostics render as file:line:col, the source line, and a caret marker.
#include <catch2/catch.hpp>

#include "support/diagnostic.h"
#include "support/text.h"

using namespace nftpolicy;

TEST_CASE("diagnostic renders location, line and caret") {
    SourceManager sm;
    const auto& f = sm.add("site.toml", "[groups]\nsevices = [\"ssh\"]\n");
    Diagnostics diags;
    auto& d = diags.error(SourceSpan{&f, {2, 1}, {2, 7}}, "unknown key 'sevices'; did you mean 'services'?");
    add_note(d, {}, "expected one of: groups, services");
    CHECK(diags.has_errors());
    CHECK(render(d) ==
          "site.toml:2:1: error: unknown key 'sevices'; did you mean 'services'?\n"
          "    2 | sevices = [\"ssh\"]\n"
          "      | ^~~~~~~\n"
          "note: expected one of: groups, services\n");
}

TEST_CASE("warnings do not count as errors") {
    Diagnostics diags;
    diags.warning({}, "w");
    CHECK_FALSE(diags.has_errors());
    CHECK(diags.first_error() == nullptr);
    CHECK(render(diags.all()[0]) == "nftpolicy: warning: w\n");
}

TEST_CASE("closest_match suggests plausible typos only") {
    std::vector<std::string> keys{"services", "groups", "flows"};
    CHECK(closest_match("sevices", keys) == "services");
    CHECK(closest_match("flow", keys) == "flows");
    CHECK(closest_match("zzzzzz", keys).empty());
    CHECK(edit_distance("kitten", "sitting") == 3);
    // An adjacent transposition is one edit: the commonest typo.
    CHECK(edit_distance("tpc", "tcp") == 1);
    CHECK(closest_match("tabel", {"table", "tcp"}) == "table");
}
