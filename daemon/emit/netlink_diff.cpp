// Desired vs observed -> one batch; see netlink_diff.h.
//
// Message order inside the batch matters because the kernel checks
// references as it goes: rules are flushed before the sets, counters and
// chains they reference are deleted; chains exist before map elements and
// rules jump to them; sets exist before the rules that look them up.
#include "emit/netlink_diff.h"

#include <linux/netfilter/nf_tables.h>

#include <algorithm>
#include <map>
#include <set>
#include <span>
#include <tuple>

#include "emit/netlink_encode.h"
#include "emit/provenance.h"

namespace nftpolicy::emit {

namespace {

const std::string& name_of(const ObservedChain& c) { return c.name; }
const std::string& name_of(const ObservedSet& s) { return s.def.name; }
const std::string& name_of(const ObservedCounter& c) { return c.name; }

template <typename T>
const T* find_named(const std::vector<T>& items, const std::string& name) {
    for (const T& item : items) {
        if (name_of(item) == name) return &item;
    }
    return nullptr;
}

bool same_rules(const DesiredChain& want, const ObservedChain& have) {
    if (want.rules.size() != have.rules.size()) return false;
    for (std::size_t i = 0; i < want.rules.size(); ++i) {
        if (want.rules[i].canonical.text != have.rules[i].canonical.text) return false;
    }
    return true;
}

bool same_hook(const BaseDef& a, const BaseDef& b) {
    return a.hooknum == b.hooknum && a.prio == b.prio && a.type == b.type;
}

MessageOrigin origin(const SourceSpan& span, std::string what) { return MessageOrigin{span, std::move(what)}; }

// Element messages name the element a kernel error points at, and its entry.
MessageOrigin element_origin(const DesiredSet& s) {
    MessageOrigin o = origin(s.span, "elements of set " + s.def.name);
    if (s.addr != nullptr) o.element = address_elements(*s.addr);
    if (s.map != nullptr) o.element = map_elements(*s.map);
    return o;
}

// Hands out the elements of a sorted vector one at a time, like
// IntervalElements does for an interval list.
template <typename Elem>
class VectorElements {
public:
    explicit VectorElements(const std::vector<Elem>& elems) : elems_(elems) {}
    const Elem* next() { return i_ < elems_.size() ? &elems_[i_++] : nullptr; }

private:
    const std::vector<Elem>& elems_;
    std::size_t i_ = 0;
};

// Walks the desired elements against the observed ones (both ascending,
// from cursors), reporting those only on one side.
template <typename Want, typename Have, typename OnlyWant, typename OnlyHave>
void merge_walk(Want want, Have have, OnlyWant&& only_want, OnlyHave&& only_have) {
    auto w = want.next();
    auto h = have.next();
    while (w != nullptr && h != nullptr) {
        if (*h < *w) {
            only_have(*h);
            h = have.next();
        } else if (*w < *h) {
            only_want(*w);
            w = want.next();
        } else {
            w = want.next();
            h = have.next();
        }
    }
    for (; w != nullptr; w = want.next()) only_want(*w);
    for (; h != nullptr; h = have.next()) only_have(*h);
}

struct Planner {
    Planner(const DesiredTable& w, const ObservedTable& h, std::uint32_t first_seq)
        : want(w), have(h), plan{Batch(first_seq), {}} {}

    const DesiredTable& want;
    const ObservedTable& have;
    Plan plan;

    // Decisions, by name.
    std::set<std::string> flush_chains, delete_chains, create_chains, fill_chains;
    std::vector<const DesiredChain*> policy_updates;
    std::set<std::string> delete_sets, create_sets, delete_counters, delete_flowtables;
    bool create_flowtable = false;
    std::map<std::string, const ObservedCounter*> create_counters;  // observed: values to carry over
    std::vector<std::pair<const DesiredSet*, const ObservedSet*>> element_diffs;
    std::set<std::string> replaced_refs;  // sets/counters recreated: their users must be rebuilt

