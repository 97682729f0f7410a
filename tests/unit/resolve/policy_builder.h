// Builds policy::Policy values by hand for resolve/'s tests, without the TOML
// loader. Every node gets a real span: the builder writes one line of
// TOML-like text per node into a fake "policy.toml", so diagnostics render
// with a source line and caret and tests can assert them verbatim.
//
//   PolicyBuilder b;
//   b.group("backend", {"10.20.0.11"}).host_roles("web1", {"backend"});
//   b.flow({.id = "https", .from = "any", .to = "backend", .services = {"https"}});
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "policy/model.h"
#include "resolve/projection.h"
#include "support/diagnostic.h"

namespace nftpolicy::resolve::testing {

struct FlowSpec {
    std::string id{};
    std::string from{};
    std::string to{};
    std::vector<std::string> services{};
    std::string retired_by{};     // "m.g" or "m"; empty: none
    std::string introduced_by{};  // likewise
    std::string comment{};
    bool optional = false;
};

struct ServiceSpec {
    std::vector<std::string> tcp{};  // "443" or "3000-3010"
    std::vector<std::string> udp{};
    std::vector<int> icmp{};
    std::vector<int> icmpv6{};
};

struct ZoneSpec {
    std::string name{};
    std::vector<std::string> interfaces{};
    std::string networks{};  // empty: none
};

class PolicyBuilder {
  public:
    PolicyBuilder();

    policy::Policy policy;

    PolicyBuilder& group(const std::string& name, const std::vector<std::string>& addresses);
    PolicyBuilder& group_expr(const std::string& name, const std::string& expr);
    PolicyBuilder& service(const std::string& name, const ServiceSpec& spec);
    PolicyBuilder& flow(const FlowSpec& spec);
    PolicyBuilder& migration(const std::string& name, const std::vector<std::string>& gates,
                             std::optional<policy::Phase> phase = std::nullopt,
                             const std::vector<std::string>& flipped = {});
    PolicyBuilder& host_roles(const std::string& name, const std::vector<std::string>& roles,
                              policy::HostMode mode = policy::HostMode::host);
    PolicyBuilder& host_addresses(const std::string& name,
                                  const std::vector<std::string>& addresses,
                                  policy::HostMode mode = policy::HostMode::host);
    // Adds a zone to the host declared last.
    PolicyBuilder& zone(const ZoneSpec& spec);
    PolicyBuilder& management(const std::string& from,
                              const std::vector<std::string>& services = {});
    PolicyBuilder& disable(const std::vector<std::string>& ids);
    PolicyBuilder& egress(bool on);

    // The line the next node will be written on (1-based).
    std::uint32_t next_line() const;
    const SourceFile& file() const { return *file_; }
    // The flow with this id (valid until the next flow is added).
    const policy::Flow& flow_named(const std::string& id) const;

  private:
    class Line;
    void commit(const std::string& text);
    std::vector<policy::NameRef> name_list(Line& line, const std::vector<std::string>& names);
    std::vector<policy::AddressLiteral> address_list(Line& line,
                                                     const std::vector<std::string>& texts);
    policy::GroupExpr quoted_expr(Line& line, const std::string& text);
    policy::Host& add_host(Line& line, const std::string& name, policy::HostMode mode);

    std::unique_ptr<SourceFile> file_;
    std::string text_;
};

// Parses a group expression written at `line`, starting at column `column`:
// names, `&` (binds tighter), `|` and ` - ` (left-associative), parentheses.
// Sub-expression spans and texts point into that text.
policy::GroupExpr parse_expr(const std::string& text, const SourceFile* file, std::uint32_t line,
                             std::uint32_t column);

// The rendered messages of every diagnostic, in order.
std::vector<std::string> messages(const Diagnostics& diags);

// The projected flows with this id, in order.
std::vector<const ProjectedFlow*> flows_named(const Projection& projection, const std::string& id);
// The only projected flow with this id and direction, or nullptr.
const ProjectedFlow* find_flow(const Projection& projection, const std::string& id,
                               Direction direction);
// "id/input", "id/output", ... for every projected flow.
std::vector<std::string> flow_keys(const Projection& projection);

// An address set from entries ("10.0.0.0/8", "fd00::/48").
net::AddrSet addrs(const std::vector<std::string>& entries);

}  // namespace nftpolicy::resolve::testing
