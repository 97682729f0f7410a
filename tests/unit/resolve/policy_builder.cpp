// PolicyBuilder: hand-built policies with real spans (see policy_builder.h).
#include "policy_builder.h"

#include <cctype>
#include <stdexcept>

namespace nftpolicy::resolve::testing {

using policy::GroupExpr;

// One line of the fake file being written; pieces return their spans.
class PolicyBuilder::Line {
  public:
    Line(const SourceFile* file, std::uint32_t number) : file_(file), number_(number) {}

    void raw(const std::string& s) { text_ += s; }
    SourceSpan piece(const std::string& s) {
        auto begin = column();
        text_ += s;
        return SourceSpan{file_, {number_, begin}, {number_, column() - 1}};
    }
    SourceSpan quoted(const std::string& s) {
        raw("\"");
        auto span = piece(s);
        raw("\"");
        return span;
    }
    std::uint32_t column() const { return static_cast<std::uint32_t>(text_.size()) + 1; }
    std::uint32_t number() const { return number_; }
    const std::string& text() const { return text_; }

  private:
    const SourceFile* file_;
    std::uint32_t number_;
    std::string text_;
};

PolicyBuilder::PolicyBuilder() : file_(std::make_unique<SourceFile>("policy.toml", "")) {}

std::uint32_t PolicyBuilder::next_line() const {
    return static_cast<std::uint32_t>(file_->line_starts.size());
}

// Appends a line; the SourceFile object keeps its address, so spans stay valid.
void PolicyBuilder::commit(const std::string& text) {
    text_ += text + "\n";
    *file_ = SourceFile("policy.toml", text_);
}

std::vector<policy::NameRef> PolicyBuilder::name_list(Line& line,
                                                      const std::vector<std::string>& names) {
    std::vector<policy::NameRef> out;
    line.raw("[");
    for (std::size_t i = 0; i < names.size(); ++i) {
        if (i > 0) line.raw(", ");
        out.push_back(policy::NameRef{names[i], line.quoted(names[i])});
    }
    line.raw("]");
    return out;
}

std::vector<policy::AddressLiteral> PolicyBuilder::address_list(
    Line& line, const std::vector<std::string>& texts) {
    std::vector<policy::AddressLiteral> out;
    line.raw("[");
    for (std::size_t i = 0; i < texts.size(); ++i) {
        if (i > 0) line.raw(", ");
        auto entry = net::parse_address_entry(texts[i]);
        if (!entry) throw std::runtime_error("bad address in test: " + texts[i]);
        out.push_back(policy::AddressLiteral{*entry, texts[i], line.quoted(texts[i])});
    }
    line.raw("]");
    return out;
}

GroupExpr PolicyBuilder::quoted_expr(Line& line, const std::string& text) {
    line.raw("\"");
    auto column = line.column();
    line.raw(text + "\"");
    return parse_expr(text, file_.get(), line.number(), column);
}

PolicyBuilder& PolicyBuilder::group(const std::string& name,
                                    const std::vector<std::string>& addresses) {
    Line line(file_.get(), next_line());
    policy::Group g;
    g.name = name;
    g.span = line.piece(name);
    line.raw(" = ");
    g.definition = address_list(line, addresses);
    policy.groups[name] = g;
    commit(line.text());
    return *this;
}

PolicyBuilder& PolicyBuilder::group_expr(const std::string& name, const std::string& expr) {
    Line line(file_.get(), next_line());
    policy::Group g;
    g.name = name;
    g.span = line.piece(name);
    line.raw(" = ");
    g.definition = quoted_expr(line, expr);
    policy.groups[name] = g;
    commit(line.text());
    return *this;
}

namespace {

policy::PortRange port_range(const std::string& text, SourceSpan span) {
    auto dash = text.find('-');
    auto lo = static_cast<std::uint16_t>(std::stoi(text.substr(0, dash)));
    auto hi = dash == std::string::npos
                  ? lo
                  : static_cast<std::uint16_t>(std::stoi(text.substr(dash + 1)));
    return policy::PortRange{lo, hi, span};
}

}  // namespace

PolicyBuilder& PolicyBuilder::service(const std::string& name, const ServiceSpec& spec) {
    Line line(file_.get(), next_line());
    policy::Service s;
    s.name = name;
    s.span = line.piece(name);
    line.raw(" = { tcp = [");
    for (const auto& port : spec.tcp) s.tcp.push_back(port_range(port, line.piece(port + " ")));
    line.raw("], udp = [");
    for (const auto& port : spec.udp) s.udp.push_back(port_range(port, line.piece(port + " ")));
    line.raw("], icmp = [");
    for (int type : spec.icmp) {
        auto t = std::to_string(type);
        s.icmp.push_back(policy::IcmpType{static_cast<std::uint8_t>(type), t, line.piece(t + " ")});
    }
    line.raw("], icmpv6 = [");
    for (int type : spec.icmpv6) {
        auto t = std::to_string(type);
        s.icmpv6.push_back(
            policy::IcmpType{static_cast<std::uint8_t>(type), t, line.piece(t + " ")});
    }
    line.raw("] }");
    policy.services[name] = s;
    commit(line.text());
    return *this;
}

namespace {

policy::GateRef gate_ref(const std::string& text, SourceSpan span) {
    auto dot = text.find('.');
    if (dot == std::string::npos) return policy::GateRef{text, "", span};
    return policy::GateRef{text.substr(0, dot), text.substr(dot + 1), span};
}

}  // namespace

PolicyBuilder& PolicyBuilder::flow(const FlowSpec& spec) {
    Line line(file_.get(), next_line());
    policy::Flow f;
    f.span = line.piece("[[flows]]");
    line.raw(" id = ");
    f.id = spec.id;
    f.id_span = line.quoted(spec.id);
    line.raw(" from = ");
    f.from = quoted_expr(line, spec.from);
    line.raw(" to = ");
    f.to = quoted_expr(line, spec.to);
    line.raw(" services = ");
    f.services = name_list(line, spec.services);
    if (!spec.retired_by.empty()) {
        line.raw(" retired_by = ");
        f.retired_by = gate_ref(spec.retired_by, line.quoted(spec.retired_by));
    }
    if (!spec.introduced_by.empty()) {
        line.raw(" introduced_by = ");
        f.introduced_by = gate_ref(spec.introduced_by, line.quoted(spec.introduced_by));
    }
    if (spec.optional) line.raw(" optional = true");
    f.optional = spec.optional;
    f.comment = spec.comment;
    policy.flows.push_back(f);
    commit(line.text());
    return *this;
}

PolicyBuilder& PolicyBuilder::migration(const std::string& name,
                                        const std::vector<std::string>& gates,
                                        std::optional<policy::Phase> phase,
                                        const std::vector<std::string>& flipped) {
    Line line(file_.get(), next_line());
    policy::Migration m;
    m.name = name;
    line.raw("[migrations.");
    m.span = line.piece(name);
    line.raw("] gates = ");
    m.gates = name_list(line, gates);
    if (phase) {
        line.raw(" phase = ");
        const char* text = *phase == policy::Phase::legacy    ? "legacy"
                           : *phase == policy::Phase::coexist ? "coexist"
                                                              : "final";
        m.phase_span = line.quoted(text);
        m.phase = phase;
    }
    if (!flipped.empty()) {
        line.raw(" flipped = ");
        m.flipped = name_list(line, flipped);
    }
    policy.migrations[name] = m;
    commit(line.text());
    return *this;
}

policy::Host& PolicyBuilder::add_host(Line& line, const std::string& name, policy::HostMode mode) {
    policy::Host& h = policy.hosts[name];
    h.name = name;
    h.mode = mode;
    line.raw("[hosts.");
    h.span = line.piece(name);
    line.raw("]");
    if (mode == policy::HostMode::gateway) line.raw(" mode = \"gateway\"");
    return h;
}

PolicyBuilder& PolicyBuilder::host_roles(const std::string& name,
                                         const std::vector<std::string>& roles,
                                         policy::HostMode mode) {
    Line line(file_.get(), next_line());
    policy::Host& h = add_host(line, name, mode);
    line.raw(" roles = ");
    h.roles = name_list(line, roles);
    commit(line.text());
    return *this;
}

PolicyBuilder& PolicyBuilder::host_addresses(const std::string& name,
                                             const std::vector<std::string>& addresses,
                                             policy::HostMode mode) {
    Line line(file_.get(), next_line());
    policy::Host& h = add_host(line, name, mode);
    if (!addresses.empty()) {
        line.raw(" addresses = ");
        h.addresses = address_list(line, addresses);
    }
    commit(line.text());
    return *this;
}

PolicyBuilder& PolicyBuilder::zone(const ZoneSpec& spec) {
    if (policy.hosts.empty()) throw std::runtime_error("zone() needs a host first");
    // The host declared last is the one on the line with the highest number.
    policy::Host* host = &policy.hosts.begin()->second;
    for (auto& [name, h] : policy.hosts) {
        if (h.span.begin.line > host->span.begin.line) host = &h;
    }
    Line line(file_.get(), next_line());
    policy::Zone z;
    z.name = spec.name;
    line.raw("[hosts." + host->name + ".zones.");
    z.span = line.piece(spec.name);
    line.raw("] interfaces = ");
    z.interfaces = name_list(line, spec.interfaces);
    if (!spec.networks.empty()) {
        line.raw(" networks = ");
        z.networks = quoted_expr(line, spec.networks);
    }
    host->zones.push_back(z);
    commit(line.text());
    return *this;
}

PolicyBuilder& PolicyBuilder::management(const std::string& from,
                                         const std::vector<std::string>& services) {
    Line line(file_.get(), next_line());
    policy::Management m;
    m.span = line.piece("[management]");
    line.raw(" from = ");
    m.from = quoted_expr(line, from);
    if (!services.empty()) {
        line.raw(" services = ");
        m.services = name_list(line, services);
    }
    policy.management = m;
    commit(line.text());
    return *this;
}

PolicyBuilder& PolicyBuilder::disable(const std::vector<std::string>& ids) {
    Line line(file_.get(), next_line());
    line.raw("disabled_flows = ");
    policy.disabled_flows = name_list(line, ids);
    commit(line.text());
    return *this;
}

PolicyBuilder& PolicyBuilder::egress(bool on) {
    policy.baseline.egress = on;
    return *this;
}

const policy::Flow& PolicyBuilder::flow_named(const std::string& id) const {
    for (const auto& f : policy.flows) {
        if (f.id == id) return f;
    }
    throw std::runtime_error("no flow " + id);
}

// ---- group expressions ----------------------------------------------------

namespace {

// A recursive-descent parser; each result remembers its extent in the text
// (parentheses included) so that a parent's text and span cover them.
class ExprParser {
  public:
    ExprParser(const std::string& text, const SourceFile* file, std::uint32_t line,
               std::uint32_t column)
        : text_(text), file_(file), line_(line), column_(column) {}

