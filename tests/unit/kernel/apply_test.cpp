// apply() against a fake kernel: retries on generation conflicts, and maps a
// rejection to the policy span and the expression the kernel pointed at.
#include <catch2/catch.hpp>

#include <cerrno>

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
    Result<kernel::CommitOutcome> commit(const emit::Batch& batch) override {
        committed_sizes.push_back(batch.size());
        last_begin = batch.begin_seq();
        if (answers.empty()) return kernel::CommitOutcome{};
        kernel::CommitOutcome o = answers.front();
        answers.erase(answers.begin());
        // Address rejections to real messages of this batch.
        for (auto& r : o.rejections) r.seq += batch.begin_seq();
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
