#!/usr/bin/env python3
"""nftpolicyd's drift repair, with the real kernel in a scratch network
namespace and the real `nft` as the other committer and independent reader:
  - each kind of drift (table deleted, rule added, rule deleted, set element
    added and deleted, verdict map element deleted, chain flushed, base chain
    policy changed, `nft flush ruleset`) is restored within 1 s, and a foreign
    table in the same namespace is left exactly as it was (after the flush:
    left gone);
  - EDITS random edits of those kinds one after the other: every one is
    repaired (0 missed: after each, `nft list` equals the compiled table),
    with the p50/p99 repair latency from the end of the `nft` edit;
  - a flood of foreign events that overruns the event socket (a daemon with
    a small --event-buffer, 20,000 elements into a foreign set in the same
    transaction as a deleted rule of ours): resync, the table is correct;
  - `[settings] drift = "report"`: logged and counted, not repaired;
  - the CLI (`apply --phase`) while the daemon runs, 10 times back and forth:
    adopted every time, never reverted, no repair counted.
Usage: drift_test.py BUILD_DIR [EDITS]"""
import difflib
import os
import random
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_lib import Daemon, Policy, check, nft_table, run_test, wait_until, write_atomic  # noqa: E402

HANDLE = re.compile(r" # handle \d+")
OTHER = """\
table ip other {
    set s { type ipv4_addr; elements = { 192.0.2.1, 192.0.2.2 } }
    chain c { type filter hook input priority 10; policy accept; ip saddr @s drop; }
}
"""


def norm(text):
    """A listing without handles, set elements in sorted order (an interval
    map lists its elements in insertion order: a re-added one comes last)."""
    if text is None:
        return None
    text = HANDLE.sub("", text)
    return re.sub(r"elements = \{([^}]*)\}",
                  lambda m: "elements = { " + ", ".join(sorted(e.strip() for e in m.group(1).split(","))) + " }",
                  text)