    void decide_counters() {
        for (const DesiredCounter& c : want.counters) {
            const ObservedCounter* o = find_named(have.counters, c.name);
            if (o == nullptr) {
                create_counters[c.name] = nullptr;
                plan.changes.push_back("+ counter " + c.name);
            } else if (o->udata != c.udata) {
                delete_counters.insert(c.name);
                create_counters[c.name] = o;
                replaced_refs.insert(c.name);
                plan.changes.push_back("~ counter " + c.name + ": recreated, values kept");
            }
        }
        for (const ObservedCounter& o : have.counters) {
            if (std::none_of(want.counters.begin(), want.counters.end(), [&](const auto& c) { return c.name == o.name; })) {
                delete_counters.insert(o.name);
                plan.changes.push_back("- counter " + o.name);
            }
        }
    }

    void decide_sets() {
        for (const DesiredSet& s : want.sets) {
            const ObservedSet* o = find_named(have.sets, s.def.name);
            if (o == nullptr) {
                create_sets.insert(s.def.name);
                plan.changes.push_back("+ set " + s.def.name);
            } else if (!same_definition(s.def, o->def)) {
                delete_sets.insert(s.def.name);
                create_sets.insert(s.def.name);
                replaced_refs.insert(s.def.name);
                plan.changes.push_back("~ set " + s.def.name + ": declaration changed, recreated" +
                                       (is_dynamic(o->def) ? " empty" : ""));
            } else if (!is_dynamic(s.def)) {
                element_diffs.emplace_back(&s, o);
            }
        }
        for (const ObservedSet& o : have.sets) {
            if (std::none_of(want.sets.begin(), want.sets.end(), [&](const auto& s) { return s.def.name == o.def.name; })) {
                delete_sets.insert(o.def.name);
                plan.changes.push_back("- set " + o.def.name);
            }
        }
    }

    // A flowtable whose declaration changed is recreated (the flows it had
    // offloaded go back to the forward chain until offloaded again; their
    // conntrack entries and counters stay). The chains that offload to a
    // flowtable going away are flushed first, as for a recreated set.
    void decide_flowtables() {
        const DesiredFlowtable* w = want.flowtable ? &*want.flowtable : nullptr;
        for (const FlowtableDef& o : have.flowtables) {
            if (w != nullptr && o == w->def) continue;
            delete_flowtables.insert(o.name);
            replaced_refs.insert(o.name);
            const bool recreated = w != nullptr && o.name == w->def.name;
            plan.changes.push_back(recreated ? "~ flowtable " + o.name + ": declaration changed, recreated"
                                             : "- flowtable " + o.name);
        }
        if (w == nullptr) return;
        const bool held = std::any_of(have.flowtables.begin(), have.flowtables.end(),
                                      [&](const FlowtableDef& o) { return o == w->def; });
        if (held) return;
        create_flowtable = true;
        if (!delete_flowtables.count(w->def.name)) plan.changes.push_back("+ flowtable " + w->def.name);
    }

    bool uses_replaced(const ObservedChain& c) const {
        for (const ObservedRule& r : c.rules) {
            for (const std::string& s : r.canonical.sets) {
                if (replaced_refs.count(s)) return true;
            }
            for (const std::string& s : r.canonical.objects) {
                if (replaced_refs.count(s)) return true;
            }
        }
        return false;
    }

    void decide_chain(const DesiredChain& c) {
        const ObservedChain* o = find_named(have.chains, c.name);
        if (o == nullptr) {
            create_chains.insert(c.name);
            fill_chains.insert(c.name);
            plan.changes.push_back("+ chain " + c.name + " (" + std::to_string(c.rules.size()) + " rules)");
            return;
        }
        if (c.base.has_value() != o->base.has_value() || (c.base && !same_hook(*c.base, *o->base))) {
            flush_chains.insert(c.name);
            delete_chains.insert(c.name);
            create_chains.insert(c.name);
            fill_chains.insert(c.name);
            plan.changes.push_back("~ chain " + c.name + ": hook changed, recreated");
            return;
        }
        if (c.base && c.base->policy != o->base->policy) {
            policy_updates.push_back(&c);
            plan.changes.push_back("~ chain " + c.name + ": policy changed");
        }
        if (!same_rules(c, *o) || uses_replaced(*o)) {
            flush_chains.insert(c.name);
            fill_chains.insert(c.name);
            plan.changes.push_back("~ chain " + c.name + ": rules " + std::to_string(o->rules.size()) + " -> " +
                                   std::to_string(c.rules.size()));
        }
    }

