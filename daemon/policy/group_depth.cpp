// Depth of group evaluation: depth(operator) = 1 + its deeper operand;
// depth(reference to an expression group) = 1 + the depth of that group's
// expression; other references are leaves. Each group's depth is computed
// once. The walk itself recurses, but it stops as soon as the levels above
// it pass the limit, so its own recursion is bounded by the limit.
#include "policy/group_depth.h"

#include <algorithm>
#include <optional>
#include <set>

#include <fmt/format.h>

#include "policy/limits.h"

namespace nftpolicy::policy {

namespace {

class DepthCheck {
  public:
    DepthCheck(const std::map<std::string, Group>& groups, Diagnostics& diags)
        : groups_(groups), diags_(diags) {}

    void run() {
        for (const auto& [name, group] : groups_) {
            root_ = &group;
            if (!group_depth(group, 0)) return;  // one report: the rest would repeat it
        }
    }

  private:
    static const GroupExpr* expression(const Group& g) {
        return std::get_if<GroupExpr>(&g.definition);
    }

    // The depth below `g`, entered `level` levels deep; nullopt once reported.
    std::optional<std::size_t> group_depth(const Group& g, std::size_t level) {
        const GroupExpr* e = expression(g);
        if (!e) return 0;
        if (auto it = done_.find(g.name); it != done_.end()) return it->second;
        if (!active_.insert(g.name).second) return 0;  // a cycle: resolve/ reports it
        auto depth = expr_depth(*e, level);
        active_.erase(g.name);
        if (depth) done_[g.name] = *depth;
        return depth;
    }

    std::optional<std::size_t> expr_depth(const GroupExpr& e, std::size_t level) {
        if (e.op == GroupExpr::Op::ref) return ref_depth(e, level);
        std::size_t deepest = 0;
        for (const auto& operand : e.operands) {
            auto d = expr_depth(operand, level + 1);
            if (!d) return std::nullopt;
            deepest = std::max(deepest, *d);
        }
        return 1 + deepest;
    }

    std::optional<std::size_t> ref_depth(const GroupExpr& ref, std::size_t level) {
        auto it = groups_.find(ref.name);
        if (it == groups_.end() || !expression(it->second)) return 0;
        if (level + 1 > limits::kGroupDepth) return report(ref);
        auto below = group_depth(it->second, level + 1);
        if (!below) return std::nullopt;
        if (level + 1 + *below > limits::kGroupDepth) return report(ref);
        return 1 + *below;
    }

    std::nullopt_t report(const GroupExpr& ref) {
        auto& d = diags_.error(
            ref.span, fmt::format("groups nest more than {} levels deep here (each operator "
                                  "and each reference to a group defined by an expression "
                                  "is a level); expected at most {}",
                                  limits::kGroupDepth, limits::kGroupDepth));
        add_note(d, root_->span, fmt::format("reached from group '{}', defined here", root_->name));
        return std::nullopt;
    }

    const std::map<std::string, Group>& groups_;
    Diagnostics& diags_;
    const Group* root_ = nullptr;              // the group whose evaluation is being followed
    std::map<std::string, std::size_t> done_;  // depth below each group computed so far
    std::set<std::string> active_;             // groups on the current path (cycle guard)
};

}  // namespace

void check_group_depth(const std::map<std::string, Group>& groups, Diagnostics& diags) {
    DepthCheck(groups, diags).run();
}

}  // namespace nftpolicy::policy
