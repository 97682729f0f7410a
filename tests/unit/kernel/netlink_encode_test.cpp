// Encoding tests without a kernel: interval elements, message splitting,
// canonical rule forms, and what the diff puts in a batch.
#include <catch2/catch.hpp>

#include <algorithm>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <libnftnl/flowtable.h>
#include <libnftnl/object.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include "emit/netlink_diff.h"
#include "emit/netlink_encode.h"
#include "emit/netlink_objects.h"
#include "kernel/netlink_io.h"
#include "net/addr.h"

using namespace nftpolicy;
using emit::KeyElem;

namespace {

net::Interval v4(const char* text) { return net::parse_address_entry(text)->range; }

std::vector<KeyElem> elements_of(const net::IntervalList& ivs, net::Family f = net::Family::ipv4,
                                 bool interval = true) {
    std::vector<KeyElem> out;
    emit::IntervalElements elements(ivs, f, interval);
    while (const KeyElem* e = elements.next()) out.push_back(*e);
    return out;
}

// nf_tables message type (NFT_MSG_*) of each message in a batch.
std::vector<int> message_types(const emit::Batch& b) {
    std::vector<int> out;
    for (const auto& m : b.messages()) out.push_back(m.header->nlmsg_type & 0xff);
    return out;
}

ir::Table small_table() {
    ir::Table t;
    t.counters.push_back({"flow_a", "a", {}});
    t.sets.push_back({"hosts", net::Family::ipv4, {v4("10.0.0.0/24"), v4("10.0.1.5")}, "", {}});
    ir::Chain c{"input", ir::BaseChain{ir::Hook::input, 0, ir::ChainPolicy::drop}, {}, {}};
    c.rules.push_back(ir::Rule{{ir::MatchAddrSet{net::Family::ipv4, ir::MatchAddrSet::Field::saddr, "hosts"},
                                ir::CounterStmt{"flow_a"}, ir::Verdict{ir::Verdict::Kind::accept, ""}},
                               "flow:a",
                               {}});
    c.rules.push_back(ir::Rule{{ir::MatchDport{ir::kProtoTcp, {{22, 22}, {80, 90}}}, ir::Verdict{}}, "", {}});
    t.chains.push_back(c);
    return t;
}

// The observation a kernel holding exactly `d` would give.
emit::ObservedTable observed_from(const emit::DesiredTable& d) {
    emit::ObservedTable o;
    o.name = d.name;
    for (const auto& c : d.counters) o.counters.push_back({c.name, c.udata, 7, 700});
    for (const auto& s : d.sets) {
        emit::ObservedSet os;
        os.def = s.def;
        if (s.addr) os.elements = elements_of(s.addr->elements, s.addr->family, s.addr->interval);
        os.map_elements = s.map_elements;
        o.sets.push_back(os);
    }
    if (d.flowtable) o.flowtables.push_back(d.flowtable->def);
    for (const auto& c : d.chains) {
        emit::ObservedChain oc{c.name, c.base, {}};
        for (const auto& r : c.rules) oc.rules.push_back({1, r.canonical});
        o.chains.push_back(oc);
    }
    return o;
}

// Builds the message the kernel would receive for a rule and parses it back,
// as a dump would, into its canonical form.
emit::CanonicalRule canonical_after_trip(const emit::DesiredRule& r) {
    std::vector<char> buf(65536);
    nlmsghdr* nlh = nftnl_nlmsg_build_hdr(buf.data(), NFT_MSG_NEWRULE, NFPROTO_INET, 0, 1);
    nftnl_rule_nlmsg_build_payload(nlh, r.rule.get());
    nftnl_rule* parsed = nftnl_rule_alloc();
    REQUIRE(nftnl_rule_nlmsg_parse(nlh, parsed) == 0);
    auto c = emit::canonical_rule(parsed, [](std::string_view, std::uint32_t) { return std::nullopt; });
    nftnl_rule_free(parsed);
    return c;
}

}  // namespace