    void decide_chains() {
        for (const DesiredChain& c : want.chains) decide_chain(c);
        for (const ObservedChain& o : have.chains) {
            if (std::none_of(want.chains.begin(), want.chains.end(), [&](const auto& c) { return c.name == o.name; })) {
                flush_chains.insert(o.name);
                delete_chains.insert(o.name);
                plan.changes.push_back("- chain " + o.name);
            }
        }
    }

    // ---- encoding, in dependency order ----------------------------------

    // Deletions (add == false) or additions of one kept set's elements.
    std::size_t write_element_diff(const DesiredSet& s, const ObservedSet& o, bool add) {
        encode::ElementWriter w(plan.batch, add, want.name, s.def, 0, element_origin(s));
        if (s.def.flags & NFT_SET_MAP) {
            merge_walk(VectorElements<MapElem>(s.map_elements), VectorElements<MapElem>(o.map_elements),
                       [&](const MapElem& e) { if (add) w.put(e); }, [&](const MapElem& e) { if (!add) w.put(e); });
            return w.count();
        }
        auto only_want = [&](const KeyElem& e) { if (add) w.put(e); };
        auto only_have = [&](const KeyElem& e) { if (!add) w.put(e); };
        const net::IntervalList none;
        const net::IntervalList& wanted = s.addr ? s.addr->elements : none;
        const net::Family family = s.addr ? s.addr->family : net::Family::ipv4;
        const bool interval = (s.def.flags & NFT_SET_INTERVAL) != 0;
        if (!o.known) {
            merge_walk(IntervalElements(wanted, family, interval), VectorElements<KeyElem>(o.elements), only_want,
                       only_have);
            return w.count();
        }
        // Both sides are normalized interval lists (disjoint, not adjacent):
        // each interval gives its own elements, so the elements only one side
        // holds are among those of the intervals only one side holds
        // (net::diff_lists: a walk that skips the chunks both lists share).
        // nft's leading marker belongs to the whole list: compared first.
        const net::IntervalList& held = o.known->intervals;
        const net::ListDiff d = net::diff_lists(wanted, held);
        if (!interval) {
            for (const net::Interval& iv : d.only_a) only_want(KeyElem{iv.lo, false});
            for (const net::Interval& iv : d.only_b) only_have(KeyElem{iv.lo, false});
            return w.count();
        }
        auto has_marker = [](const net::IntervalList& ivs) { return !ivs.empty() && ivs.front().lo != 0; };
        if (has_marker(wanted) != has_marker(held)) {
            const KeyElem marker{0, true};
            has_marker(wanted) ? only_want(marker) : only_have(marker);
        }
        merge_walk(IntervalElements(d.only_a.begin(), d.only_a.end(), family, false, interval),
                   IntervalElements(d.only_b.begin(), d.only_b.end(), o.known->family, false, interval), only_want,
                   only_have);
        return w.count();
    }

    void write_new_set(const DesiredSet& s) {
        encode::new_set(plan.batch, want.name, s.def, s.id, origin(s.span, "set " + s.def.name));
        if (is_dynamic(s.def)) return;  // the packet path fills it
        encode::ElementWriter w(plan.batch, true, want.name, s.def, s.id, element_origin(s));
        if (s.def.flags & NFT_SET_MAP) {
            for (const MapElem& e : s.map_elements) w.put(e);
        } else if (s.addr != nullptr) {
            IntervalElements elements(s.addr->elements, s.addr->family, s.addr->interval);
            while (const KeyElem* e = elements.next()) w.put(*e);
        }
    }

