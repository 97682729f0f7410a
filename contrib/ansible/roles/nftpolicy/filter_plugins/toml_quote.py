"""TOML quoting for the nftpolicy role's templates.

Every value a template writes goes through these filters, so that any
inventory value (quotes, '#', backslashes, newlines, ']]', non-ASCII) renders
to TOML that parses back to exactly that value:

    {{ value | toml_value }}   a string, integer, boolean, list or mapping
    {{ name | toml_key }}      a key: bare when TOML allows it, else quoted
"""

import re

from ansible.errors import AnsibleFilterError

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_ESCAPES = {'"': '\\"', "\\": "\\\\", "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


def toml_string(value):
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for ch in str(value):
        if ch in _ESCAPES:
            out.append(_ESCAPES[ch])
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append("\\u%04X" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def toml_key(value):
    text = str(value)
    return text if _BARE_KEY.match(text) else toml_string(text)


def toml_value(value):
    """Any YAML value as an inline TOML value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        raise AnsibleFilterError("toml_value: floats have no meaning in an nftpolicy policy: %r" % value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, dict):
        return "{ " + ", ".join("%s = %s" % (toml_key(k), toml_value(v)) for k, v in value.items()) + " }"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if value is None:
        raise AnsibleFilterError("toml_value: a value is missing (None); TOML has no null")
    return toml_string(value)


class FilterModule:
    def filters(self):
        return {"toml_string": toml_string, "toml_key": toml_key, "toml_value": toml_value}