TEST_CASE("interval sets are encoded like nft: zero marker, start, end at hi+1") {
    auto e = elements_of({v4("10.0.0.0/24"), v4("10.0.1.5")});
    const net::U128 base = v4("10.0.0.0").lo;
    REQUIRE(e.size() == 5);
    CHECK(e[0] == KeyElem{0, true});
    CHECK(e[1] == KeyElem{base, false});
    CHECK(e[2] == KeyElem{base + 256, true});
    CHECK(e[3] == KeyElem{base + 256 + 5, false});
    CHECK(e[4] == KeyElem{base + 256 + 6, true});
}

TEST_CASE("an interval reaching the top has no end element, one starting at 0 no marker") {
    auto e = elements_of({v4("0.0.0.0/0")});
    REQUIRE(e.size() == 1);
    CHECK(e[0] == KeyElem{0, false});
}

TEST_CASE("adjacent intervals are merged into one") {
    auto e = elements_of({v4("10.0.0.0-10.0.0.9"), v4("10.0.0.10-10.0.0.19")});
    REQUIRE(e.size() == 3);
    CHECK(e[2].key == v4("10.0.0.20").lo);
}

TEST_CASE("element messages are split so that no nest exceeds 64 KiB") {
    emit::SetDef def;
    def.name = "big";
    def.key_len = 16;
    emit::Batch b;
    {
        emit::encode::ElementWriter w(b, true, "t", def, 0, {});
        for (std::uint32_t i = 0; i < 20000; ++i) w.put(KeyElem{i, i % 2 == 1});
        CHECK(w.count() == 20000);
    }
    b.close(0);
    REQUIRE(b.size() > 1);
    std::size_t elements = 0;
    for (const auto& m : b.messages()) {
        CHECK(m.header->nlmsg_len <= emit::Batch::kMaxMessage);
        kernel::detail::for_each_attr(m.header, sizeof(nfgenmsg), [&elements](const nlattr* attr) {
            if (mnl_attr_get_type(attr) != NFTA_SET_ELEM_LIST_ELEMENTS) return;
            CHECK(mnl_attr_get_len(attr) <= UINT16_MAX);
            kernel::detail::for_each_nested(attr, [&elements](const nlattr*) { ++elements; });
        });
    }
    CHECK(elements == 20000);
}

TEST_CASE("the batch begins with the generation id and numbers messages in order") {
    emit::Batch b(100);
    emit::encode::new_table(b, "t");
    emit::encode::flush_chain(b, "t", "input");
    b.close(0x1234);
    REQUIRE(b.size() == 2);
    CHECK(b.messages()[0].seq == 101);
    CHECK(b.find(102) == &b.messages()[1]);
    CHECK(b.find(100) == nullptr);
    auto iov = b.iovecs();
    const auto* begin = static_cast<const nlmsghdr*>(iov.front().iov_base);
    CHECK(begin->nlmsg_type == NFNL_MSG_BATCH_BEGIN);
    CHECK(begin->nlmsg_seq == 100);
    std::uint32_t genid = 0;
    kernel::detail::for_each_attr(begin, sizeof(nfgenmsg), [&genid](const nlattr* attr) {
        if (mnl_attr_get_type(attr) == NFNL_BATCH_GENID) genid = ntohl(mnl_attr_get_u32(attr));
    });
    CHECK(genid == 0x1234);
    const auto* end = static_cast<const nlmsghdr*>(iov.back().iov_base);
    CHECK(end->nlmsg_type == NFNL_MSG_BATCH_END);
    CHECK(end->nlmsg_seq == 103);
}

TEST_CASE("a rule's canonical form survives a trip through a netlink message") {
    const ir::Table t = small_table();
    auto d = emit::build_objects(t);
    REQUIRE(d);
    const emit::DesiredRule& r = d->chains[0].rules[0];
    auto c = canonical_after_trip(r);
    CHECK(c.text == r.canonical.text);
    CHECK(c.sets == std::vector<std::string>{"hosts"});
    CHECK(c.objects == std::vector<std::string>{"flow_a"});
    CHECK(r.canonical.text.find("udata 0007666c6f773a6100") != std::string::npos);  // comment "flow:a"
}

