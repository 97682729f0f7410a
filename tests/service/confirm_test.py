#!/usr/bin/env python3
"""apply --confirm with nftpolicyd running, in a scratch network namespace
(docs/confirm.md): the daemon holds the deadline.
  - no confirm: the daemon rolls back within the deadline + 2 s, says so in
    STATUS=, and does not load the rolled-back ruleset again;
  - the daemon killed (SIGKILL) during the window and restarted: the
    restarted daemon re-arms from the record and rolls back in time;
  - the daemon down past the deadline: it rolls back at once when it starts;
  - confirm through the daemon: no rollback, the ruleset is the last
    confirmed one;
  - the lockout guard on the daemon's own loads: a narrowed management list
    is refused (table unchanged, `nftpolicy reload` exits 7), `reload --force`
    loads it.
Usage: confirm_test.py BUILD_DIR"""
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_lib import Daemon, Policy, check, run_test, wait_until, write_atomic  # noqa


def nft_table():
    """Our table as `nft -j` lists it, in an order that does not depend on
    its history (objects added back by a rollback come last in a listing):
    rules in their chain's order, elements sorted; None when absent."""
    p = subprocess.run(["nft", "-j", "list", "table", "inet", "nftpolicy"], capture_output=True, text=True)
    if p.returncode != 0:
        return None
    lines = []
    for item in json.loads(p.stdout)["nftables"]:
        for kind, obj in item.items():
            obj.pop("handle", None)
            if "elem" in obj:
                obj["elem"] = sorted(obj["elem"], key=json.dumps)
            key = (kind, obj.get("chain", "")) if kind == "rule" else (kind, json.dumps(obj, sort_keys=True))
            lines.append((key, kind + " " + json.dumps(obj, sort_keys=True)))
    return "\n".join(line for _, line in sorted(lines, key=lambda l: l[0]))


def start(d):
    d.notify.pump()
    mark = len(d.notify.msgs)
    d.start()
    check(d.notify.wait_for("READY=1", secs=60, since=mark, pid=d.proc.pid) is not None, "daemon READY=1")


def apply_confirm(d, seconds, *more):
    r = d.cli("apply", d.policy.site, "--phase", "final", "--confirm", str(seconds), "--runtime-dir", d.runtime,
              *d.kernel_args(), *more)
    check(r.returncode == 0 and "(nftpolicyd)" in r.stdout, f"apply --confirm {seconds} handed to nftpolicyd: "
          f"{r.stdout.strip()} {r.stderr.strip()}")
    return time.monotonic()


def status_json(d):
    r = d.cli("status", "--json", *d.kernel_args())
    return json.loads(r.stdout).get("confirmation")


def rolled_back_within(base, t0, secs, what):
    ok = wait_until(lambda: nft_table() == base, secs=secs + 2.5, step=0.05)
    took = time.monotonic() - t0
    check(ok and took <= secs + 2, f"{what}: the confirmed ruleset is back after {took:.2f} s (deadline {secs} s)")


def run(build, root):
    policy = Policy(root)
    d = Daemon(build, root, policy)
    start(d)
    base = nft_table()
    # last-good is written just after READY=1 (Manager::start: readiness does not wait for the disk).
    check(base is not None and wait_until(lambda: os.path.exists(os.path.join(d.state, "last-good")), secs=10),
          "the daemon keeps a confirmed ruleset")

    # No confirm: the daemon rolls back, and keeps the rolled-back ruleset out.
    t0 = apply_confirm(d, 3)
    final = nft_table()
    check(final != base, "apply --confirm --phase final changed the table")
    check(wait_until(lambda: "CONFIRM by" in d.notify.last_status(), 5), "STATUS= shows the pending confirmation")
    rolled_back_within(base, t0, 3, "no confirm")
    check(wait_until(lambda: "ROLLED BACK" in d.notify.last_status(), 5), "STATUS= says ROLLED BACK")
    time.sleep(1.5)
    check(nft_table() == base, "the daemon does not load the rolled-back ruleset again")
    state = os.path.join(d.state, "migrations")
    check(not os.path.exists(state) or "final" not in open(state).read(),
          "the rollback put the migration state back (the recorded phase final is gone)")
    r = d.cli("confirm", "--runtime-dir", d.runtime, *d.kernel_args())
    check(r.returncode == 7 and "rolled back" in r.stderr and nft_table() == base,
          f"confirm after the deadline fails and changes nothing: {r.stderr.strip()}")

    # The daemon killed during the window and restarted: it re-arms.
    t0 = apply_confirm(d, 4)
    check(nft_table() == final, "second apply --confirm committed")
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait()
    time.sleep(0.5)
    start(d)
    rolled_back_within(base, t0, 4, "daemon killed and restarted in the window")

    # The daemon down past the deadline: it rolls back as soon as it starts.
    apply_confirm(d, 3)  # the sanitizer build's CLI may take a second or two itself
    d.proc.send_signal(signal.SIGKILL)
    d.proc.wait()
    time.sleep(3.5)
    check(nft_table() == final, "nobody rolled back while the daemon was down")
    t0 = time.monotonic()
    start(d)
    rolled_back_within(base, t0, 0, "daemon restarted past the deadline")
    c = status_json(d)
    check(c and c["state"] == "rolled-back" and c["reason"] == "deadline passed", f"status --json: {c}")

    # Confirm through the daemon.
    apply_confirm(d, 3)
    r = d.cli("confirm", "--runtime-dir", d.runtime, *d.kernel_args())
    check(r.returncode == 0 and r.stdout.startswith("confirmed: ruleset"), f"confirm: {r.stdout} {r.stderr}")
    time.sleep(3.5)
    check(nft_table() == final, "a confirmed ruleset stays past the deadline")
    check("CONFIRM by" not in d.notify.last_status(), "STATUS= no longer shows a confirmation")
    check(status_json(d) is None, "status --json shows no confirmation")

    # The lockout guard on the daemon's loads.
    write_atomic(policy.admins, "10.30.0.0/28\n")
    r = d.reload()
    check(r.returncode == 7 and "cuts management access" in r.stderr and "10.30.0.16-10.30.0.255" in r.stderr,
          f"reload of a narrowed management list refused: {r.returncode} {r.stderr.strip()}")
    check(nft_table() == final, "the refused reload left the table unchanged")
    # `nftpolicy reload` over SSH: the daemon keeps the session's client.
    r = subprocess.run([d.nftpolicy, "reload", "--runtime-dir", d.runtime], capture_output=True, text=True,
                       env=dict(os.environ, NFTPOLICY_PATH="", SSH_CONNECTION="10.30.0.20 50000 10.20.0.11 22"))
    check(r.returncode == 7 and "10.30.0.20 (this SSH session's client" in r.stderr,
          f"reload from an SSH session whose client it would cut: refused, naming it: {r.stderr.strip()}")
    r = d.cli("reload", "--force", "--runtime-dir", d.runtime)
    check(r.returncode == 0 and nft_table() != final, f"reload --force loads it: {r.stderr.strip()}")
    check(d.stop() == 0, "daemon stops cleanly")


if __name__ == "__main__":
    run_test(run)
