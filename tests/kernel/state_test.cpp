// Kernel tests of what apply must never do: touch foreign tables, leave a
// half-applied batch, miss a concurrent writer, reset counters.
#include <catch2/catch.hpp>

#include <algorithm>

#include "emit/netlink_diff.h"
#include "kernel/apply.h"
#include "kernel/ir_samples.h"
#include "kernel/netlink_kernel.h"
#include "kernel/netns_guard.h"
#include "support/source.h"

using namespace nftpolicy;
using namespace nftpolicy::testing;

namespace {

// Tables like Docker's (ip nat, ip filter) and a hand-written inet table.
const char* kForeign = R"(
table ip nat {
	chain PREROUTING {
		type nat hook prerouting priority dstnat; policy accept;
		fib daddr type local counter jump DOCKER
	}
	chain DOCKER {
		iifname "docker0" counter return
		iifname != "docker0" meta l4proto tcp tcp dport 8080 counter dnat to 172.17.0.2:80
	}
	chain POSTROUTING {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 172.17.0.0/16 oifname != "docker0" counter masquerade
	}
}
table ip filter {
	chain FORWARD {
		type filter hook forward priority filter; policy drop;
		counter jump DOCKER-USER
	}
	chain DOCKER-USER {
		counter return
	}
}
table inet mine {
	set blocked {
		type ipv4_addr
		flags interval
		elements = { 203.0.113.0/24 }
	}
	chain input {
		type filter hook input priority -10; policy accept;
		ip saddr @blocked drop
		tcp dport 22 counter accept comment "hand written"
	}
}
)";

std::string foreign_listing() {
    return sh("nft list table ip nat; nft list table ip filter; nft list table inet mine").out;
}

void load_foreign() {
    REQUIRE(sh(std::string("nft -f - <<'EOF'\n") + kForeign + "EOF\n").status == 0);
}

// Packets a named counter of our table has counted.
std::uint64_t counter_packets(kernel::NetlinkKernel& k, const std::string& name) {
    auto view = k.read("nftpolicy");
    REQUIRE(view);
    REQUIRE(view->table);
    for (const auto& c : view->table->counters) {
        if (c.name == name) return c.packets;
    }
    FAIL("no counter " << name);
    return 0;
}

// Whether a set of our table holds an IPv4 address.
bool set_has(kernel::NetlinkKernel& k, const std::string& set, const char* addr) {
    auto found = k.has_element("nftpolicy", set, net::address_bytes(net::Family::ipv4, v4(addr).lo));
    REQUIRE(found);
    return *found;
}

}  // namespace

TEST_CASE("foreign tables are byte-identical across apply, re-apply and a failed apply", "[kernel]") {
    auto k = open_scratch_kernel();
    flush_scratch_ruleset();
    load_foreign();
    const std::string before = foreign_listing();
    REQUIRE(before.find("DOCKER") != std::string::npos);

    ir::Table t = rich_table();
    REQUIRE(kernel::apply(*k, t));
    CHECK(foreign_listing() == before);

    t.sets[0].elements.push_back(v4("10.9.9.9"));
    t.chains[2].rules.pop_back();
    REQUIRE(kernel::apply(*k, t));
    CHECK(foreign_listing() == before);

    t.chains[2].rules.push_back(rule({jump("no_such_chain")}));
    CHECK_FALSE(kernel::apply(*k, t));
    CHECK(foreign_listing() == before);
}