TEST_CASE("a missing table is created whole, in dependency order") {
    const ir::Table t = small_table();
    auto d = emit::build_objects(t);
    REQUIRE(d);
    emit::Plan p = emit::plan_commit(*d, nullptr, 5);
    CHECK(message_types(p.batch) == std::vector<int>{NFT_MSG_NEWTABLE, NFT_MSG_NEWCHAIN, NFT_MSG_NEWOBJ,
                                                     NFT_MSG_NEWSET, NFT_MSG_NEWSETELEM, NFT_MSG_NEWRULE,
                                                     NFT_MSG_NEWSET, NFT_MSG_NEWSETELEM, NFT_MSG_NEWRULE});
    CHECK(p.changes.front() == "+ table inet nftpolicy");
}

TEST_CASE("a kernel already holding the table gets an empty batch") {
    const ir::Table t = small_table();
    auto d = emit::build_objects(t);
    REQUIRE(d);
    const emit::ObservedTable o = observed_from(*d);
    emit::Plan p = emit::plan_commit(*d, &o, 5);
    CHECK(p.empty());
    CHECK(p.changes.empty());
}

TEST_CASE("one changed address sends only element messages") {
    ir::Table t = small_table();
    auto before = emit::build_objects(t);
    REQUIRE(before);
    const emit::ObservedTable o = observed_from(*before);
    std::vector<net::Interval> changed(t.sets[0].elements.begin(), t.sets[0].elements.end());
    changed[1] = v4("10.0.1.6");
    t.sets[0].elements = changed;
    auto after = emit::build_objects(t);
    REQUIRE(after);
    emit::Plan p = emit::plan_commit(*after, &o, 5);
    CHECK(message_types(p.batch) == std::vector<int>{NFT_MSG_DELSETELEM, NFT_MSG_NEWSETELEM});
    CHECK(p.changes == std::vector<std::string>{"~ set hosts: +2 -2 elements"});
}

TEST_CASE("a changed rule rebuilds only its chain; a changed counter keeps its values") {
    ir::Table t = small_table();
    auto before = emit::build_objects(t);
    REQUIRE(before);
    const emit::ObservedTable o = observed_from(*before);
    t.chains[0].rules[1].comment = "changed";
    t.counters[0].comment = "renamed";
    auto after = emit::build_objects(t);
    REQUIRE(after);
    emit::Plan p = emit::plan_commit(*after, &o, 5);
    CHECK(message_types(p.batch) == std::vector<int>{NFT_MSG_DELRULE, NFT_MSG_DELOBJ, NFT_MSG_NEWOBJ, NFT_MSG_NEWRULE,
                                                     NFT_MSG_NEWSET, NFT_MSG_NEWSETELEM, NFT_MSG_NEWRULE});
    // The recreated counter carries the kernel's values over.
    const nlmsghdr* obj = p.batch.messages()[2].header;
    nftnl_obj* parsed = nftnl_obj_alloc();
    REQUIRE(nftnl_obj_nlmsg_parse(obj, parsed) == 0);
    CHECK(nftnl_obj_get_u64(parsed, NFTNL_OBJ_CTR_PKTS) == 7);
    CHECK(nftnl_obj_get_u64(parsed, NFTNL_OBJ_CTR_BYTES) == 700);
    nftnl_obj_free(parsed);
}

TEST_CASE("an interface that does not exist is an error for iif") {
    ir::Table t;
    ir::Chain c{"input", std::nullopt, {}, {}};
    c.rules.push_back(ir::Rule{{ir::MatchInterface{ir::MatchInterface::Dir::in, false, {"nosuch0"}}}, "", {}});
    t.chains.push_back(c);
    emit::ObjectOptions opts;
    opts.interface_index = [](const std::string&) { return 0u; };
    auto d = emit::build_objects(t, opts);
    REQUIRE_FALSE(d);
    CHECK(d.error().message.find("interface 'nosuch0' does not exist") != std::string::npos);
}