def nft(*args, stdin=None):
    p = subprocess.run(["nft"] + list(args), input=stdin, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError(f"nft {' '.join(args)}: {p.stderr.strip()}")
    return p.stdout


def listing():
    """Our table with handles (`nft -a`), or None when it is gone."""
    p = subprocess.run(["nft", "-a", "list", "table", "inet", "nftpolicy"], capture_output=True, text=True)
    return p.stdout if p.returncode == 0 else None


def other_table():
    p = subprocess.run(["nft", "list", "table", "ip", "other"], capture_output=True, text=True)
    return p.stdout if p.returncode == 0 else None


def counts(d):
    try:
        text = open(os.path.join(d.runtime, "drift")).read()
    except OSError:
        return {}
    return {k: int(v) for k, v in (line.split() for line in text.splitlines() if line)}


def rules(text):
    """(chain, handle) of every rule of the `nft -a` listing."""
    out, chain = [], None
    for line in text.splitlines():
        m = re.match(r"\tchain (\S+) \{", line)
        if m:
            chain = m.group(1)
            continue
        m = re.match(r"\t\t(?!type |policy ).* # handle (\d+)$", line)
        if m and chain:
            out.append((chain, m.group(1)))
    return out


def chains(text):
    return re.findall(r"^\tchain (\S+) \{", text, re.M)


KINDS = ["delete rule", "add rule", "add element", "delete element", "delete map element", "flush chain",
         "chain policy", "delete table"]


def edit(kind, text, rng):
    """An `nft` command making drift of `kind` on the table listed in `text`."""
    t = "inet nftpolicy"
    if kind == "delete rule":
        chain, handle = rng.choice(rules(text))
        return f"delete rule {t} {chain} handle {handle}"
    if kind == "add rule":
        return f"insert rule {t} {rng.choice(chains(text))} tcp dport {rng.randint(1024, 65535)} accept"
    if kind == "add element":
        if rng.random() < 0.5:
            return f"add element {t} g_agents_v4 {{ 10.250.{rng.randint(0, 255)}.{rng.randint(1, 254)} }}"
        return f"add element {t} g_agents_v6 {{ fd00:250::{rng.randint(1, 65535):x} }}"
    if kind == "delete element":
        return rng.choice([f"delete element {t} g_agents_v4 {{ 10.10.0.0/16 }}",
                           f"delete element {t} g_admins_v4 {{ 10.30.0.0/24 }}",
                           f"delete element {t} g_agents_v6 {{ fd00:10::/32 }}"])
    if kind == "delete map element":
        return f"delete element {t} in_svc {{ tcp . {rng.choice([22, 443, 8080, 17000])} }}"
    if kind == "flush chain":
        return f"flush chain {t} {rng.choice(sorted({c for c, _ in rules(text)}))}"
    if kind == "chain policy":
        return f"chain {t} input {{ policy accept ; }}"
    return f"delete table {t}"


def repaired_within(d, ref, n_repairs, secs=1.0):
    """Seconds until the daemon counted `n_repairs` and nft shows `ref`, or None."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < secs:
        if counts(d).get("repairs", 0) >= n_repairs:
            break
        time.sleep(0.001)
    took = time.monotonic() - t0
    text = listing()
    return took if took < secs and text is not None and norm(text) == ref else None


def each_kind(d, ref, rng):
    nft("-f", "-", stdin=OTHER)
    other = other_table()
    for kind in KINDS:
        before = counts(d).get("repairs", 0)
        cmd = edit(kind, listing(), rng)
        nft(cmd)
        took = repaired_within(d, ref, before + 1)
        if took is None:
            print("".join(difflib.unified_diff(ref.splitlines(True), (norm(listing()) or "").splitlines(True))))
        check(took is not None, f"{kind} (`nft {cmd}`): whole again {took * 1000 if took else -1:.0f} ms after nft returned")
        check(other_table() == other, "... the foreign table ip other is untouched")
    before = counts(d).get("repairs", 0)
    nft("flush", "ruleset")  # in this test's own network namespace
    took = repaired_within(d, ref, before + 1)
    check(took is not None, f"nft flush ruleset: our table whole again {took * 1000 if took else -1:.0f} ms after nft returned")
    check(other_table() is None, "... and the foreign table, flushed with it, is not re-created")
    log = d.log_text()
    check(re.search(r"drift: table inet nftpolicy changed by nft \(pid \d+, generation \d+\): rule deleted in "
                    r"chain \S+; restoring it", log) is not None, "the log names who changed what: a deleted rule")
    check("table deleted (" in log and re.search(r"removed from set g_agents_v[46]", log), "... a deleted table, deleted elements")


class Session:
    """One `nft -a -i` reading commands from a pipe: no process start per
    edit. A listing ends with that of the (empty, foreign) table ip zzmark."""

    def __init__(self):
        nft("add", "table", "ip", "zzmark")
        self.p = subprocess.Popen(["nft", "-a", "-i"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.DEVNULL, text=True, bufsize=1)

    def send(self, cmd):
        self.p.stdin.write(cmd + "\n")
        self.p.stdin.flush()

    def listing(self):
        """Our table as `nft -a` lists it, or None when it is gone."""
        self.send("list table inet nftpolicy\nlist table ip zzmark")
        lines = []
        while True:
            line = self.p.stdout.readline()
            if not line or line.startswith("table ip zzmark"):
                break
            lines.append(line)
        while line and line != "}\n":
            line = self.p.stdout.readline()
        return "".join(lines) if lines else None

    def close(self):
        self.p.stdin.close()
        self.p.wait(5)


def wait_repairs(d, n_repairs, secs=1.0):
    end = time.monotonic() + secs
    while counts(d).get("repairs", 0) < n_repairs:
        if time.monotonic() > end:
            return None
        time.sleep(0.0005)
    return time.monotonic()


def random_edits(d, ref, rng, n):
    latencies, missed, t_all = [], [], time.monotonic()
    s = Session()
    text = s.listing()
    for i in range(n):
        kind = rng.choice(KINDS)
        before = counts(d).get("repairs", 0)
        t0 = time.monotonic()
        s.send(edit(kind, text, rng))
        done = wait_repairs(d, before + 1)
        text = s.listing()
        if done is None or norm(text) != ref:
            missed.append(f"{i}: {kind}")
            wait_until(lambda: norm(listing()) == ref, 5)
            text = s.listing()
        else:
            latencies.append(done - t0)
    s.close()
    check(nft("list", "table", "ip", "zzmark").count("\n") == 2, "the foreign table ip zzmark is untouched")
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000 if latencies else -1
    p99 = latencies[min(len(latencies) - 1, len(latencies) * 99 // 100)] * 1000 if latencies else -1
    print(f"{n} random edits in {time.monotonic() - t_all:.1f} s: repair latency (from sending the edit to "
          f"an `nft -i` session to the repair committed) p50 {p50:.1f} ms, p99 {p99:.1f} ms, max "
          f"{latencies[-1] * 1000 if latencies else -1:.1f} ms", flush=True)
    check(not missed, f"{n} random edits, {len(missed)} missed (not whole within 1 s): {missed[:5]}")
    check(p99 < 1000, "p99 repair latency under 1 s")


def report_mode(d, policy, ref):
    site = open(policy.site).read()
    write_atomic(policy.site, site + '\n[settings]\ndrift = "report"\n')
    r = d.reload()
    check(r.returncode == 0, f"reload with drift = \"report\": exit {r.returncode} {r.stderr.strip()}")
    before = counts(d)
    cmd = edit("delete rule", listing(), random.Random(1))
    nft(cmd)
    check(wait_until(lambda: counts(d).get("reported", 0) == before.get("reported", 0) + 1, 2),
          "report mode: the foreign change is counted as reported")
    time.sleep(0.5)
    check(norm(listing()) != ref and counts(d).get("repairs") == before.get("repairs"),
          "... and not repaired (the rule stays deleted, no repair counted)")
    check('restoring it' not in d.log_text().splitlines()[-3] and
          re.search(r"rule deleted in chain \S+; left as it is \(drift = \"report\"\)", d.log_text()),
          "... the log says what changed and that it is left as it is")
    write_atomic(policy.site, site)
    r = d.reload()
    check(r.returncode == 0 and norm(listing()) == ref,
          "back to drift = \"repair\" (the default): the reload restores the rule")


def cli_apply(d, policy, ref):
    """`nftpolicy apply --phase` while the daemon runs, back and forth."""
    before = counts(d).get("repairs", 0)
    for i in range(10):
        phase = "final" if i % 2 == 0 else "coexist"
        r = d.cli("apply", policy.site, "--phase", phase, *d.kernel_args())
        if r.returncode != 0:
            check(False, f"CLI apply --phase {phase}: exit {r.returncode} {r.stderr}")
        want_legacy = phase == "coexist"
        now = nft_table() or ""
        if ("tcp . 17000" in now) != want_legacy:
            check(False, f"right after CLI apply --phase {phase} the kernel holds it")
        if not wait_until(lambda: f"phase m={phase}" in d.notify.last_status(), 5):
            check(False, f"the daemon adopts phase {phase}: '{d.notify.last_status()}'")
        d.notify.pump(0.3)
        now = nft_table() or ""
        if ("tcp . 17000" in now) != want_legacy:
            check(False, f"... and keeps it (round {i}): the daemon reverted the CLI's apply")
    check(True, "10 CLI applies alternating --phase final/coexist: each adopted, none reverted")
    check(counts(d).get("repairs", 0) == before, "... no repair counted for them")
    check(re.search(r"changed by nftpolicy \(pid \d+, generation \d+\): .*an nftpolicy command: the state "
                    r"directory's phases and gates are adopted", d.log_text()) is not None,
          "the log tells the CLI's commit and its adoption")
    now = norm(listing())
    if sorted(now.splitlines()) != sorted(ref.splitlines()):
        print("".join(difflib.unified_diff(ref.splitlines(True), now.splitlines(True))))
    check(sorted(now.splitlines()) == sorted(ref.splitlines()),
          "back at coexist, the table has the compiled chains, rules and sets (their order aside)")


def flood(build, root):
    """A daemon whose event socket is small: a large foreign commit overruns it."""
    os.makedirs(os.path.join(root, "flood"))
    policy = Policy(os.path.join(root, "flood"))
    d = Daemon(build, os.path.join(root, "flood"), policy, extra_args=["--event-buffer", "65536"])
    d.start()
    check(d.notify.wait_for("READY=1") is not None, "flood: daemon with --event-buffer 65536 READY=1")
    ref = norm(listing())
    chain, handle = rules(listing())[0]
    elements = ", ".join(f"10.{100 + i // 65536}.{(i // 256) % 256}.{i % 256}" for i in range(20000))
    t0 = time.monotonic()
    # Stopped while the kernel sends the events: an idle machine lets the
    # daemon drain the socket as fast as they come, and nothing would be lost.
    d.proc.send_signal(signal.SIGSTOP)
    try:
        nft("-f", "-", stdin=f"add table ip flood\nadd set ip flood s {{ type ipv4_addr; }}\n"
                             f"add element ip flood s {{ {elements} }}\n"
                             f"delete rule inet nftpolicy {chain} handle {handle}\n")
    finally:
        d.proc.send_signal(signal.SIGCONT)
    ok = wait_until(lambda: norm(listing()) == ref, 5, 0.01)
    check(ok, f"flood: 20,000 foreign element events and a deleted rule of ours in one transaction: table "
              f"whole again after {time.monotonic() - t0:.2f} s")
    c = counts(d)
    check(c.get("lost", 0) >= 1 and "events were lost (event socket overrun" in d.log_text(),
          f"... the daemon saw the overrun and resynced (counts {c})")
    check(len(nft("list", "set", "ip", "flood", "s").splitlines()) > 3, "... the foreign set is left alone")
    check(d.stop() == 0, "flood daemon stopped")
    nft("delete", "table", "ip", "flood")


def run(build, root, edits):
    policy = Policy(root)
    d = Daemon(build, root, policy)
    d.start()
    check(d.notify.wait_for("READY=1") is not None, "daemon READY=1")
    ref = norm(listing())
    check(ref == norm(nft_table()), "`nft -a list` without the handles is `nft list`")
    rng = random.Random(9)
    t = time.monotonic()
    each_kind(d, ref, rng)
    random_edits(d, ref, rng, edits)
    report_mode(d, policy, ref)
    cli_apply(d, policy, ref)
    st = d.notify.last_status()
    check(re.search(r"; drift: \d+ foreign changes, \d+ repaired", st) is not None, f"STATUS counts drift: '{st}'")
    check(d.stop() == 0, "daemon stopped")
    flood(build, root)
    print(f"drift test body: {time.monotonic() - t:.1f} s")


def main():
    run_test(run, int(sys.argv[2]) if len(sys.argv) > 2 else 1000)


if __name__ == "__main__":
    main()