TEST_CASE("a rejected batch changes nothing and names the policy line", "[kernel]") {
    auto k = open_scratch_kernel();
    flush_scratch_ruleset();
    load_foreign();
    ir::Table t = rich_table();
    REQUIRE(kernel::apply(*k, t));
    const std::string before = sh("nft list ruleset").out;

    SourceManager sources;
    const SourceFile& file = sources.add("site.toml", "[flow.x]\nfrom = \"a\"\nto = \"b\"\n");
    // A jump to a chain that does not exist: the kernel refuses the rule.
    t.sets[0].elements.push_back(v4("10.7.7.7"));  // an earlier, valid change in the same batch
    ir::Rule bad = rule({jump("no_such_chain")});
    bad.span = SourceSpan{&file, {2, 1}, {2, 10}};
    t.chains[1].rules.push_back(bad);
    auto r = kernel::apply(*k, t);
    REQUIRE_FALSE(r);
    CHECK(r.error().kind == ErrorKind::kernel);
    INFO(r.error().message);
    CHECK(r.error().message.find("site.toml:2:1: kernel rejected rule 2 of chain svc_web") == 0);
    CHECK(sh("nft list ruleset").out == before);
}

TEST_CASE("a foreign change between read and commit is caught by the generation id", "[kernel]") {
    auto k = open_scratch_kernel();
    flush_scratch_ruleset();
    const ir::Table t = rich_table();
    auto desired = emit::build_objects(t);
    REQUIRE(desired);
    auto view = k->read(t.name);
    REQUIRE(view);
    emit::Plan plan = emit::plan_commit(*desired, nullptr, view->genid);

    REQUIRE(sh("nft add table ip intruder").status == 0);  // someone else commits
    auto outcome = k->commit(plan.batch);
    REQUIRE(outcome);
    CHECK(outcome->status == kernel::CommitOutcome::Status::conflict);
    CHECK(sh("nft list tables").out == "table ip intruder\n");  // our batch did not land

    // apply() re-reads and retries: it converges.
    auto r = kernel::apply(*k, t);
    REQUIRE(r);
    CHECK(r->committed);
}

namespace {

// A kernel that lets a foreign writer commit right before each of our commits.
class RacingKernel final : public kernel::RulesetKernel {
public:
    RacingKernel(kernel::RulesetKernel& real, int races) : real_(real), races_(races) {}
    Result<kernel::KernelView> read(const std::string& table, const kernel::ReadOptions& options) override {
        return real_.read(table, options);
    }
    Result<kernel::CommitOutcome> commit(const emit::Batch& batch) override {
        if (races_-- > 0) sh("nft add table ip racer" + std::to_string(races_));
        return real_.commit(batch);
    }
    Result<kernel::CommitOutcome> check(const emit::Batch& batch) override { return real_.check(batch); }
    Result<std::uint32_t> generation() override { return real_.generation(); }
    const std::string& scope() const override { return real_.scope(); }

private:
    kernel::RulesetKernel& real_;
    int races_;
};

}  // namespace

TEST_CASE("apply retries a bounded number of times when the generation keeps moving", "[kernel]") {
    auto k = open_scratch_kernel();
    flush_scratch_ruleset();
    const ir::Table t = rich_table();
    RacingKernel once(*k, 1);
    auto r = kernel::apply(once, t);
    REQUIRE(r);
    CHECK(r->attempts == 2);

    RacingKernel always(*k, 100);
    ir::Table changed = t;
    changed.sets[0].elements.push_back(v4("10.8.8.8"));
    auto failed = kernel::apply(always, changed, kernel::ApplyOptions{false, 3, {}});
    REQUIRE_FALSE(failed);
    CHECK(failed.error().kind == ErrorKind::conflict);
}