namespace {

// small_table() plus a dynamic set that its first rule records sources in.
ir::Table table_with_dynamic_set() {
    ir::Table t = small_table();
    t.dynamic_sets.push_back({"seen_v4", net::Family::ipv4, 7 * 86400000ull, 65536, "", {}});
    auto& stmts = t.chains[0].rules[0].stmts;
    stmts.insert(stmts.begin() + 1, ir::UpdateSet{net::Family::ipv4, ir::MatchAddrSet::Field::saddr, "seen_v4"});
    return t;
}

const emit::BatchMessage* first_of_type(const emit::Batch& b, int type, std::size_t skip = 0) {
    for (const auto& m : b.messages()) {
        if ((m.header->nlmsg_type & 0xff) == type && skip-- == 0) return &m;
    }
    return nullptr;
}

// The bytes of every message of a batch, in order.
std::vector<std::string> batch_bytes(const emit::Batch& b) {
    std::vector<std::string> out;
    for (const auto& m : b.messages()) out.emplace_back(reinterpret_cast<const char*>(m.header), m.header->nlmsg_len);
    return out;
}

ir::Table table_with(std::vector<net::Interval> ivs) {
    net::normalize(ivs);  // the IR's lists are sorted and merged
    ir::Table t = small_table();
    t.sets[0].elements = std::move(ivs);
    return t;
}

}  // namespace

TEST_CASE("a dynamic set is declared like nft's `flags dynamic,timeout` and sent without elements") {
    const ir::Table t = table_with_dynamic_set();
    auto d = emit::build_objects(t);
    REQUIRE(d);
    emit::Plan p = emit::plan_commit(*d, nullptr, 5);
    CHECK(message_types(p.batch) == std::vector<int>{NFT_MSG_NEWTABLE, NFT_MSG_NEWCHAIN, NFT_MSG_NEWOBJ,
                                                     NFT_MSG_NEWSET, NFT_MSG_NEWSETELEM, NFT_MSG_NEWSET,
                                                     NFT_MSG_NEWRULE, NFT_MSG_NEWSET, NFT_MSG_NEWSETELEM,
                                                     NFT_MSG_NEWRULE});
    const emit::BatchMessage* m = first_of_type(p.batch, NFT_MSG_NEWSET, 1);
    REQUIRE(m != nullptr);
    nftnl_set* s = nftnl_set_alloc();
    REQUIRE(nftnl_set_nlmsg_parse(m->header, s) == 0);
    CHECK(std::string(nftnl_set_get_str(s, NFTNL_SET_NAME)) == "seen_v4");
    CHECK(nftnl_set_get_u32(s, NFTNL_SET_FLAGS) == (NFT_SET_TIMEOUT | NFT_SET_EVAL));
    CHECK(nftnl_set_get_u64(s, NFTNL_SET_TIMEOUT) == 604800000ull);
    CHECK(nftnl_set_get_u32(s, NFTNL_SET_DESC_SIZE) == 65536);
    CHECK(nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN) == 4);
    nftnl_set_free(s);
    // [ payload load 4b @ network header + 12 => reg 1 ] [ dynset update reg_key 1 set seen_v4 ],
    // with no second `meta nfproto` check: the lookup before it made one.
    const std::string& text = d->chains[0].rules[0].canonical.text;
    CHECK(text.find("dynset sreg_key=1 op=1 timeout=0 flags=0 set=seen_v4\n") != std::string::npos);
    CHECK(text.find("meta key=15") == text.rfind("meta key=15"));  // NFT_META_NFPROTO once
    CHECK(std::count(text.begin(), text.end(), '\n') == 9);  // meta cmp payload lookup payload dynset objref imm udata
}