    GroupExpr parse() {
        Parsed p = parse_union();
        skip_space();
        if (pos_ != text_.size()) throw std::runtime_error("trailing text in expression: " + text_);
        return p.expr;
    }

  private:
    struct Parsed {
        GroupExpr expr;
        std::size_t begin = 0;
        std::size_t end = 0;  // exclusive
    };

    void skip_space() {
        while (pos_ < text_.size() && text_[pos_] == ' ') ++pos_;
    }

    SourceSpan span(std::size_t begin, std::size_t end) const {
        auto b = static_cast<std::uint32_t>(begin) + column_;
        auto e = static_cast<std::uint32_t>(end - 1) + column_;
        return SourceSpan{file_, {line_, b}, {line_, e}};
    }

    Parsed binary(GroupExpr::Op op, Parsed lhs, Parsed rhs) {
        Parsed p;
        p.begin = lhs.begin;
        p.end = rhs.end;
        p.expr.op = op;
        p.expr.operands = {lhs.expr, rhs.expr};
        p.expr.span = span(p.begin, p.end);
        p.expr.text = text_.substr(p.begin, p.end - p.begin);
        return p;
    }

    Parsed parse_union() {
        Parsed lhs = parse_term();
        for (;;) {
            skip_space();
            if (pos_ >= text_.size() || (text_[pos_] != '|' && text_[pos_] != '-')) return lhs;
            auto op = text_[pos_++] == '|' ? GroupExpr::Op::union_ : GroupExpr::Op::difference;
            lhs = binary(op, lhs, parse_term());
        }
    }