TEST_CASE("counters survive a re-apply that changes an unrelated flow", "[kernel]") {
    auto k = open_scratch_kernel();
    flush_scratch_ruleset();
    REQUIRE(sh("ip link set lo up").status == 0);
    ir::Table t;
    t.counters.push_back({"flow_ping", "pings", {}});
    t.counters.push_back({"flow_other", "", {}});
    t.sets.push_back({"others", net::Family::ipv4, {v4("192.0.2.0/24")}, "", {}});
    ir::Chain input{"input", ir::BaseChain{ir::Hook::input, 0, ir::ChainPolicy::accept}, {}, {}};
    input.rules.push_back(rule({ir::MatchL4proto{{ir::kProtoUdp}}, ir::CounterStmt{"flow_ping"}, accept()}));
    input.rules.push_back(rule({ir::MatchAddrSet{net::Family::ipv4, ir::MatchAddrSet::Field::saddr, "others"},
                                ir::CounterStmt{"flow_other"}, accept()}));
    t.chains.push_back(input);
    REQUIRE(kernel::apply(*k, t));
    // Three UDP datagrams to ourselves traverse the input hook.
    REQUIRE(sh("bash -c 'for i in 1 2 3; do echo x > /dev/udp/127.0.0.1/9; done'").status == 0);

    auto packets = [&k](const std::string& name) { return counter_packets(*k, name); };
    const std::uint64_t counted = packets("flow_ping");
    REQUIRE(counted >= 3);

    // Change the other flow: its addresses and its rule.
    t.sets[0].elements = {v4("198.51.100.0/24")};
    t.chains[0].rules[1].comment = "flow:other";
    auto r = kernel::apply(*k, t);
    REQUIRE(r);
    CHECK(r->committed);
    CHECK(packets("flow_ping") == counted);
}

namespace {

// A legacy flow on udp/9 that records its sources in a dynamic set before
// its accept rule (as lowering does), and an unrelated flow.
ir::Table table_with_seen_set() {
    ir::Table t;
    t.counters.push_back({"flow_legacy", "agents on the old port", {}});
    t.counters.push_back({"flow_other", "", {}});
    t.sets.push_back({"others", net::Family::ipv4, {v4("192.0.2.0/24")}, "", {}});
    t.dynamic_sets.push_back({"seen_m.g_v4", net::Family::ipv4, 7 * 86400000ull, 65536, "", {}});
    ir::Chain input{"input", ir::BaseChain{ir::Hook::input, 0, ir::ChainPolicy::accept}, {}, {}};
    const ir::MatchDport legacy_port{ir::kProtoUdp, {{9, 9}}};
    input.rules.push_back(rule({legacy_port, ir::MatchNfproto{net::Family::ipv4},
                                ir::UpdateSet{net::Family::ipv4, ir::MatchAddrSet::Field::saddr, "seen_m.g_v4"}},
                               "flow:legacy"));
    input.rules.push_back(rule({legacy_port, ir::CounterStmt{"flow_legacy"}, accept()}, "flow:legacy"));
    input.rules.push_back(rule({ir::MatchAddrSet{net::Family::ipv4, ir::MatchAddrSet::Field::saddr, "others"},
                                ir::CounterStmt{"flow_other"}, accept()}));
    t.chains.push_back(input);
    return t;
}

}  // namespace