TEST_CASE("a dynset's canonical form survives a netlink trip and names the set it updates") {
    const ir::Table t = table_with_dynamic_set();
    auto d = emit::build_objects(t);
    REQUIRE(d);
    const emit::DesiredRule& r = d->chains[0].rules[0];
    auto c = canonical_after_trip(r);
    CHECK(c.text == r.canonical.text);
    CHECK(c.sets == std::vector<std::string>{"hosts", "seen_v4"});
}

TEST_CASE("elements the kernel added to a dynamic set are neither compared nor sent") {
    const ir::Table t = table_with_dynamic_set();
    auto d = emit::build_objects(t);
    REQUIRE(d);
    emit::ObservedTable o = observed_from(*d);
    for (auto& s : o.sets) {
        if (s.def.name == "seen_v4") s.elements = {KeyElem{0x0a0a0005, false}, KeyElem{0x0a0a0006, false}};
    }
    emit::Plan p = emit::plan_commit(*d, &o, 5);
    CHECK(p.empty());
    CHECK(p.changes.empty());
}

TEST_CASE("a dynamic set whose declaration changed is recreated, after the rules using it are flushed") {
    ir::Table t = table_with_dynamic_set();
    auto before = emit::build_objects(t);
    REQUIRE(before);
    const emit::ObservedTable o = observed_from(*before);
    for (std::uint32_t size : {65536u, 1024u}) {
        t.dynamic_sets[0].size = size;
        t.dynamic_sets[0].timeout_ms = size == 65536 ? 86400000ull : 7 * 86400000ull;  // one of the two changes
        auto after = emit::build_objects(t);
        REQUIRE(after);
        emit::Plan p = emit::plan_commit(*after, &o, 5);
        CHECK(message_types(p.batch) == std::vector<int>{NFT_MSG_DELRULE, NFT_MSG_DELSET, NFT_MSG_NEWSET,
                                                         NFT_MSG_NEWRULE, NFT_MSG_NEWSET, NFT_MSG_NEWSETELEM,
                                                         NFT_MSG_NEWRULE});
        CHECK(p.changes == std::vector<std::string>{"~ set seen_v4: declaration changed, recreated empty",
                                                    "~ chain input: rules 2 -> 2"});
    }
}

TEST_CASE("a dynamic set no longer wanted is deleted after its rules") {
    ir::Table t = table_with_dynamic_set();
    auto before = emit::build_objects(t);
    REQUIRE(before);
    const emit::ObservedTable o = observed_from(*before);
    const ir::Table without = small_table();
    auto after = emit::build_objects(without);
    REQUIRE(after);
    emit::Plan p = emit::plan_commit(*after, &o, 5);
    CHECK(message_types(p.batch) == std::vector<int>{NFT_MSG_DELRULE, NFT_MSG_DELSET, NFT_MSG_NEWRULE,
                                                     NFT_MSG_NEWSET, NFT_MSG_NEWSETELEM, NFT_MSG_NEWRULE});
    CHECK(p.changes == std::vector<std::string>{"- set seen_v4", "~ chain input: rules 2 -> 2"});
}
TEST_CASE("a diff against our element cache sends what a diff against a full dump sends") {
    const std::vector<net::Interval> base{v4("0.0.0.5"), v4("10.0.0.0/24"), v4("10.0.1.5"), v4("10.0.2.0-10.0.2.9"),
                                          v4("255.255.255.250-255.255.255.255")};
    auto without = [&base](std::size_t i) {
        auto v = base;
        v.erase(v.begin() + static_cast<long>(i));
        return v;
    };
    auto with = [&base](std::size_t i, net::Interval iv) {
        auto v = base;
        v.insert(v.begin() + static_cast<long>(i), iv);
        return v;
    };
    auto changed = [&base](std::size_t i, net::Interval iv) {
        auto v = base;
        v[i] = iv;
        return v;
    };
    const std::vector<std::pair<const char*, std::vector<net::Interval>>> edits{
        {"unchanged", base},
        {"first removed", without(0)},
        {"last removed", without(4)},
        {"middle removed", without(2)},
        {"a new first interval at 0: nft's marker goes", with(0, v4("0.0.0.0"))},
        {"a new middle interval", with(3, v4("10.0.1.7"))},
        {"an interval merging two", with(3, v4("10.0.1.6-10.0.1.255"))},
        {"a middle interval widened", changed(1, v4("10.0.0.0/23"))},
        {"the top interval shortened", changed(4, v4("255.255.255.250-255.255.255.254"))},
        {"everything removed", {}},
    };
    for (const auto& [what, after_ivs] : edits) {
        INFO(what);
        for (bool reverse : {false, true}) {  // also from `after` back to `base`
            const ir::Table before_t = table_with(reverse ? after_ivs : base);
            const ir::Table after_t = table_with(reverse ? base : after_ivs);
            auto before = emit::build_objects(before_t);
            auto after = emit::build_objects(after_t);
            REQUIRE(before);
            REQUIRE(after);
            const emit::ObservedTable dumped = observed_from(*before);
            emit::ObservedTable cached = dumped;
            cached.sets[0].elements.clear();
            cached.sets[0].known = emit::IntervalContent{net::Family::ipv4, before_t.sets[0].elements};
            const emit::Plan from_dump = emit::plan_commit(*after, &dumped, 5);
            const emit::Plan from_cache = emit::plan_commit(*after, &cached, 5);
            CHECK(from_cache.changes == from_dump.changes);
            CHECK(batch_bytes(from_cache.batch) == batch_bytes(from_dump.batch));
            CHECK(from_dump.empty() == (before_t.sets[0].elements == after_t.sets[0].elements));
        }
    }
}

