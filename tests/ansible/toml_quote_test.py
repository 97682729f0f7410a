#!/usr/bin/env python3
"""The role's TOML filters: every value renders to TOML that parses back
(python3 tomllib) to exactly that value, whatever it holds.
Usage: toml_quote_test.py ROLE_DIR"""
import os
import sys
import tomllib

sys.path.insert(0, os.path.join(sys.argv[1], "filter_plugins"))
from toml_quote import toml_key, toml_value  # noqa: E402

HOSTILE = [
    "",
    "plain",
    'with "double" quotes',
    "with 'single' quotes",
    "# not a comment",
    "a = 1 # still the value",
    "back\\slash and \\n literal",
    "trailing backslash\\",
    "line1\nline2\r\nline3",
    "tab\there",
    "]] [[flows]]\nid = \"injected\"",
    '"""triple"""',
    "'''literal'''",
    "\x00\x01\x1f\x7f control",
    "unicode: é ü 中文 \u2028 \U0001F600",
    "\\u0041 not an escape",
    "${{ jinja }} {% raw %}",
]


def roundtrip(value):
    doc = f"v = {toml_value(value)}\n[t]\n{toml_key('k' if isinstance(value, (int, bool)) else str(value) or 'x')} = 1\n"
    return tomllib.loads(doc)


def main():
    failures = total = 0
    for value in HOSTILE + [0, 65535, -1, True, False, ["a", "]]", ["b\n"]], {"k": "v\"", "a b": [1, "#"]}]:
        total += 1
        try:
            parsed = roundtrip(value)["v"]
            ok = parsed == value
        except tomllib.TOMLDecodeError as e:
            parsed, ok = f"parse error: {e}", False
        if not ok:
            failures += 1
            print(f"FAIL {value!r} -> {toml_value(value)} -> {parsed!r}")
    for key in HOSTILE[1:]:
        total += 1
        doc = f"{toml_key(key)} = 1\n"
        try:
            ok = tomllib.loads(doc) == {key: 1}
        except tomllib.TOMLDecodeError:
            ok = False
        if not ok:
            failures += 1
            print(f"FAIL key {key!r} -> {toml_key(key)}")
    print(f"{total - failures} round trips ok, {failures} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