    void write_deletions(std::map<std::string, std::size_t>& removed) {
        for (const ObservedChain& o : have.chains) {
            if (flush_chains.count(o.name) && !o.rules.empty()) encode::flush_chain(plan.batch, want.name, o.name);
        }
        for (auto [s, o] : element_diffs) removed[s->def.name] = write_element_diff(*s, *o, false);
        for (const std::string& name : delete_sets) encode::del_set(plan.batch, want.name, name);
        for (const std::string& name : delete_counters) encode::del_counter(plan.batch, want.name, name);
        for (const std::string& name : delete_flowtables) encode::del_flowtable(plan.batch, want.name, name);
        for (const ObservedChain& o : have.chains) {
            if (delete_chains.count(o.name)) encode::del_chain(plan.batch, want.name, o.name);
        }
    }

    void write_additions(std::map<std::string, std::size_t>& added) {
        for (const DesiredChain& c : want.chains) {
            if (create_chains.count(c.name)) {
                encode::new_chain(plan.batch, want.name, c.name, c.base, origin(c.span, "chain " + c.name));
            }
        }
        for (const DesiredChain* c : policy_updates) {
            encode::new_chain(plan.batch, want.name, c->name, c->base, origin(c->span, "policy of chain " + c->name));
        }
        for (const DesiredCounter& c : want.counters) {
            auto it = create_counters.find(c.name);
            if (it == create_counters.end()) continue;
            const ObservedCounter* old = it->second;
            encode::new_counter(plan.batch, want.name, c, old ? old->packets : 0, old ? old->bytes : 0);
        }
        for (const DesiredSet& s : want.sets) {
            if (create_sets.count(s.def.name)) write_new_set(s);
        }
        if (create_flowtable) {
            const DesiredFlowtable& f = *want.flowtable;
            encode::new_flowtable(plan.batch, want.name, f.def, origin(f.span, "flowtable " + f.def.name));
        }
        for (auto [s, o] : element_diffs) added[s->def.name] = write_element_diff(*s, *o, true);
        for (const DesiredChain& c : want.chains) {
            if (!fill_chains.count(c.name)) continue;
            for (std::size_t i = 0; i < c.rules.size(); ++i) {
                const DesiredRule& r = c.rules[i];
                encode::new_rule(plan.batch, want.name, r,
                                 origin(r.span, "rule " + std::to_string(i + 1) + " of chain " + c.name));
            }
        }
    }

    void summarize_elements(const std::map<std::string, std::size_t>& added,
                            const std::map<std::string, std::size_t>& removed) {
        for (auto [s, o] : element_diffs) {
            const std::size_t a = added.at(s->def.name);
            const std::size_t r = removed.at(s->def.name);
            if (a + r == 0) continue;
            plan.changes.push_back("~ set " + s->def.name + ": +" + std::to_string(a) + " -" + std::to_string(r) +
                                   " elements");
        }
    }
};

}  // namespace

Plan plan_commit(const DesiredTable& desired, const ObservedTable* observed, std::uint32_t genid,
                 std::uint32_t first_seq) {
    const ObservedTable empty{desired.name, genid, {}, {}, {}, {}};
    Planner p(desired, observed != nullptr ? *observed : empty, first_seq);
    if (observed == nullptr) {
        encode::new_table(p.plan.batch, desired.name);
        p.plan.changes.push_back("+ table inet " + desired.name);
    }
    p.decide_counters();
    p.decide_sets();
    p.decide_flowtables();
    p.decide_chains();
    std::map<std::string, std::size_t> added, removed;
    p.write_deletions(removed);
    p.write_additions(added);
    p.summarize_elements(added, removed);
    p.plan.batch.close(genid);
    return std::move(p.plan);
}

}  // namespace nftpolicy::emit
