// apply() against a fake kernel: retries on generation conflicts, and maps a
// rejection to the policy span and the expression the kernel pointed at.
#include <catch2/catch.hpp>

#include <cerrno>

#include <algorithm>

#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>

#include "kernel/apply.h"
#include "net/addr.h"
#include "support/source.h"

using namespace nftpolicy;

namespace {

// Remembers what it was asked to commit and answers from a script.
class FakeKernel final : public kernel::RulesetKernel {
public:
    std::vector<kernel::CommitOutcome> answers;  // consumed in order; then "committed"
    std::vector<std::size_t> committed_sizes;
    int reads = 0;

    Result<kernel::KernelView> read(const std::string&, const kernel::ReadOptions&) override {
        ++reads;
        return kernel::KernelView{static_cast<std::uint32_t>(40 + reads), "boot:1", std::nullopt};
    }
    Result<std::uint32_t> generation() override { return static_cast<std::uint32_t>(40 + reads); }
    const std::string& scope() const override { return scope_; }
    std::string scope_ = "boot:1";
    std::vector<int> committed_types;  // NFT_MSG_* of every message committed
    Result<kernel::CommitOutcome> commit(const emit::Batch& batch) override {
        committed_sizes.push_back(batch.size());
        for (const auto& m : batch.messages()) committed_types.push_back(m.header->nlmsg_type & 0xff);
        last_begin = batch.begin_seq();
        if (answers.empty()) return kernel::CommitOutcome{};
        kernel::CommitOutcome o = answers.front();
        answers.erase(answers.begin());
        // Address rejections to real messages of this batch.
        for (auto& r : o.rejections) r.seq += batch.begin_seq();
        return o;
    }
    // check() answers: every message accepted, or ENOENT for every
    // flowtable (a kernel without flowtables), or for the one with devices
    // only (a device that does not exist).
    enum class Flowtables { accepted, none, no_devices };
    Flowtables flowtables = Flowtables::accepted;
    int checks = 0;
    Result<kernel::CommitOutcome> check(const emit::Batch& batch) override {
        ++checks;
        kernel::CommitOutcome o;
        for (const auto& m : batch.messages()) {
            const bool bare = m.origin.what == "flowtable probe (no devices)";
            const bool full = m.origin.what == "flowtable probe";
            if ((flowtables == Flowtables::none && (bare || full)) || (flowtables == Flowtables::no_devices && full))
                o.rejections.push_back({ENOENT, m.seq, 0, ""});
        }
        if (!o.rejections.empty()) o.status = kernel::CommitOutcome::Status::rejected;
        return o;
    }
    std::uint32_t last_begin = 0;
};

kernel::CommitOutcome conflict() {
    return kernel::CommitOutcome{kernel::CommitOutcome::Status::conflict, {{ERESTART, 0, 0, ""}}, 1};
}

ir::Table table_with_span(const SourceFile& file) {
    ir::Table t;
    ir::Chain c{"input", std::nullopt, {}, {}};
    ir::Rule r{{ir::MatchL4proto{{ir::kProtoTcp}}, ir::Verdict{ir::Verdict::Kind::jump, "missing"}}, "", {}};
    r.span = SourceSpan{&file, {3, 5}, {3, 9}};
    c.rules.push_back(r);
    t.chains.push_back(c);
    return t;
}

}  // namespace

TEST_CASE("a generation conflict makes apply read again and recompute") {
    FakeKernel k;
    k.answers = {conflict()};
    ir::Table t;
    auto r = kernel::apply(k, t);
    REQUIRE(r);
    CHECK(r->committed);
    CHECK(r->attempts == 2);
    CHECK(k.reads == 2);
    CHECK(r->genid == 42);  // the plan that landed was computed against the second read
}

TEST_CASE("conflicts on every attempt end in a conflict error") {
    FakeKernel k;
    k.answers = {conflict(), conflict(), conflict()};
    ir::Table t;
    auto r = kernel::apply(k, t, kernel::ApplyOptions{false, 3, {}});
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::conflict);
    CHECK(k.committed_sizes.size() == 3);
}

TEST_CASE("dry run plans but never commits") {
    FakeKernel k;
    ir::Table t;
    t.chains.push_back(ir::Chain{"input", std::nullopt, {}, {}});
    auto r = kernel::apply(k, t, kernel::ApplyOptions{true, 3, {}});
    REQUIRE(r);
    CHECK_FALSE(r->committed);
    CHECK(k.committed_sizes.empty());
    CHECK(r->changes == std::vector<std::string>{"+ table inet nftpolicy", "+ chain input (0 rules)"});
}

TEST_CASE("a rejection names the policy span and the expression at the ext-ack offset") {
    SourceManager sources;
    const SourceFile& file = sources.add("site.toml", "a\nb\n    flow = 1\n");
    const ir::Table t = table_with_span(file);
    FakeKernel k;
    // Message 3 of the batch is the rule (table, chain, rule). Point past
    // the start of the message into its expressions: the last one, the jump.
    k.answers = {kernel::CommitOutcome{kernel::CommitOutcome::Status::rejected, {{ENOENT, 3, 200, ""}}, 3}};
    auto r = kernel::apply(k, t);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::kernel);
    CHECK(r.error().message ==
          "site.toml:3:5: kernel rejected rule 1 of chain input, expression 3 (immediate): No such file or directory");
    REQUIRE(r.error().diagnostics.size() == 1);
    CHECK(render(r.error().diagnostics[0]) ==
          "site.toml:3:5: error: kernel rejected rule 1 of chain input, expression 3 (immediate): "
          "No such file or directory\n"
          "    3 |     flow = 1\n"
          "      |     ^~~~~\n");
}

