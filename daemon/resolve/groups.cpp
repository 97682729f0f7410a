// Group evaluation: literal groups are the union of their entries, expression
// groups are evaluated recursively with the AddrSet algebra of net/.
#include "resolve/groups.h"

#include <algorithm>
#include <cassert>

#include "resolve/suggest.h"

namespace nftpolicy::resolve {

using policy::GroupExpr;

GroupEvaluator::GroupEvaluator(const policy::Policy& policy, Diagnostics& diags)
    : policy_(policy), diags_(diags) {}

void GroupEvaluator::evaluate_all() {
    for (const auto& [name, group] : policy_.groups) {
        if (name != policy::kGroupAny) evaluate_group(group);
    }
}

std::optional<net::AddrSet> GroupEvaluator::evaluate(const GroupExpr& expr) {
    if (expr.op == GroupExpr::Op::ref) return evaluate_ref(expr);
    assert(expr.operands.size() == 2);
    // Both operands are evaluated even when the first fails, so that every
    // unknown name of the expression is reported in one run.
    auto lhs = evaluate(expr.operands[0]);
    auto rhs = evaluate(expr.operands[1]);
    if (!lhs || !rhs) return std::nullopt;
    switch (expr.op) {
        case GroupExpr::Op::ref:
            break;  // handled above
        case GroupExpr::Op::union_:
            return net::set_union(*lhs, *rhs);
        case GroupExpr::Op::intersection:
            return net::set_intersection(*lhs, *rhs);
        case GroupExpr::Op::difference:
            return net::set_difference(*lhs, *rhs);
    }
    return std::nullopt;
}

std::optional<net::AddrSet> GroupEvaluator::evaluate_used(const GroupExpr& expr) {
    auto value = evaluate(expr);
    if (value && value->empty()) {
        report_empty(expr);
        return std::nullopt;
    }
    return value;
}

bool GroupEvaluator::is_defined(const std::string& name) const {
    return name == policy::kGroupAny || policy_.groups.count(name) > 0;
}

std::vector<std::string> GroupEvaluator::names() const {
    std::vector<std::string> names = keys_of(policy_.groups);
    if (!policy_.groups.count(policy::kGroupAny)) names.push_back(policy::kGroupAny);
    return names;
}

const GroupExpr* GroupEvaluator::expression_of(const std::string& name) const {
    if (name == policy::kGroupAny) return nullptr;
    auto it = policy_.groups.find(name);
    if (it == policy_.groups.end()) return nullptr;
    return std::get_if<GroupExpr>(&it->second.definition);
}

std::optional<net::AddrSet> GroupEvaluator::evaluate_ref(const GroupExpr& ref) {
    // `any` is built in and wins over a declaration (the loader rejects one).
    if (ref.name == policy::kGroupAny) return net::AddrSet::everything();
    auto it = policy_.groups.find(ref.name);
    if (it == policy_.groups.end()) {
        diags_.error(ref.span,
                     "unknown group '" + ref.name + "'" + did_you_mean(ref.name, names()));
        return std::nullopt;
    }
    auto memo = memo_.find(ref.name);
    if (memo != memo_.end() && memo->second.state == State::in_progress) {
        report_cycle(ref);
        return std::nullopt;
    }
    return evaluate_group(it->second);
}

std::optional<net::AddrSet> GroupEvaluator::evaluate_group(const policy::Group& group) {
    auto memo = memo_.find(group.name);
    if (memo != memo_.end()) {
        // in_progress cannot happen here: evaluate_ref reports cycles first.
        if (memo->second.state == State::done) return memo->second.value;
        return std::nullopt;
    }
    memo_[group.name] = Entry{};
    stack_.push_back(group.name);
    auto value = evaluate_definition(group);
    stack_.pop_back();
    Entry& entry = memo_[group.name];
    entry.state = value ? State::done : State::failed;
    if (value) entry.value = *value;
    return value;
}

std::optional<net::AddrSet> GroupEvaluator::evaluate_definition(const policy::Group& group) {
    if (const auto* expr = std::get_if<GroupExpr>(&group.definition)) return evaluate(*expr);
    if (const auto* file = std::get_if<policy::AddressFile>(&group.definition)) return file->addrs;
    std::vector<net::AddressEntry> entries;
    for (const auto& literal : std::get<std::vector<policy::AddressLiteral>>(group.definition)) {
        entries.push_back(literal.entry);
    }
    return net::AddrSet::from_entries(entries);
}

// "group cycle: a -> b -> a", at the declaration of the group the cycle
// starts from, with a note at the reference that closes it.
void GroupEvaluator::report_cycle(const GroupExpr& ref) {
    auto start = std::find(stack_.begin(), stack_.end(), ref.name);
    assert(start != stack_.end());
    std::string path;
    for (auto it = start; it != stack_.end(); ++it) path += *it + " -> ";
    path += ref.name;
    auto& d = diags_.error(policy_.groups.at(ref.name).span, "group cycle: " + path);
    add_note(d, ref.span, "'" + stack_.back() + "' refers back to '" + ref.name + "' here");
}

// The expression is valid but matches nothing; point at the groups that make
// it empty so the user sees which inventory entry is missing.
Diagnostic& GroupEvaluator::report_empty(const GroupExpr& expr) {
    auto& d =
        diags_.error(expr.span, "group expression '" + expr.text + "' resolves to no address");
    std::vector<std::string> groups = referenced_groups(expr);
    if (groups.size() > 1) add_note(d, {}, "the expression combines groups " + quoted_list(groups));
    for (const auto& name : groups) {
        auto memo = memo_.find(name);
        if (memo != memo_.end() && memo->second.state == State::done &&
            memo->second.value.empty()) {
            add_note(d, policy_.groups.at(name).span, "group '" + name + "' has no address");
        }
    }
    return d;
}

namespace {

void collect_groups(const GroupExpr& expr, std::vector<std::string>& out) {
    if (expr.op != GroupExpr::Op::ref) {
        for (const auto& operand : expr.operands) collect_groups(operand, out);
        return;
    }
    if (std::find(out.begin(), out.end(), expr.name) == out.end()) out.push_back(expr.name);
}

}  // namespace

namespace {

void add_sources(const policy::Group& group, std::vector<AddrSource>& out) {
    if (const auto* file = std::get_if<policy::AddressFile>(&group.definition)) {
        out.push_back(AddrSource{file->addrs, file->span});
        return;
    }
    if (const auto* literals = std::get_if<std::vector<policy::AddressLiteral>>(&group.definition)) {
        for (const auto& literal : *literals) out.push_back(AddrSource{net::AddrSet::of(literal.entry), literal.span});
    }
}

}  // namespace

std::vector<AddrSource> GroupEvaluator::sources(const GroupExpr& expr) const {
    std::vector<AddrSource> out;
    std::vector<std::string> pending = referenced_groups(expr);
    std::vector<std::string> done;
    // Expression groups add the groups they name; `done` also stops a cycle.
    while (!pending.empty()) {
        std::string name = pending.front();
        pending.erase(pending.begin());
        if (std::find(done.begin(), done.end(), name) != done.end()) continue;
        done.push_back(name);
        auto it = policy_.groups.find(name);
        if (name == policy::kGroupAny || it == policy_.groups.end()) continue;
        if (const GroupExpr* inner = expression_of(name)) {
            std::vector<std::string> more = referenced_groups(*inner);
            pending.insert(pending.begin(), more.begin(), more.end());
        }
        add_sources(it->second, out);
    }
    return out;
}

std::vector<std::string> referenced_groups(const GroupExpr& expr) {
    std::vector<std::string> out;
    collect_groups(expr, out);
    return out;
}

}  // namespace nftpolicy::resolve
