// Group evaluation: named groups and group expressions -> address sets.
//
// Every named group is evaluated at most once (memoized), so a cycle or an
// unknown name inside a group definition is reported once, at the place it is
// written, however many flows use the group. A group that failed evaluates to
// nullopt from then on, so its users do not repeat the error.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "net/addr.h"
#include "policy/model.h"
#include "resolve/projection.h"
#include "support/diagnostic.h"

namespace nftpolicy::resolve {

class GroupEvaluator {
  public:
    GroupEvaluator(const policy::Policy& policy, Diagnostics& diags);

    // Evaluates every declared group, so that unused groups are checked too
    // (they may be empty: profiles declare placeholders).
    void evaluate_all();

    // The value of an expression, or nullopt after reporting why it has none.
    std::optional<net::AddrSet> evaluate(const policy::GroupExpr& expr);

    // `evaluate`, plus an error when the result is empty: an expression a
    // flow, the management access or a zone uses must match something.
    std::optional<net::AddrSet> evaluate_used(const policy::GroupExpr& expr);

    // Reports that `expr` (already evaluated) resolves to no address, with a
    // note at each empty group it uses; callers add their own notes.
    Diagnostic& report_empty(const policy::GroupExpr& expr);

    // True for declared groups and the built-in `any`.
    bool is_defined(const std::string& name) const;
    // Every group name a reference may use (for "did you mean").
    std::vector<std::string> names() const;
    // The group expression a group is defined by, or nullptr (literal, built-in, unknown).
    const policy::GroupExpr* expression_of(const std::string& name) const;
    // Where the addresses an expression can match were written: each literal
    // entry and address file of the groups it names, through expression
    // groups, in policy order (`any` has none). Call after evaluating it.
    std::vector<AddrSource> sources(const policy::GroupExpr& expr) const;

  private:
    enum class State { in_progress, done, failed };
    struct Entry {
        State state = State::in_progress;
        net::AddrSet value;
    };

    std::optional<net::AddrSet> evaluate_ref(const policy::GroupExpr& ref);
    std::optional<net::AddrSet> evaluate_group(const policy::Group& group);
    std::optional<net::AddrSet> evaluate_definition(const policy::Group& group);
    void report_cycle(const policy::GroupExpr& ref);

    const policy::Policy& policy_;
    Diagnostics& diags_;
    std::map<std::string, Entry> memo_;
    std::vector<std::string> stack_;  // groups being evaluated, outermost first
};

// The distinct group names an expression mentions, in first-use order.
std::vector<std::string> referenced_groups(const policy::GroupExpr& expr);

}  // namespace nftpolicy::resolve