namespace {

// `count` random single addresses in 10.0.0.0/20, none adjacent (a hash
// set's content: what ir/split_sets.h puts there), seeded.
std::vector<net::Interval> random_singles(std::uint32_t seed, std::size_t count) {
    std::vector<net::Interval> v;
    for (std::size_t i = 0; i < count; ++i) {
        seed = seed * 1103515245u + 12345u;
        const net::U128 a = 0x0a000000u + 2 * ((seed >> 8) % 2048);
        v.push_back({a, a});
    }
    net::normalize(v);
    return v;
}

ir::Table hash_table_with(std::vector<net::Interval> singles) {
    ir::Table t = small_table();
    t.sets[0].elements = std::move(singles);
    t.sets[0].interval = false;
    return t;
}

}  // namespace

TEST_CASE("a hash set is declared without NFT_SET_INTERVAL and holds one element per address, no markers") {
    const ir::Table t = hash_table_with({v4("10.0.0.1"), v4("10.0.0.9")});
    auto d = emit::build_objects(t);
    REQUIRE(d);
    CHECK((d->sets[0].def.flags & NFT_SET_INTERVAL) == 0);
    CHECK(elements_of(t.sets[0].elements, net::Family::ipv4, false) ==
          std::vector<KeyElem>{{0x0a000001u, false}, {0x0a000009u, false}});
    emit::Plan p = emit::plan_commit(*d, nullptr, 5);
    const auto* elems = first_of_type(p.batch, NFT_MSG_NEWSETELEM);
    REQUIRE(elems != nullptr);
}

TEST_CASE("a hash set's diff against our element cache sends what a diff against a full dump sends") {
    for (std::uint32_t seed = 1; seed <= 40; ++seed) {
        INFO("seed " << seed);
        const std::vector<net::Interval> base = random_singles(seed, 200);
        std::vector<net::Interval> after = base;
        // a few random removals and additions, as edits of a list would make
        const std::vector<net::Interval> added = random_singles(seed * 7919, seed % 5);
        if (seed % 3 != 0 && !after.empty()) after.erase(after.begin() + static_cast<long>(seed % after.size()));
        after.insert(after.end(), added.begin(), added.end());
        net::normalize(after);
        const ir::Table before_t = hash_table_with(base);
        const ir::Table after_t = hash_table_with(after);
        auto before = emit::build_objects(before_t);
        auto want = emit::build_objects(after_t);
        REQUIRE(before);
        REQUIRE(want);
        const emit::ObservedTable dumped = observed_from(*before);
        emit::ObservedTable cached = dumped;
        cached.sets[0].elements.clear();
        cached.sets[0].known = emit::IntervalContent{net::Family::ipv4, before_t.sets[0].elements};
        const emit::Plan from_dump = emit::plan_commit(*want, &dumped, 5);
        const emit::Plan from_cache = emit::plan_commit(*want, &cached, 5);
        CHECK(from_cache.changes == from_dump.changes);
        CHECK(batch_bytes(from_cache.batch) == batch_bytes(from_dump.batch));
        CHECK(from_dump.empty() == (base == after));
    }
}