    Parsed parse_term() {
        Parsed lhs = parse_atom();
        for (;;) {
            skip_space();
            if (pos_ >= text_.size() || text_[pos_] != '&') return lhs;
            ++pos_;
            lhs = binary(GroupExpr::Op::intersection, lhs, parse_atom());
        }
    }

    Parsed parse_atom() {
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == '(') {
            std::size_t open = pos_++;
            Parsed inner = parse_union();
            skip_space();
            if (pos_ >= text_.size() || text_[pos_] != ')')
                throw std::runtime_error("missing ) in " + text_);
            inner.begin = open;
            inner.end = ++pos_;
            return inner;
        }
        std::size_t begin = pos_;
        while (pos_ < text_.size() &&
               (std::isalnum(static_cast<unsigned char>(text_[pos_])) || text_[pos_] == '_' ||
                (pos_ > begin && text_[pos_] == '-'))) {
            ++pos_;
        }
        if (pos_ == begin) throw std::runtime_error("expected a name in " + text_);
        Parsed p;
        p.begin = begin;
        p.end = pos_;
        p.expr.name = text_.substr(begin, pos_ - begin);
        p.expr.text = p.expr.name;
        p.expr.span = span(begin, pos_);
        return p;
    }

    const std::string& text_;
    const SourceFile* file_;
    std::uint32_t line_;
    std::uint32_t column_;
    std::size_t pos_ = 0;
};

}  // namespace

