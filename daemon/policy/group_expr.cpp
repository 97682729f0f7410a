#include "policy/group_expr.h"

#include <cctype>

#include <fmt/format.h>

#include "policy/limits.h"
#include "support/columns.h"

namespace nftpolicy::policy {

namespace {

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return is_name_start(c) || std::isdigit(static_cast<unsigned char>(c)); }

// "unexpected 'x' ...": a raw line break or control character would break
// the rendered diagnostic, so those are named instead of quoted.
std::string unexpected(char c, std::string_view expected) {
    if (c == '\n' || c == '\r') return "a group expression must be on one line; found a line break";
    std::string what = std::iscntrl(static_cast<unsigned char>(c))
                           ? fmt::format("control character U+{:04X}", static_cast<unsigned char>(c))
                           : fmt::format("'{}'", c);
    return fmt::format("unexpected {} in group expression; expected {}", what, expected);
}

// Recursive-descent parser over one expression string; positions are byte
// offsets into the string, turned into columns of the source line.
class ExprParser {
public:
    ExprParser(std::string_view text, const SourceFile& file, SourcePos start, Diagnostics& diags)
        : text_(text), file_(file), start_(start), diags_(diags) {}

    std::optional<GroupExpr> parse() {
        skip_space();
        if (pos_ == text_.size()) return fail("empty group expression; expected a group name");
        auto e = parse_expr();
        if (!e) return std::nullopt;
        skip_space();
        if (pos_ != text_.size()) {
            return fail(unexpected(text_[pos_], "'|', '&', '-' or the end"));
        }
        return e;
    }

private:
    std::optional<GroupExpr> parse_expr() {
        std::size_t begin = pos_;
        auto lhs = parse_term();
        while (lhs) {
            skip_space();
            if (pos_ == text_.size() || (text_[pos_] != '|' && text_[pos_] != '-')) break;
            if (glued_hyphen()) return fail(glued_hyphen_message());
            if (!count_operator()) return std::nullopt;
            auto op = text_[pos_++] == '|' ? GroupExpr::Op::union_ : GroupExpr::Op::difference;
            auto rhs = parse_term();
            if (!rhs) return std::nullopt;
            lhs = combine(op, std::move(*lhs), std::move(*rhs), begin);
        }
        return lhs;
    }

    // `web-servers`: a '-' with a name character on both sides is almost
    // always a hyphenated name, not a difference; say so instead of
    // reporting an unknown group 'servers' later.
    bool glued_hyphen() const {
        return text_[pos_] == '-' && pos_ > 0 && pos_ + 1 < text_.size() && is_name_char(text_[pos_ - 1]) &&
               is_name_char(text_[pos_ + 1]);
    }

    std::string glued_hyphen_message() const {
        std::size_t b = pos_, e = pos_ + 1;
        while (b > 0 && is_name_char(text_[b - 1])) --b;
        while (e < text_.size() && is_name_char(text_[e])) ++e;
        std::string word(text_.substr(b, e - b));
        return fmt::format("'{}': group names cannot contain '-' (it is the difference operator); "
                           "write '{} - {}' for a difference, or rename the group with '_'",
                           word, text_.substr(b, pos_ - b), text_.substr(pos_ + 1, e - pos_ - 1));
    }

    std::optional<GroupExpr> parse_term() {
        skip_space();
        std::size_t begin = pos_;
        auto lhs = parse_factor();
        while (lhs) {
            skip_space();
            if (pos_ == text_.size() || text_[pos_] != '&') break;
            if (!count_operator()) return std::nullopt;
            ++pos_;
            auto rhs = parse_factor();
            if (!rhs) return std::nullopt;
            lhs = combine(GroupExpr::Op::intersection, std::move(*lhs), std::move(*rhs), begin);
        }
        return lhs;
    }

    std::optional<GroupExpr> parse_factor() {
        skip_space();
        if (pos_ == text_.size()) return fail("group expression ends early; expected a group name or '('");
        std::size_t begin = pos_;
        if (text_[pos_] == '(') {
            if (++parens_ > limits::kExprParens) {
                return fail(fmt::format("parentheses nest more than {} deep in this group expression; "
                                        "expected at most {} levels (name the inner parts as groups)",
                                        limits::kExprParens, limits::kExprParens));
            }
            ++pos_;
            auto inner = parse_expr();
            --parens_;
            if (!inner) return std::nullopt;
            skip_space();
            if (pos_ == text_.size() || text_[pos_] != ')') return fail("expected ')' in group expression");
            ++pos_;
            inner->span = span(begin, pos_);
            inner->text = std::string(text_.substr(begin, pos_ - begin));
            return inner;
        }
        if (!is_name_start(text_[pos_])) {
            return fail(unexpected(text_[pos_], "a group name or '('"));
        }
        while (pos_ < text_.size() && is_name_char(text_[pos_])) ++pos_;
        GroupExpr ref;
        ref.op = GroupExpr::Op::ref;
        ref.name = std::string(text_.substr(begin, pos_ - begin));
        ref.text = ref.name;
        ref.span = span(begin, pos_);
        return ref;
    }

    // Each operator makes the expression tree one level deeper (they are
    // left-associative), and the tree is walked recursively later: bound it.
    bool count_operator() {
        if (++operators_ <= limits::kExprOperators) return true;
        fail(fmt::format("this group expression has more than {} operators; expected at most {} "
                         "(name parts of it as groups)",
                         limits::kExprOperators, limits::kExprOperators));
        return false;
    }

    GroupExpr combine(GroupExpr::Op op, GroupExpr lhs, GroupExpr rhs, std::size_t begin) {
        GroupExpr e;
        e.op = op;
        e.span = span(begin, pos_);
        e.text = std::string(trimmed(begin, pos_));
        e.operands.push_back(std::move(lhs));
        e.operands.push_back(std::move(rhs));
        return e;
    }

    std::string_view trimmed(std::size_t begin, std::size_t end) const {
        std::string_view v = text_.substr(begin, end - begin);
        while (!v.empty() && v.back() == ' ') v.remove_suffix(1);
        return v;
    }

    SourceSpan span(std::size_t begin, std::size_t end) const {
        std::uint32_t b = start_.column + char_count(text_.substr(0, begin));
        std::uint32_t e = start_.column + (end > begin ? char_count(text_.substr(0, end)) - 1
                                                       : char_count(text_.substr(0, begin)));
        return SourceSpan{&file_, {start_.line, b}, {start_.line, e}};
    }

    void skip_space() {
        while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t')) ++pos_;
    }

    std::nullopt_t fail(std::string message) {
        diags_.error(span(pos_, pos_), std::move(message));
        return std::nullopt;
    }

    std::string_view text_;
    const SourceFile& file_;
    SourcePos start_;
    Diagnostics& diags_;
    std::size_t pos_ = 0;
    std::size_t parens_ = 0;     // '(' open around pos_
    std::size_t operators_ = 0;  // operators read so far
};

}  // namespace

std::optional<GroupExpr> parse_group_expr(std::string_view text, const SourceFile& file,
                                          SourcePos start, Diagnostics& diags) {
    return ExprParser(text, file, start, diags).parse();
}

bool is_group_name(std::string_view name) {
    if (name.empty() || !is_name_start(name[0]) || name.size() > 48) return false;
    for (char c : name) {
        if (!is_name_char(c)) return false;
    }
    return true;
}

}  // namespace nftpolicy::policy
