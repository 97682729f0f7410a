#!/usr/bin/env python3
"""The three ways nftpolicyd starts (docs/daemon.md, "Start"), each in a
scratch network namespace that starts empty, as at boot:
  1. a good policy: it is loaded; its compiled IR is saved as the last good;
  2. a broken policy with a last good ruleset: exactly the last good table is
     loaded (same `nft list table` as before), READY=1, STATUS says LAST GOOD
     and the error with file:line:col;
  3. a broken policy with no last good: the built-in ruleset: input and
     forward policy drop, management only, never accept-all:
     a. the policy loads but does not resolve: its [management] access;
     b. the policy does not load: tcp/22 from anywhere;
  and a corrupted last good file is refused (its hash), not half loaded.
Usage: start_paths_test.py BUILD_DIR"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_lib import Daemon, Policy, check, nft_table, run_test, wait_until  # noqa: E402


def start(d, what):
    d.notify.pump()
    mark = len(d.notify.msgs)
    d.start()
    i = d.notify.wait_for("READY=1", since=mark, pid=d.proc.pid)
    check(i is not None, f"{what}: READY=1")
    return d.notify.last_status()


def drop_table():
    subprocess.run(["nft", "delete", "table", "inet", "nftpolicy"], check=True)


def assert_safe(table, what):
    check(table is not None, f"{what}: a table is loaded")
    chains = re.findall(r"chain (\w+) \{\s*type filter hook (\w+) priority \w+; policy (\w+);", table)
    check(chains and all(p == "drop" for _, h, p in chains if h in ("input", "forward")),
          f"{what}: input and forward drop: {chains}")
    check("tcp . 22" in table or "tcp dport 22" in table, f"{what}: tcp/22 reachable")
    for port in ("443", "17000", "8080"):
        check(f"tcp . {port}" not in table, f"{what}: nothing of the policy's flows (tcp/{port})")


def main():
    run_test(run)


def run(build, root):
    policy = Policy(root)
    d = Daemon(build, root, policy)
    start(d, "good policy")
    good = nft_table()
    check(good is not None and "tcp . 443" in good, "good policy: its table is loaded")
    last_good = os.path.join(d.state, "last-good")
    # Written (renamed into place) just after READY=1: readiness does not wait for the disk.
    check(wait_until(lambda: os.path.exists(last_good), secs=10) and
          open(last_good).readline().startswith("nftpolicy-ruleset 1 "),
          "the last good ruleset was saved in the state directory")
    check(d.stop() == 0, "stopped")

    policy.break_site()
    drop_table()  # as at boot: nothing in the kernel
    status = start(d, "broken policy, last good present")
    check(nft_table() == good, "exactly the last good table is loaded (nft list table equal)")
    check("LAST GOOD" in status and re.search(r"site\.toml:\d+:\d+: ", status) is not None,
          f"STATUS says LAST GOOD and the error: '{status}'")
    check(d.stop() == 0, "stopped")

    with open(last_good, "r+") as f:  # one digit of one address changed
        text = f.read()
        f.seek(0)
        f.write(text.replace("a1e0000", "a1e0001", 1) if "a1e0000" in text else text[:-3] + "0\n")
    drop_table()
    status = start(d, "broken policy, last good corrupted")
    check("BUILT-IN" in status, f"a corrupted last good file is refused: '{status}'")
    check("hashes to" in d.log_text(), "... the log says why (hash mismatch)")
    assert_safe(nft_table(), "built-in (policy does not load)")
    check("tcp/22 from anywhere" in status, f"the policy does not load: tcp/22 from anywhere: '{status}'")
    check(d.stop() == 0, "stopped")

    os.remove(last_good)
    policy.write(extra_flows='[[flows]]\nid = "bad"\nfrom = "nosuchgroup"\nto = "handler"\nservices = ["https"]\n')
    drop_table()
    status = start(d, "policy that loads but does not resolve, no last good")
    table = nft_table()
    assert_safe(table, "built-in (policy's management)")
    check("[management]" in status and "10.30.0.0/24" in table,
          f"the policy's [management] access (admins 10.30.0.0/24): '{status}'")
    check(re.search(r"site\.toml:\d+:\d+: ", status) is not None, "STATUS has the error with file:line:col")
    check(not os.path.exists(last_good), "a built-in ruleset is never saved as last good")
    check(d.stop() == 0, "stopped")

    kept = nft_table()
    status = start(d, "broken policy, no last good, a table in the kernel")
    check(nft_table() == kept and "KEPT" in status, f"a table already in the kernel is left as it is: '{status}'")
    check(d.stop() == 0, "stopped")


if __name__ == "__main__":
    main()