GroupExpr parse_expr(const std::string& text, const SourceFile* file, std::uint32_t line,
                     std::uint32_t column) {
    return ExprParser(text, file, line, column).parse();
}

// ---- assertions helpers ---------------------------------------------------

std::vector<std::string> messages(const Diagnostics& diags) {
    std::vector<std::string> out;
    for (const auto& d : diags.all()) out.push_back(d.message);
    return out;
}

std::vector<const ProjectedFlow*> flows_named(const Projection& projection, const std::string& id) {
    std::vector<const ProjectedFlow*> out;
    for (const auto& f : projection.flows) {
        if (f.id == id) out.push_back(&f);
    }
    return out;
}

const ProjectedFlow* find_flow(const Projection& projection, const std::string& id,
                               Direction direction) {
    const ProjectedFlow* found = nullptr;
    for (const auto& f : projection.flows) {
        if (f.id != id || f.direction != direction) continue;
        if (found) throw std::runtime_error("two projected flows " + id);
        found = &f;
    }
    return found;
}

namespace {

const char* direction_name(Direction d) {
    switch (d) {
        case Direction::input:
            return "input";
        case Direction::output:
            return "output";
        case Direction::forward:
            return "forward";
    }
    return "?";
}

}  // namespace

std::vector<std::string> flow_keys(const Projection& projection) {
    std::vector<std::string> out;
    for (const auto& f : projection.flows) out.push_back(f.id + "/" + direction_name(f.direction));
    return out;
}

net::AddrSet addrs(const std::vector<std::string>& entries) {
    net::AddrSet set;
    for (const auto& text : entries) {
        auto entry = net::parse_address_entry(text);
        if (!entry) throw std::runtime_error("bad address in test: " + text);
        set.add(*entry);
    }
    return set;
}

}  // namespace nftpolicy::resolve::testing