TEST_CASE("a rejected expression renders under its statement's span, the rule's as a note") {
    SourceManager sources;
    const SourceFile& file = sources.add("site.toml", "[[flows]]\nfrom = \"agents\"\n");
    ir::Table t = table_with_span(file);
    ir::Rule& r = t.chains[0].rules[0];
    r.span = SourceSpan{&file, {1, 1}, {1, 9}};
    r.stmts[1].span = SourceSpan{&file, {2, 9}, {2, 14}};  // the jump
    FakeKernel k;
    k.answers = {kernel::CommitOutcome{kernel::CommitOutcome::Status::rejected, {{ENOENT, 3, 200, ""}}, 3}};
    auto result = kernel::apply(k, t);
    REQUIRE_FALSE(result);
    REQUIRE(result.error().diagnostics.size() == 1);
    CHECK(render(result.error().diagnostics[0]) ==
          "site.toml:2:9: error: kernel rejected rule 1 of chain input, expression 3 (immediate): "
          "No such file or directory\n"
          "    2 | from = \"agents\"\n"
          "      |         ^~~~~~\n"
          "site.toml:1:1: note: in rule 1 of chain input, made from here\n"
          "    1 | [[flows]]\n"
          "      | ^~~~~~~~~\n");
}

// ---- [baseline] flowtable on kernels with and without flowtables ------------

namespace {

ir::Table gateway_table(const SourceFile& file, bool required) {
    ir::Table t;
    t.flowtable = ir::Flowtable{"fastpath", {"eth0", "eth1"}, 0, true, required, SourceSpan{&file, {4, 13}, {4, 17}}};
    ir::Chain fwd{"forward", ir::BaseChain{ir::Hook::forward, 0, ir::ChainPolicy::drop}, {}, {}};
    fwd.rules.push_back(ir::Rule{{ir::MatchCtState{2}, ir::MatchL4proto{{ir::kProtoTcp, ir::kProtoUdp}},
                                  ir::FlowOffload{"fastpath"}},
                                 "",
                                 {}});
    fwd.rules.push_back(ir::Rule{{ir::MatchCtState{6}, ir::Verdict{}}, "", {}});
    t.chains.push_back(fwd);
    return t;
}

bool sent(const FakeKernel& k, int type) {
    return std::find(k.committed_types.begin(), k.committed_types.end(), type) != k.committed_types.end();
}

}  // namespace

TEST_CASE("a flowtable the kernel accepts is committed, after one check that commits nothing") {
    SourceFile file{"site.toml", "[baseline]\n\n\nflowtable = true\n"};
    FakeKernel k;
    auto r = kernel::apply(k, gateway_table(file, false));
    REQUIRE(r);
    CHECK(k.checks == 1);
    CHECK(r->notes.empty());
    CHECK(sent(k, NFT_MSG_NEWFLOWTABLE));
}

TEST_CASE("auto on a kernel without flowtables: left out with a one-line note, the rest applied") {
    SourceFile file{"site.toml", "[baseline]\n\n\nflowtable = true\n"};
    FakeKernel k;
    k.flowtables = FakeKernel::Flowtables::none;
    auto r = kernel::apply(k, gateway_table(file, false));
    REQUIRE(r);
    CHECK(r->committed);
    CHECK_FALSE(sent(k, NFT_MSG_NEWFLOWTABLE));
    CHECK(std::count(k.committed_types.begin(), k.committed_types.end(), NFT_MSG_NEWRULE) == 1);  // no flow add
    REQUIRE(r->notes.size() == 1);
    CHECK(r->notes[0] == "flowtable fastpath left out: this kernel has no flowtables (No such file or directory); "
                         "established forwarded flows take the forward chain");
}

TEST_CASE("auto where a device is missing says which devices the kernel refused") {
    SourceFile file{"site.toml", "[baseline]\n\n\nflowtable = true\n"};
    FakeKernel k;
    k.flowtables = FakeKernel::Flowtables::no_devices;
    auto r = kernel::apply(k, gateway_table(file, false));
    REQUIRE(r);
    REQUIRE(r->notes.size() == 1);
    CHECK(r->notes[0].find("the kernel refuses it on eth0, eth1 (No such file or directory") != std::string::npos);
}

TEST_CASE("true on a kernel without flowtables fails at the policy line and commits nothing") {
    SourceFile file{"site.toml", "[baseline]\n\n\nflowtable = true\n"};
    FakeKernel k;
    k.flowtables = FakeKernel::Flowtables::none;
    auto r = kernel::apply(k, gateway_table(file, true));
    REQUIRE_FALSE(r);
    CHECK(k.committed_sizes.empty());
    CHECK(k.reads == 0);
    CHECK(r.error().kind == ErrorKind::kernel);
    REQUIRE(r.error().diagnostics.size() == 1);
    const Diagnostic& d = r.error().diagnostics[0];
    CHECK(d.span.file == &file);
    CHECK(d.span.begin.line == 4);
    CHECK(d.message == "flowtable = true, but the kernel refuses flowtable fastpath: this kernel has no flowtables "
                       "(No such file or directory); nothing was changed");
}

TEST_CASE("a table without a flowtable asks the kernel nothing more") {
    FakeKernel k;
    ir::Table t;
    REQUIRE(kernel::apply(k, t));
    CHECK(k.checks == 0);
}
