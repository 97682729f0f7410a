// The compile driver: typed failures instead of printed messages and exit
// codes, diagnostics collected in order, and the list of files read.
#include <filesystem>
#include <fstream>

#include <catch2/catch.hpp>

#include "emit/nft_text.h"
#include "pipeline/compile.h"

using namespace nftpolicy;
using namespace nftpolicy::pipeline;

namespace {

const std::string golden = std::string(NFTPOLICY_SOURCE_DIR) + "/tests/golden/";

std::string read_file(const std::string& path) {
    std::ifstream in(path);
    return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST_CASE("compile gives the golden ruleset") {
    PolicyRequest request;
    request.policy = golden + "15-include-override/policy.toml";
    request.include_paths = {golden + "15-include-override/profiles"};
    auto out = compile(request);
    REQUIRE(out.result);
    CHECK(emit::nft_text(out.result->table, emit::TextOptions{true}) ==
          read_file(golden + "15-include-override/expected.nft"));
}

TEST_CASE("compile applies the phase selection") {
    PolicyRequest request;
    request.policy = golden + "09-phase-coexist/policy.toml";
    request.phases = {"coexist"};
    auto out = compile(request);
    REQUIRE(out.result);
    CHECK(out.result->phases.at("m") == policy::Phase::coexist);
    CHECK(emit::nft_text(out.result->table, emit::TextOptions{true}) ==
          read_file(golden + "09-phase-coexist/expected.nft"));
}

TEST_CASE("a missing policy file is unreadable, not invalid") {
    PolicyRequest request;
    request.policy = "/nonexistent/site.toml";
    auto out = compile(request);
    REQUIRE_FALSE(out.result);
    CHECK(out.result.error().kind == FailureKind::unreadable);
    CHECK(out.result.error().message == "cannot read '/nonexistent/site.toml': no such file");
}

TEST_CASE("a bad phase is a bad selection with the argument quoted") {
    PolicyRequest request;
    request.policy = golden + "09-phase-coexist/policy.toml";
    request.phases = {"m=coexst"};
    auto out = compile(request);
    REQUIRE_FALSE(out.result);
    CHECK(out.result.error().kind == FailureKind::bad_selection);
    CHECK(out.result.error().message ==
          "--phase 'm=coexst': expected legacy, coexist or final, or MIGRATION=PHASE");
}

TEST_CASE("two different phases for one migration are a bad selection, before any file is read") {
    PolicyRequest request;
    request.policy = "/nonexistent/site.toml";
    request.phases = {"m=coexist,m=final"};
    auto out = compile(request);
    REQUIRE_FALSE(out.result);
    CHECK(out.result.error().kind == FailureKind::bad_selection);
    CHECK(out.result.error().message ==
          "--phase: migration 'm' is given two phases, 'coexist' and 'final'; expected one");
}

TEST_CASE("an invalid policy fails with its diagnostics") {
    auto dir = std::filesystem::temp_directory_path() / ("pipeline_test_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    const auto path = (dir / "site.toml").string();
    std::ofstream(path) << "[groups]\nadmins = [\"10.0.0.300\"]\n";
    PolicyRequest request;
    request.policy = path;
    auto out = compile(request);
    std::filesystem::remove_all(dir);
    REQUIRE_FALSE(out.result);
    CHECK(out.result.error().kind == FailureKind::invalid_policy);
    REQUIRE(out.diagnostics.first_error());
    CHECK(out.diagnostics.first_error()->span.where() == path + ":2:11");
}

TEST_CASE("a selection naming an unknown migration is a bad selection with a diagnostic") {
    PolicyRequest request;
    request.policy = golden + "09-phase-coexist/policy.toml";
    request.phases = {"nosuch=final"};
    auto out = compile(request);
    REQUIRE_FALSE(out.result);
    CHECK(out.result.error().kind == FailureKind::bad_selection);
    CHECK(out.result.error().message.empty());
    REQUIRE(out.diagnostics.first_error());
    CHECK(out.diagnostics.first_error()->message.find("nosuch") != std::string::npos);
}

TEST_CASE("a ruleset without flows is reported as empty; one with flows is not") {
    PolicyRequest request;
    request.policy = golden + "01-baseline-only/policy.toml";
    auto baseline = compile(request);
    REQUIRE(baseline.result);
    REQUIRE(empty_ruleset(*baseline.result));
    CHECK(empty_ruleset(*baseline.result)->find("no flows and no management access") != std::string::npos);
    request.policy = golden + "02-input-flow/policy.toml";
    auto flows = compile(request);
    REQUIRE(flows.result);
    CHECK(flows.result->flows == 1);
    CHECK_FALSE(empty_ruleset(*flows.result));
}
