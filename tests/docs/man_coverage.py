#!/usr/bin/env python3
"""The man pages cover the program: every option of every subcommand of the
built `nftpolicy` (read from its own --help, so a new option without a man
entry fails here) appears in that command's section of nftpolicy(8), every
section of nftpolicy(8) names a command that exists, every exit code of
cli/common.h is listed, and every key of the policy schema
(policy/schema.cpp) appears in nftpolicy.toml(5).

Usage: man_coverage.py NFTPOLICY_BINARY SOURCE_DIR [NFTPOLICYD_BINARY]"""
import re
import subprocess
import sys

failures = []


def fail(msg):
    failures.append(msg)
    print("FAIL " + msg)


def help_sections(binary, path):
    """{section title: [lines]} of `nftpolicy PATH... --help`."""
    out = subprocess.run([binary, *path, "--help"], capture_output=True, text=True, check=True).stdout
    sections, current = {}, None
    for line in out.splitlines():
        m = re.match(r"^([A-Z][A-Za-z ]*):$", line)
        if m:
            current = sections.setdefault(m.group(1), [])
        elif current is not None:
            current.append(line)
    return sections


def options_of(lines):
    names = []
    for line in lines:
        m = re.match(r"^  (-\S+)", line)
        if m:
            names += [n for n in m.group(1).split(",") if n.startswith("-")]
    return names


def subcommands_of(lines):
    return [m.group(1) for line in lines if (m := re.match(r"^  ([a-z][a-z-]*)\b", line))]


def commands(binary, path=()):
    """Every command path with its options, depth first."""
    sections = help_sections(binary, list(path))
    yield path, options_of(sections.get("Options", []))
    for sub in subcommands_of(sections.get("Subcommands", [])):
        yield from commands(binary, (*path, sub))


def man_sections(text):
    """'## nftpolicy CMD' -> its text, and the text before the first command."""
    parts = re.split(r"^## (nftpolicy[a-z -]*)$", text, flags=re.M)
    return {name.strip(): body.split("\n# ", 1)[0] for name, body in zip(parts[1::2], parts[2::2])}, parts[0]


def check_cli(binary, src):
    text = open(f"{src}/docs/man/nftpolicy.8.scd").read()
    sections, head = man_sections(text)
    found = set()
    count = 0
    all_commands = list(commands(binary))
    paths = [p for p, _ in all_commands]
    for path, options in all_commands:
        name = " ".join(("nftpolicy", *path))
        leaf = not any(len(p) > len(path) and p[: len(path)] == path for p in paths)
        if not path:
            body = head
        elif name in sections:
            body = sections[name]
            found.add(name)
        elif leaf:
            fail(f"nftpolicy(8) has no section '## {name}'")
            continue
        else:
            body = text  # a command group (`migration`): its options are --help only
        for opt in options:
            if path and opt in ("-h", "--help"):
                continue  # every command has it; documented once, under OPTIONS
            count += 1
            if not re.search(r"\*" + re.escape(opt) + r"\*", body):
                fail(f"nftpolicy(8): option {opt} of '{name}' is not in its section")
    for name in sections:
        if name not in found:
            fail(f"nftpolicy(8) documents '{name}', which `nftpolicy --help` does not list")
    print(f"ok: {count} options of {len(found)} commands checked against nftpolicy(8)")
    return text


def check_exit_codes(src, man):
    codes = re.findall(r"exit_\w+ = (\d+),", open(f"{src}/daemon/cli/common.h").read())
    status = man.split("# EXIT STATUS", 1)[1].split("\n# ", 1)[0]
    for code in codes:
        if f"*{code}*" not in status:
            fail(f"nftpolicy(8): exit code {code} (cli/common.h) is not in EXIT STATUS")
    print(f"ok: {len(codes)} exit codes checked")


def check_keys(src):
    schema = open(f"{src}/daemon/policy/schema.cpp").read()
    keys = sorted(set(re.findall(r'\{"([a-z_]+)", ValueKind::', schema)))
    man = open(f"{src}/docs/man/nftpolicy.toml.5.scd").read()
    for key in keys:
        if not re.search(r"\*(\[+)?" + re.escape(key) + r"\b", man):
            fail(f"nftpolicy.toml(5): policy key '{key}' (policy/schema.cpp) is not documented")
    if len(keys) < 30:
        fail(f"only {len(keys)} keys read from schema.cpp: the pattern no longer matches the key tables")
    print(f"ok: {len(keys)} policy keys checked against nftpolicy.toml(5)")


def check_daemon(daemon, src):
    """Every option of nftpolicyd appears in nftpolicyd(8)."""
    man = open(f"{src}/docs/man/nftpolicyd.8.scd").read()
    options = options_of(help_sections(daemon, []).get("Options", []))
    for opt in options:
        if not re.search(r"\*" + re.escape(opt) + r"\*", man):
            fail(f"nftpolicyd(8): option {opt} is not documented")
    print(f"ok: {len(options)} options of nftpolicyd checked against nftpolicyd(8)")


def main(binary, src, daemon=None):
    if daemon:
        check_daemon(daemon, src)
    man = check_cli(binary, src)
    check_exit_codes(src, man)
    check_keys(src)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:4]))