TEST_CASE("counters and a dynamic set's elements survive a re-apply that changes an unrelated flow", "[kernel]") {
    auto k = open_scratch_kernel();
    flush_scratch_ruleset();
    REQUIRE(sh("ip link set lo up").status == 0);
    ir::Table t = table_with_seen_set();
    REQUIRE(kernel::apply(*k, t));
    // Real packets record their source; an admin (or a test) can add one too.
    REQUIRE(sh("bash -c 'for i in 1 2 3; do echo x > /dev/udp/127.0.0.1/9; done'").status == 0);
    REQUIRE(sh("nft add element inet nftpolicy seen_m.g_v4 '{ 10.10.0.5 timeout 1h }'").status == 0);
    auto seen = [] { return sh("nft list set inet nftpolicy seen_m.g_v4").out; };
    auto packets = [&k](const std::string& name) { return counter_packets(*k, name); };
    INFO(seen());
    REQUIRE(seen().find("127.0.0.1 expires") != std::string::npos);
    REQUIRE(seen().find("10.10.0.5 timeout 1h expires") != std::string::npos);
    const std::uint64_t counted = packets("flow_legacy");
    REQUIRE(counted >= 3);

    // The same policy again: nothing to send, whatever the set holds.
    auto same = kernel::apply(*k, t);
    REQUIRE(same);
    CHECK(same->changes.empty());
    CHECK(same->messages == 0);

    // Change the other flow: its addresses and its rule. The chain holding
    // the update rule is rebuilt; the set it updates is kept as it is.
    t.sets[0].elements = {v4("198.51.100.0/24")};
    t.chains[0].rules[2].comment = "flow:other";
    auto r = kernel::apply(*k, t);
    REQUIRE(r);
    CHECK(r->committed);
    CHECK(r->changes == std::vector<std::string>{"~ chain input: rules 3 -> 3", "~ set others: +2 -2 elements"});
    CHECK(packets("flow_legacy") == counted);
    CHECK(seen().find("127.0.0.1 expires") != std::string::npos);
    CHECK(seen().find("10.10.0.5 timeout 1h expires") != std::string::npos);
    auto has = [&k](const char* addr) { return set_has(*k, "seen_m.g_v4", addr); };
    CHECK(has("10.10.0.5"));
    CHECK(has("127.0.0.1"));
    CHECK_FALSE(has("10.10.0.6"));

    // A new declaration (another timeout) cannot keep them: the set is recreated empty.
    t.dynamic_sets[0].timeout_ms = 86400000;
    auto recreated = kernel::apply(*k, t);
    REQUIRE(recreated);
    CHECK(recreated->changes ==
          std::vector<std::string>{"~ set seen_m.g_v4: declaration changed, recreated empty", "~ chain input: rules 3 -> 3"});
    CHECK(seen().find("timeout 1d") != std::string::npos);
    CHECK_FALSE(has("10.10.0.5"));
    CHECK(packets("flow_legacy") == counted);
    flush_scratch_ruleset();
}

namespace {

ir::Table table_with_big_set(std::uint32_t count) {
    ir::Table t;
    ir::AddrSet big{"big", net::Family::ipv4, {}, "", {}};
    const net::U128 base = v4("10.0.0.0").lo;
    for (std::uint32_t i = 0; i < count; ++i) big.elements.push_back({base + 2 * i, base + 2 * i});
    t.sets.push_back(std::move(big));
    ir::Chain input{"input", ir::BaseChain{ir::Hook::input, 0, ir::ChainPolicy::accept}, {}, {}};
    input.rules.push_back(
        rule({ir::MatchAddrSet{net::Family::ipv4, ir::MatchAddrSet::Field::saddr, "big"}, accept()}));
    t.chains.push_back(input);
    return t;
}

}  // namespace

TEST_CASE("a one-million-element set commits in one batch", "[kernel][large]") {
    auto k = open_scratch_kernel();
    flush_scratch_ruleset();
    const ir::Table t = table_with_big_set(1000000);
    // (The IR is copied once below; 1M intervals are 32 MB.)
    auto r = kernel::apply(*k, t);
    REQUIRE(r);
    CHECK(r->committed);
    CHECK(r->messages > 500);  // 2M elements split into 64 KiB messages, every one acknowledged
    // Without a (slow, quadratic in the kernel) full dump: probe the first
    // and last addresses and their neighbours.
    auto has = [&k](const char* addr) { return set_has(*k, "big", addr); };
    CHECK(has("10.0.0.0"));
    CHECK_FALSE(has("10.0.0.1"));
    CHECK(has("10.15.66.126"));  // 10.0.0.0 + 2 * 999999
    CHECK_FALSE(has("10.15.66.127"));

    // With the elements of our own commit, changing one address of the 1M set
    // reads no elements back and sends one message.
    REQUIRE(r->known_after);
    kernel::KnownElements known = std::move(*r->known_after);
    ir::Table changed = t;
    edit_list(changed.sets[0].elements, [](auto& v) { v.erase(v.begin() + 4242); });
    kernel::ApplyOptions options;
    options.known = &known;
    auto small = kernel::apply(*k, changed, options);
    REQUIRE(small);
    CHECK(small->messages == 1);
    CHECK_FALSE(has("10.0.33.36"));  // 10.0.0.0 + 2 * 4242
}

