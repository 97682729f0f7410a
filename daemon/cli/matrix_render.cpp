// Text, JSON and DOT renderings of the matrix; see matrix_render.h.
#include "cli/matrix_render.h"

#include <algorithm>

#include <fmt/format.h>

#include "resolve/phases.h"

namespace nftpolicy::cli {

using matrix::Cell;
using matrix::Change;
using matrix::Entry;
using matrix::Matrix;
using matrix::Status;
using matrix::Step;
using matrix::StepKind;

namespace {

std::string join(const std::vector<std::string>& parts, const std::string& sep) {
    std::string out;
    for (const auto& part : parts) out += (out.empty() ? "" : sep) + part;
    return out;
}

std::vector<std::string> port_list(const std::vector<policy::PortRange>& ports) {
    std::vector<std::string> out;
    for (const auto& p : ports)
        out.push_back(p.lo == p.hi ? fmt::format("{}", p.lo) : fmt::format("{}-{}", p.lo, p.hi));
    return out;
}

std::vector<std::string> icmp_list(const std::vector<policy::IcmpType>& types) {
    std::vector<std::string> out;
    for (const auto& t : types) out.push_back(t.name);
    return out;
}

// "-" legacy (goes at a step), "+" new, "*" permanent.
char mark(Status status) {
    switch (status) {
        case Status::permanent:
            return '*';
        case Status::legacy:
            return '-';
        case Status::introduced:
            return '+';
    }
    std::abort();  // not a Status
}

std::string phases_text(const Matrix& m) {
    std::vector<std::string> parts;
    for (const auto& [name, phase] : m.phases)
        parts.push_back(name + " " + resolve::phase_name(phase));
    return parts.empty() ? "no migration" : join(parts, ", ");
}

std::string flipped_text(const Matrix& m) {
    if (m.flipped_gates.empty()) return "no gate flipped";
    return "flipped: " + join({m.flipped_gates.begin(), m.flipped_gates.end()}, ", ");
}

// What `entry` is, after its mark and ports: "ses-agent-msrpc, until
// ses-2_7.agents-migrated"; the flow id only when it differs from the service.
std::string entry_words(const Entry& e) {
    std::string text = e.service.name;
    if (e.flow != e.service.name) text += " (flow " + e.flow + ")";
    if (!e.ipv4 || !e.ipv6) text += e.ipv4 ? ", IPv4 only" : ", IPv6 only";
    if (e.status == Status::legacy) text += ", until " + e.gate;
    if (e.status == Status::introduced) text += ", since " + e.gate;
    return text;
}

std::string entry_line(const Entry& e, std::size_t indent) {
    const std::string head = fmt::format("{}{} {:<14} ", std::string(indent, ' '), mark(e.status),
                                         ports_text(e.service));
    return wrap(head + entry_words(e), indent + 4);
}

// The cell's marks: "*", "-", "+" for each kind present, in that order.
std::string cell_marks(const Cell& cell) {
    std::string marks;
    for (char c : {'*', '-', '+'}) {
        for (const auto& e : cell.entries) {
            if (mark(e.status) == c) {
                marks += c;
                break;
            }
        }
    }
    return marks;
}

// The grid: one row and one column per node, a cell showing the marks of
// what flows from the row to the column. Rows are labelled by number and
// name, the name cut to what fits in kTextWidth.
std::string grid_text(const Matrix& m) {
    const std::size_t n = m.nodes.size();
    const std::size_t cells_width = 4 * n;
    if (n == 0) return {};
    if (4 + cells_width + 8 > kTextWidth) {
        return fmt::format("({} nodes do not fit a grid in {} columns: see the list below)\n\n", n,
                           kTextWidth);
    }
    std::size_t label = 0;
    for (const auto& node : m.nodes) label = std::max(label, node.name.size());
    label = std::min(label, kTextWidth - 4 - cells_width - 1);
    std::vector<std::string> grid(n * n, ".");
    for (const auto& cell : m.cells) grid[cell.from * n + cell.to] = cell_marks(cell);
    std::string out = fmt::format("{:>{}}", "", 4 + label);
    for (std::size_t c = 0; c < n; ++c) out += fmt::format("{:>4}", c + 1);
    out += '\n';
    for (std::size_t r = 0; r < n; ++r) {
        std::string name = m.nodes[r].name;
        if (name.size() > label) name = name.substr(0, label - 1) + "~";
        out += fmt::format("{:>2}  {:<{}}", r + 1, name, label);
        for (std::size_t c = 0; c < n; ++c) out += fmt::format("{:>4}", grid[r * n + c]);
        out += '\n';
    }
    return out + "\n";
}

std::string cells_text(const Matrix& m) {
    std::string out;
    for (const auto& cell : m.cells) {
        out += wrap(m.nodes[cell.from].name + " -> " + m.nodes[cell.to].name, 4) + '\n';
        for (const auto& e : cell.entries) out += entry_line(e, 2) + '\n';
    }
    return out.empty() ? "nothing flows\n" : out;
}

std::string change_line(const Matrix& m, const Change& c, char sign) {
    const std::string head = fmt::format("      {} {} -> {}: {} ", sign, m.nodes[c.from].name,
                                         m.nodes[c.to].name, ports_text(c.entry.service));
    return wrap(head + c.entry.service.name, 10) + '\n';
}

std::string step_title(const Step& step) {
    switch (step.kind) {
        case StepKind::coexist:
            return "phase coexist";
        case StepKind::gate:
            return "gate " + step.gate;
        case StepKind::final_:
            return "phase final";
    }
    std::abort();  // not a StepKind
}

std::string step_text(const Matrix& m, const Step& step) {
    std::string out = fmt::format("  {} {}", step.done ? "[x]" : "[ ]", step_title(step));
    if (step.added.empty() && step.removed.empty()) return out + ": no change\n";
    out += ":\n";
    for (const auto& c : step.removed) out += change_line(m, c, '-');
    for (const auto& c : step.added) out += change_line(m, c, '+');
    return out;
}

std::string steps_text(const Matrix& m) {
    std::string out;
    for (const auto& mig : m.migrations) {
        out += fmt::format("\nmigration {}: phase {} ([x] done, [ ] to come)\n", mig.name,
                           resolve::phase_name(mig.phase));
        for (const auto& step : mig.steps) out += step_text(m, step);
    }
    return out;
}

std::string omitted_text(const Matrix& m) {
    std::string out;
    for (const auto& o : m.omitted)
        out += wrap(fmt::format("left out: optional flow {}: {}", o.id, o.reason), 4) + '\n';
    return out.empty() ? out : "\n" + out;
}

}  // namespace

std::string ports_text(const policy::Service& s) {
    std::vector<std::string> parts;
    if (!s.tcp.empty()) parts.push_back("tcp/" + join(port_list(s.tcp), ","));
    if (!s.udp.empty()) parts.push_back("udp/" + join(port_list(s.udp), ","));
    if (!s.icmp.empty()) parts.push_back("icmp/" + join(icmp_list(s.icmp), ","));
    if (!s.icmpv6.empty()) parts.push_back("icmpv6/" + join(icmp_list(s.icmpv6), ","));
    return join(parts, " ");
}

std::string wrap(const std::string& line, std::size_t indent, std::size_t width) {
    std::string out;
    std::size_t start = 0;  // of the current output line in `out`
    std::size_t pos = 0;
    while (pos < line.size()) {
        std::size_t next = line.find(' ', pos + 1);
        if (next == std::string::npos) next = line.size();
        const std::string word = line.substr(pos, next - pos);  // with its leading space
        if (out.size() - start + word.size() > width && out.size() > start && word.size() > 1 &&
            word[0] == ' ') {
            out += '\n' + std::string(indent, ' ');
            start = out.size() - indent;
            out += word.substr(1);
        } else {
            out += word;
        }
        pos = next;
    }
    return out;
}

std::string matrix_text(const Matrix& m) {
    std::string out =
        wrap(fmt::format("{}: {}; {}", m.host.empty() ? "whole site" : "host " + m.host,
                         phases_text(m), flipped_text(m)),
             4) +
        "\n";
    out += "* permanent, - legacy (goes at a later step), + new\n\n";
    for (std::size_t i = 0; i < m.nodes.size(); ++i)
        out += fmt::format("{:>2}  {}\n", i + 1, m.nodes[i].name);
    out += "\n" + grid_text(m) + cells_text(m) + steps_text(m) + omitted_text(m);
    return out;
}

// ---- JSON -----------------------------------------------------------------

namespace {

using Json = nlohmann::ordered_json;

// [[lo, hi], ...]: a single port is [p, p].
Json range_pairs(const std::vector<policy::PortRange>& ports) {
    Json out = Json::array();
    for (const auto& p : ports) out.push_back({p.lo, p.hi});
    return out;
}

Json ports_json(const policy::Service& s) {
    return {{"tcp", range_pairs(s.tcp)},
            {"udp", range_pairs(s.udp)},
            {"icmp", icmp_list(s.icmp)},
            {"icmpv6", icmp_list(s.icmpv6)}};
}

Json entry_json(const Entry& e) {
    Json families = Json::array();
    if (e.ipv4) families.push_back("ipv4");
    if (e.ipv6) families.push_back("ipv6");
    Json j = {{"flow", e.flow},
              {"service", e.service.name},
              {"ports", ports_json(e.service)},
              {"families", families},
              {"status", matrix::status_name(e.status)}};
    j["gate"] = e.gate;
    return j;
}

Json changes_json(const Matrix& m, const std::vector<Change>& changes) {
    Json out = Json::array();
    for (const auto& c : changes) {
        Json j = {{"from", m.nodes[c.from].name}, {"to", m.nodes[c.to].name}};
        j.update(entry_json(c.entry));
        out.push_back(std::move(j));
    }
    return out;
}

Json migration_json(const Matrix& m, const matrix::Migration& mig) {
    Json steps = Json::array();
    for (const auto& s : mig.steps) {
        steps.push_back({{"step", matrix::step_kind_name(s.kind)},
                         {"gate", s.gate},
                         {"done", s.done},
                         {"removed", changes_json(m, s.removed)},
                         {"added", changes_json(m, s.added)}});
    }
    return {{"name", mig.name}, {"phase", resolve::phase_name(mig.phase)}, {"steps", steps}};
}

}  // namespace

nlohmann::ordered_json matrix_json(const Matrix& m) {
    Json nodes = Json::array();
    for (const auto& n : m.nodes) nodes.push_back(n.name);
    Json cells = Json::array();
    for (const auto& c : m.cells) {
        Json entries = Json::array();
        for (const auto& e : c.entries) entries.push_back(entry_json(e));
        cells.push_back(
            {{"from", m.nodes[c.from].name}, {"to", m.nodes[c.to].name}, {"services", entries}});
    }
    Json phases = Json::object();
    for (const auto& [name, phase] : m.phases) phases[name] = resolve::phase_name(phase);
    Json migrations = Json::array();
    for (const auto& mig : m.migrations) migrations.push_back(migration_json(m, mig));
    Json omitted = Json::array();
    for (const auto& o : m.omitted) omitted.push_back({{"flow", o.id}, {"reason", o.reason}});
    return {{"version", kMatrixJsonVersion},    {"host", m.host},    {"phases", phases},
            {"flipped_gates", m.flipped_gates}, {"nodes", nodes},    {"cells", cells},
            {"migrations", migrations},         {"omitted", omitted}};
}

// ---- DOT ------------------------------------------------------------------

namespace {

std::string dot_quoted(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '\n') {
            out += "\\n";  // DOT's line break in a label
            continue;
        }
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out + "\"";
}

// Edge attributes per status: new ones bold green, legacy ones dashed red.
std::string edge_style(Status status) {
    switch (status) {
        case Status::permanent:
            return "color=\"black\"";
        case Status::legacy:
            return "color=\"firebrick\", fontcolor=\"firebrick\", style=dashed";
        case Status::introduced:
            return "color=\"darkgreen\", fontcolor=\"darkgreen\", style=bold";
    }
    std::abort();  // not a Status
}

// One edge per cell and status, its label one line per service.
std::string cell_edges(const Cell& cell) {
    std::string out;
    for (Status status : {Status::permanent, Status::legacy, Status::introduced}) {
        std::vector<std::string> lines;
        for (const auto& e : cell.entries) {
            if (e.status != status) continue;
            const std::string until = status == Status::legacy ? ", until " + e.gate : "";
            lines.push_back(fmt::format("{}{} {}{}", mark(status), ports_text(e.service),
                                        e.service.name, until));
        }
        if (lines.empty()) continue;
        out += fmt::format("  n{} -> n{} [label={}, {}];\n", cell.from + 1, cell.to + 1,
                           dot_quoted(join(lines, "\n")), edge_style(status));
    }
    return out;
}

}  // namespace

std::string matrix_dot(const Matrix& m) {
    const std::string title = fmt::format("nftpolicy matrix, {}: {}; {}",
                                          m.host.empty() ? "whole site" : "host " + m.host,
                                          phases_text(m), flipped_text(m));
    std::string out = "digraph nftpolicy_matrix {\n";
    out += fmt::format("  graph [rankdir=LR, labelloc=t, fontname=\"sans-serif\", label={}];\n",
                       dot_quoted(title + "\n* permanent, - legacy (dashed), + new (bold)"));
    out += "  node [shape=box, style=rounded, fontname=\"sans-serif\"];\n";
    out += "  edge [fontname=\"sans-serif\", fontsize=10];\n";
    for (std::size_t i = 0; i < m.nodes.size(); ++i)
        out += fmt::format("  n{} [label={}];\n", i + 1, dot_quoted(m.nodes[i].name));
    for (const auto& cell : m.cells) out += cell_edges(cell);
    return out + "}\n";
}

}  // namespace nftpolicy::cli
