// resolve::check_options: what --host, --phase MIGRATION=PHASE and --gates
// name is checked against the policy before anything is projected, every
// problem reported without a span (the front end reports them as a bad
// command line), and good options pass without a word.
#include <catch2/catch.hpp>

#include "policy_builder.h"
#include "resolve/projection.h"

using namespace nftpolicy;
using namespace nftpolicy::resolve;
using namespace nftpolicy::resolve::testing;
using policy::Phase;

namespace {

PolicyBuilder site() {
    PolicyBuilder b;
    b.group("web", {"10.0.0.10"}).group("lan", {"10.0.0.0/24"});
    b.service("http", {.tcp = {"80"}});
    b.flow({.id = "lan-web", .from = "lan", .to = "web", .services = {"http"}});
    b.migration("ses-2_7", {"agents-migrated"});
    b.host_roles("web1", {"web"}).host_roles("web2", {"web"});
    return b;
}

// The messages, each checked to have no span.
std::vector<std::string> spanless_messages(const Diagnostics& diags) {
    std::vector<std::string> out;
    for (const auto& d : diags.all()) {
        CHECK_FALSE(d.span.valid());
        out.push_back(d.message);
    }
    return out;
}

}  // namespace

TEST_CASE("options naming declared things pass") {
    PolicyBuilder b = site();
    ResolveOptions options;
    options.host = "web2";
    options.phase_of["ses-2_7"] = Phase::final_;
    options.flipped_gates = {"ses-2_7.agents-migrated"};
    Diagnostics diags;
    CHECK(check_options(b.policy, options, diags));
    CHECK(diags.all().empty());
}

TEST_CASE("every unknown name in the options is reported") {
    PolicyBuilder b = site();
    ResolveOptions options;
    options.host = "web3";
    options.phase_of["ses-2_8"] = Phase::final_;
    options.flipped_gates = {"ses-2_7.agent-migrated", "nosuch.g"};
    Diagnostics diags;
    CHECK_FALSE(check_options(b.policy, options, diags));
    CHECK(spanless_messages(diags) == std::vector<std::string>{
                                 "unknown host 'web3'; did you mean 'web1'?",
                                 "no migration named 'ses-2_8'; did you mean 'ses-2_7'?",
                                 "no migration named 'nosuch'",
                                 "gate 'agent-migrated' is not declared by migration 'ses-2_7'; did you mean "
                                 "'agents-migrated'?",
                             });
}

TEST_CASE("no host among several is a choice the options must make") {
    PolicyBuilder b = site();
    Diagnostics diags;
    CHECK_FALSE(check_options(b.policy, ResolveOptions{}, diags));
    CHECK(spanless_messages(diags) == std::vector<std::string>{"policy declares several hosts (web1, web2); choose one "
                                                      "with --host"});
}