TEST_CASE("changing one address of a large set sends one small message", "[kernel]") {
    auto k = open_scratch_kernel();
    flush_scratch_ruleset();
    ir::Table t = table_with_big_set(50000);
    REQUIRE(kernel::apply(*k, t));
    auto view = k->read("nftpolicy");
    REQUIRE(view);
    REQUIRE(view->table);
    REQUIRE(view->table->sets.size() == 1);
    CHECK(view->table->sets[0].elements.size() == 100001);  // start + end each, and nft's zero marker

    // What status reads: the set's declaration and the counters, no elements.
    auto summary = k->read("nftpolicy", kernel::ReadOptions{nullptr, false});
    REQUIRE(summary);
    REQUIRE(summary->table);
    REQUIRE(summary->table->sets.size() == 1);
    CHECK(summary->table->sets[0].def.name == "big");
    CHECK(summary->table->sets[0].elements.empty());
    CHECK(summary->table->chains.size() == view->table->chains.size());

    edit_list(t.sets[0].elements, [](auto& v) { v.erase(v.begin() + 25000); });
    auto small = kernel::apply(*k, t);
    REQUIRE(small);
    CHECK(small->committed);
    CHECK(small->messages == 1);  // one DELSETELEM carrying a start and an end element
    REQUIRE(small->changes.size() == 1);
    CHECK(small->changes[0] == "~ set big: +0 -2 elements");
    auto has = [&k](const char* addr) { return set_has(*k, "big", addr); };
    CHECK_FALSE(has("10.0.195.80"));  // 10.0.0.0 + 2 * 25000
    CHECK(has("10.0.195.82"));
}

TEST_CASE("known elements from our last commit replace the dump while the generation holds", "[kernel]") {
    auto k = open_scratch_kernel();
    flush_scratch_ruleset();
    ir::Table t = table_with_big_set(20000);
    kernel::ApplyOptions options;
    auto first = kernel::apply(*k, t, options);
    REQUIRE(first);
    REQUIRE(first->known_after);
    CHECK(first->known_after->sets.at("big").intervals.size() == 20000);
    auto gen = k->generation();
    REQUIRE(gen);
    CHECK(first->known_after->genid == *gen);

    // One address less, planned from the known elements.
    edit_list(t.sets[0].elements, [](auto& v) { v.erase(v.begin() + 100); });
    kernel::KnownElements known = *first->known_after;
    options.known = &known;
    auto second = kernel::apply(*k, t, options);
    REQUIRE(second);
    CHECK(second->messages == 1);
    CHECK(second->changes == std::vector<std::string>{"~ set big: +0 -2 elements"});
    REQUIRE(second->known_after);

    // A full read agrees: nothing left to do.
    auto check = kernel::apply(*k, t);
    REQUIRE(check);
    CHECK(check->changes.empty());

    // Known elements of another kernel (another namespace: generations start
    // over there) are ignored even at the same generation: they claim an
    // element this kernel does not hold, which would plan a deletion.
    kernel::KnownElements stale = *second->known_after;
    CHECK(stale.scope == k->scope());
    stale.sets.at("big").intervals.push_back(v4("10.200.0.0"));  // above every other address: still sorted
    kernel::KnownElements elsewhere = stale;
    elsewhere.scope = "another-boot:1";
    options.known = &elsewhere;
    auto other = kernel::apply(*k, t, options);
    REQUIRE(other);
    CHECK(other->changes.empty());

    // Someone else commits: the known elements are stale and must be ignored.
    REQUIRE(sh("nft add table ip someone_else").status == 0);
    options.known = &stale;
    auto third = kernel::apply(*k, t, options);
    REQUIRE(third);
    CHECK(third->changes.empty());  // with the stale hint it would have deleted 10.200.0.0
}