TEST_CASE("a set that becomes a hash set is recreated with its rules") {
    const ir::Table before_t = small_table();
    ir::Table after_t = small_table();
    after_t.sets[0].elements = {v4("10.0.1.5")};
    after_t.sets[0].interval = false;
    auto before = emit::build_objects(before_t);
    auto after = emit::build_objects(after_t);
    REQUIRE(before);
    REQUIRE(after);
    const emit::ObservedTable o = observed_from(*before);
    const emit::Plan p = emit::plan_commit(*after, &o, 5);
    CHECK(p.changes ==
          std::vector<std::string>{"~ set hosts: declaration changed, recreated", "~ chain input: rules 2 -> 2"});
}

// ---- flowtables ---------------------------------------------------------------

namespace {

// small_table() as a gateway's: a flowtable and, first in a forward chain,
// the rule offloading established tcp/udp flows to it.
ir::Table table_with_flowtable(std::vector<std::string> devices = {"eth0", "eth1"}) {
    ir::Table t = small_table();
    t.flowtable = ir::Flowtable{"fastpath", std::move(devices), 0, true, false, {}};
    ir::Chain fwd{"forward", ir::BaseChain{ir::Hook::forward, 0, ir::ChainPolicy::drop}, {}, {}};
    fwd.rules.push_back(ir::Rule{{ir::MatchCtState{2}, ir::MatchL4proto{{ir::kProtoTcp, ir::kProtoUdp}},
                                  ir::FlowOffload{"fastpath"}},
                                 "",
                                 {}});
    fwd.rules.push_back(ir::Rule{{ir::MatchCtState{6}, ir::Verdict{}}, "", {}});
    t.chains.push_back(fwd);
    return t;
}

}  // namespace

TEST_CASE("a flowtable is sent as nft sends it: ingress hook, sorted devices, counter flag") {
    const ir::Table t = table_with_flowtable();
    auto d = emit::build_objects(t);
    REQUIRE(d);
    emit::Plan p = emit::plan_commit(*d, nullptr, 5);
    auto types = message_types(p.batch);
    auto ft = std::find(types.begin(), types.end(), NFT_MSG_NEWFLOWTABLE);
    REQUIRE(ft != types.end());
    // Before the rule that offloads to it (the kernel checks references as it goes).
    CHECK(std::count(types.begin(), ft, NFT_MSG_NEWRULE) == 0);
    CHECK(std::count(ft, types.end(), NFT_MSG_NEWRULE) == 4);
    const nlmsghdr* nlh = p.batch.messages()[static_cast<std::size_t>(ft - types.begin())].header;
    nftnl_flowtable* parsed = nftnl_flowtable_alloc();
    REQUIRE(nftnl_flowtable_nlmsg_parse(nlh, parsed) == 0);
    CHECK(std::string(nftnl_flowtable_get_str(parsed, NFTNL_FLOWTABLE_NAME)) == "fastpath");
    CHECK(nftnl_flowtable_get_u32(parsed, NFTNL_FLOWTABLE_HOOKNUM) == NF_NETDEV_INGRESS);
    CHECK(nftnl_flowtable_get_s32(parsed, NFTNL_FLOWTABLE_PRIO) == 0);
    CHECK(nftnl_flowtable_get_u32(parsed, NFTNL_FLOWTABLE_FLAGS) == NFT_FLOWTABLE_COUNTER);
    const char* const* devs = nftnl_flowtable_get_array(parsed, NFTNL_FLOWTABLE_DEVICES);
    REQUIRE(devs != nullptr);
    CHECK(std::string(devs[0]) == "eth0");
    CHECK(std::string(devs[1]) == "eth1");
    CHECK(devs[2] == nullptr);
    nftnl_flowtable_free(parsed);
    CHECK(std::find(p.changes.begin(), p.changes.end(), "+ flowtable fastpath") != p.changes.end());
}

TEST_CASE("flow add's canonical form survives a netlink trip and names its flowtable") {
    const ir::Table t = table_with_flowtable();
    auto d = emit::build_objects(t);
    REQUIRE(d);
    const emit::DesiredRule& offload = d->chains.back().rules[0];
    auto c = canonical_after_trip(offload);  // the anonymous { tcp, udp } is not resolved here
    const std::string last = "flow_offload flowtable=\"fastpath\"\n";
    CHECK(c.text.ends_with(last));
    CHECK(offload.canonical.text.ends_with(last));
    CHECK(c.objects == std::vector<std::string>{"fastpath"});
}

TEST_CASE("an unchanged flowtable sends nothing on a re-apply") {
    const ir::Table t = table_with_flowtable();
    auto d = emit::build_objects(t);
    REQUIRE(d);
    const emit::ObservedTable o = observed_from(*d);
    emit::Plan p = emit::plan_commit(*d, &o, 5);
    CHECK(p.empty());
    CHECK(p.changes.empty());
}

TEST_CASE("a flowtable whose devices changed is recreated after the chain that offloads to it is flushed") {
    const ir::Table held = table_with_flowtable();  // the desired objects point into it
    auto before = emit::build_objects(held);
    REQUIRE(before);
    const emit::ObservedTable o = observed_from(*before);
    const ir::Table t = table_with_flowtable({"eth0", "eth1", "eth2"});
    auto after = emit::build_objects(t);
    REQUIRE(after);
    emit::Plan p = emit::plan_commit(*after, &o, 5);
    CHECK(message_types(p.batch) == std::vector<int>{NFT_MSG_DELRULE, NFT_MSG_DELFLOWTABLE, NFT_MSG_NEWFLOWTABLE,
                                                     NFT_MSG_NEWSET, NFT_MSG_NEWSETELEM, NFT_MSG_NEWRULE,
                                                     NFT_MSG_NEWRULE});
    CHECK(p.changes == std::vector<std::string>{"~ flowtable fastpath: declaration changed, recreated",
                                                "~ chain forward: rules 2 -> 2"});
}

TEST_CASE("a flowtable deleted by hand is put back; one no longer wanted is deleted after its rule") {
    const ir::Table with = table_with_flowtable();
    auto d = emit::build_objects(with);
    REQUIRE(d);
    emit::ObservedTable o = observed_from(*d);
    o.flowtables.clear();  // the drift: its rule flushed and the flowtable deleted
    o.chains.back().rules.erase(o.chains.back().rules.begin());
    emit::Plan back = emit::plan_commit(*d, &o, 5);
    CHECK(back.changes == std::vector<std::string>{"+ flowtable fastpath", "~ chain forward: rules 1 -> 2"});

    const emit::ObservedTable held = observed_from(*d);
    const ir::Table without = ir::without_flowtable(with);
    auto after = emit::build_objects(without);
    REQUIRE(after);
    emit::Plan gone = emit::plan_commit(*after, &held, 5);
    CHECK(message_types(gone.batch) == std::vector<int>{NFT_MSG_DELRULE, NFT_MSG_DELFLOWTABLE, NFT_MSG_NEWRULE});
    CHECK(gone.changes == std::vector<std::string>{"- flowtable fastpath", "~ chain forward: rules 2 -> 1"});
}