namespace {

// Counts the reads of the kernel it wraps.
class CountingKernel final : public kernel::RulesetKernel {
public:
    explicit CountingKernel(kernel::RulesetKernel& real) : real_(real) {}
    int reads = 0;
    Result<kernel::KernelView> read(const std::string& table, const kernel::ReadOptions& options) override {
        ++reads;
        return real_.read(table, options);
    }
    Result<kernel::CommitOutcome> commit(const emit::Batch& batch) override { return real_.commit(batch); }
    Result<kernel::CommitOutcome> check(const emit::Batch& batch) override { return real_.check(batch); }
    Result<std::uint32_t> generation() override { return real_.generation(); }
    const std::string& scope() const override { return real_.scope(); }

private:
    kernel::RulesetKernel& real_;
};

}  // namespace

TEST_CASE("after a commit of elements only, the next at the same generation plans without reading", "[kernel]") {
    auto k = open_scratch_kernel();
    flush_scratch_ruleset();
    CountingKernel counting(*k);
    ir::Table t = table_with_big_set(20000);
    t.counters.push_back({"flow_big", "", {}});
    t.chains[0].rules[0].stmts.insert(t.chains[0].rules[0].stmts.begin() + 1, ir::CounterStmt{"flow_big"});
    kernel::ApplyOptions options;
    auto first = kernel::apply(counting, t, options);
    REQUIRE(first);
    REQUIRE(first->known_after);
    CHECK_FALSE(first->known_after->rest);  // it made the table: more than elements

    // One address less: planned from a read (nothing kept yet), and kept.
    edit_list(t.sets[0].elements, [](auto& v) { v.erase(v.begin() + 100); });
    kernel::KnownElements known = *first->known_after;
    options.known = &known;
    auto second = kernel::apply(counting, t, options);
    REQUIRE(second);
    REQUIRE(second->known_after);
    REQUIRE(second->known_after->rest);
    CHECK(counting.reads == 2);

    // Another: planned from what the last commit kept, no read; in the kernel.
    edit_list(t.sets[0].elements, [](auto& v) { v.erase(v.begin() + 200); });
    known = *second->known_after;
    auto third = kernel::apply(counting, t, options);
    REQUIRE(third);
    CHECK(counting.reads == 2);
    CHECK(third->changes == std::vector<std::string>{"~ set big: +0 -2 elements"});
    CHECK_FALSE(set_has(*k, "big", "10.0.1.146"));  // 10.0.0.0 + 2 * 201: the first list's 202nd
    CHECK(set_has(*k, "big", "10.0.1.148"));
    auto full = kernel::apply(*k, t);  // a full read agrees: nothing left to do
    REQUIRE(full);
    CHECK(full->changes.empty());

    // A new rule is planned against a read.
    REQUIRE(third->known_after);
    known = *third->known_after;
    t.chains[0].rules.push_back(rule({ir::MatchL4proto{{ir::kProtoUdp}}, accept()}));
    auto fourth = kernel::apply(counting, t, options);
    REQUIRE(fourth);
    CHECK(fourth->committed);
    CHECK(counting.reads == 3);
    CHECK((fourth->known_after && !fourth->known_after->rest));

    // Someone else commits: what was kept is stale, read again.
    edit_list(t.sets[0].elements, [](auto& v) { v.erase(v.begin() + 300); });
    auto fifth = kernel::apply(counting, t, options = kernel::ApplyOptions{});
    REQUIRE(fifth);
    REQUIRE(fifth->known_after);
    REQUIRE(fifth->known_after->rest);
    REQUIRE(sh("nft add table ip someone_else").status == 0);
    edit_list(t.sets[0].elements, [](auto& v) { v.erase(v.begin() + 400); });
    known = *fifth->known_after;
    options.known = &known;
    const int before = counting.reads;
    auto sixth = kernel::apply(counting, t, options);
    REQUIRE(sixth);
    CHECK(counting.reads == before + 1);
    CHECK(sixth->changes == std::vector<std::string>{"~ set big: +0 -2 elements"});
}
