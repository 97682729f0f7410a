#!/usr/bin/env python3
"""nftpolicyd and the sd_notify protocol, with the real kernel in a scratch
network namespace and a fake service manager on NOTIFY_SOCKET:
  - READY=1 only once the table is in the kernel (read with the real nft);
  - STATUS= names the phase, the gates, the generation and the flow count;
  - WATCHDOG=1 pings at half of WATCHDOG_USEC;
  - SIGHUP and `nftpolicy reload`: RELOADING=1 (with MONOTONIC_USEC) then READY=1;
  - an edit of an included file, then of an address list (inotify): reloaded,
    the new port, then the new address in the kernel;
  - a broken policy: `nftpolicy reload` exits 3 with file:line:col, STATUS=
    carries the error, the kernel keeps the old table, the daemon keeps running;
  - the CLI (`apply --phase final`, `migration set-phase`) while the daemon
    runs: the daemon adopts the recorded phase and does not revert it;
  - in-place edits of the list, the last one not yet closed when the
    reload is asked for: in the kernel when `nftpolicy reload` returns;
  - reloads back to back: the state files (last-good) are written once the
    burst is over and hold its last ruleset; on SIGTERM, the files a reload
    left are written before the daemon exits;
  - SIGTERM: STOPPING=1, exit 0, the table stays.
Usage: notify_test.py BUILD_DIR"""
import os
import re
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_lib import (Daemon, Policy, check, nft_table, run_test,  # noqa: E402
                        wait_until, write_atomic)


def reload_pair(d, since):
    """RELOADING=1 then READY=1 after message `since`; returns the READY index."""
    r = d.notify.wait_for("RELOADING=1", since=since)
    ok = r is not None and d.notify.wait_for("READY=1", since=r + 1) is not None
    return ok, (d.notify.wait_for("READY=1", since=r + 1) if ok else None)


def main():
    run_test(run)


def run(build, root):
    policy = Policy(root)
    d = Daemon(build, root, policy, watchdog_usec=400000)
    t0 = time.monotonic()
    d.start()
    n = d.notify
    i = n.wait_for("READY=1")
    table_at_ready = nft_table()
    check(i is not None, f"READY=1 after start ({time.monotonic() - t0:.2f} s)")
    check(table_at_ready is not None and "tcp . 17000" in table_at_ready and "tcp . 443" in table_at_ready,
          "at READY=1 the table is in the kernel (nft list table), legacy and new ports (coexist)")
    check(all(m[1] == d.proc.pid for m in n.msgs), "every message comes from the daemon's pid (SCM_CREDENTIALS)")
    status = n.last_status()
    check(re.search(r"gen 1 policy; phase m=coexist; gates none; \d+ flows", status) is not None,
          f"STATUS names generation, phase, gates, flows: '{status}'")

    sock = os.path.join(d.runtime, "control")
    check(oct(os.stat(sock).st_mode & 0o777) == "0o600" and oct(os.stat(d.runtime).st_mode & 0o777) == "0o700",
          "the control socket is 0600 in a 0700 runtime directory")
    r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", d.nftpolicy, "reload",
                        "--runtime-dir", d.runtime], capture_output=True, text=True)
    check(r.returncode == 4 and "Permission denied" in r.stderr,
          f"another user cannot ask for a reload: exit {r.returncode}, {r.stderr.strip()}")

    mark = len(n.msgs)
    n.pump(1.0)
    pings = sum(1 for m in n.msgs[mark:] if m[2] == "WATCHDOG=1")
    check(pings >= 3, f"WATCHDOG=1 pings in 1 s with WATCHDOG_USEC=400000: {pings}")

    mark = len(n.msgs)
    d.proc.send_signal(signal.SIGHUP)
    ok, _ = reload_pair(d, mark)
    check(ok, "SIGHUP: RELOADING=1 then READY=1")
    check(any(m[2].startswith("MONOTONIC_USEC=") for m in n.msgs[mark:]), "RELOADING=1 carries MONOTONIC_USEC=")

    mark = len(n.msgs)
    r = d.reload()
    check(r.returncode == 0 and "reloaded: gen 1 policy" in r.stdout,
          f"nftpolicy reload: exit 0, '{r.stdout.strip()}' {r.stderr.strip()}")
    ok, _ = reload_pair(d, mark)
    check(ok, "nftpolicy reload: RELOADING=1 then READY=1")

    mark = len(n.msgs)
    policy.write(port=8081)  # the included file only
    check(wait_until(lambda: "tcp . 8081" in (nft_table() or "")),
          "inotify: editing the included extra.toml puts tcp/8081 in the kernel")
    ok, _ = reload_pair(d, mark)
    check(ok and "gen 2 policy" in n.last_status(), f"... framed by RELOADING=1/READY=1, now '{n.last_status()}'")

    mark = len(n.msgs)
    write_atomic(policy.admins, "10.30.0.0/24\n10.31.0.7\n")  # the address list only
    check(wait_until(lambda: "10.31.0.7" in (nft_table() or "")),
          "inotify: editing the address list admins.txt puts 10.31.0.7 in the kernel")
    ok, _ = reload_pair(d, mark)
    check(ok and "gen 3 policy" in n.last_status(), f"... framed by RELOADING=1/READY=1, now '{n.last_status()}'")

    burst_of_reloads(d, policy)
    edits_in_place(d, policy)

    before = nft_table()
    mark = len(n.msgs)
    policy.break_site()
    r = d.reload()
    check(r.returncode == 3, f"nftpolicy reload of a broken policy exits 3 (got {r.returncode})")
    check(re.search(re.escape(policy.site) + r":\d+:\d+: error: ", r.stderr) is not None,
          "... and prints the error with file:line:col: " + r.stderr.strip().splitlines()[0])
    check(re.search(r"error: .*site\.toml:\d+:\d+: ", n.last_status()) is not None,
          f"STATUS carries the error with file:line:col: '{n.last_status()}'")
    check(nft_table() == before, "the kernel keeps the last good table")
    check(d.proc.poll() is None, "the daemon keeps running")
    check(re.search(r"site\.toml:\d+:\d+: error", d.log_text()) is not None,
          "the log (stderr without journald) has the error with file:line:col")

    policy.write(port=8081)
    r = d.reload()
    check(r.returncode == 0 and "error" not in n.last_status(),
          f"fixed policy: reload exits 0, the error is gone from STATUS: '{n.last_status()}'")

    cli_adoption(d, policy)

    write_atomic(policy.admins, open(policy.admins).read() + "10.33.0.9\n")  # adds only (the lockout guard)
    r = d.reload()
    check(r.returncode == 0, f"an edit just before SIGTERM: reload exit {r.returncode} {r.stderr}")
    want = last_reload_hash(d)
    mark = len(n.msgs)
    table = nft_table()
    rc = d.stop()
    check(last_good_hash(d) == want, f"... the last good ruleset it left is written before the daemon exits ({want})")
    n.pump(0.2)
    check(rc == 0 and any(m[2] == "STOPPING=1" for m in n.msgs[mark:]), f"SIGTERM: STOPPING=1, exit {rc}")
    check(nft_table() == table and table is not None, "after the daemon stopped, the table stays in the kernel")


def last_reload_hash(d):
    """The ruleset hash of the daemon's last reload (its log)."""
    found = re.findall(r"nftpolicy reload: ruleset gen \d+ \(\d+ flows, hash ([0-9a-f]+)\)", d.log_text())
    return found[-1] if found else None


def last_good_hash(d):
    """The hash in the header of the state directory's last good ruleset."""
    try:
        with open(os.path.join(d.state, "last-good")) as f:
            return f.readline().split()[-1]
    except (OSError, IndexError):
        return None


def burst_of_reloads(d, policy):
    """Three edits, each reloaded as soon as the reload before returned: each
    is in the kernel when its reload returns, and the state files, written
    once the daemon is quiet (Manager::defer_writes), hold the last one."""
    seen = []
    for i in range(3):  # adds only: the lockout guard refuses to drop an admin
        added = "".join(f"10.32.0.{k + 1}\n" for k in range(i + 1))
        write_atomic(policy.admins, "10.30.0.0/24\n10.31.0.7\n" + added)
        r = d.reload()
        seen.append((r.returncode, r.stderr.strip(), f"10.32.0.{i + 1}" in (nft_table() or "")))
    check(all(rc == 0 and there for rc, _, there in seen),
          f"three edits reloaded back to back: each address is in the kernel when its reload returns {seen}")
    want = last_reload_hash(d)
    check(wait_until(lambda: last_good_hash(d) == want, secs=10),
          f"... and the last good ruleset is written with the last one ({want}), got {last_good_hash(d)}")


def edits_in_place(d, policy):
    """Same-size edits of the address list in place, each followed 1 ms
    later by a second one still open when `nftpolicy reload` is asked for.
    nftpolicyd reads a list ahead once an editor closes it, and skips the
    reload's read while the file keeps its stamp; within one tick of the
    kernel's clock two such writes keep it, so only the IN_MODIFY event of
    the second tells the daemon to read again (on kernels with multigrain
    timestamps, 6.13 and later, the daemon's stat of the file makes the
    next write's change time differ, and the stamp alone tells them apart;
    tests/unit/service/watcher_test.cpp holds the events). Each reload must
    find both addresses in the kernel when it returns."""
    base = open(policy.admins).read()
    lines = [f"#10.33.{k}.1\n#10.33.{k}.2\n" for k in range(6)]
    write_atomic(policy.admins, base + "".join(lines))
    check(d.reload().returncode == 0, "in-place edits: the list with commented-out lines loads")
    seen = []
    for k in range(6):
        at = len(base) + sum(len(x) for x in lines[:k])
        fd = os.open(policy.admins, os.O_WRONLY)
        os.pwrite(fd, b" ", at)  # "#10.33.k.1" -> " 10.33.k.1": one address more, the size kept
        os.close(fd)
        time.sleep(0.001)
        fd = os.open(policy.admins, os.O_WRONLY)
        try:
            os.pwrite(fd, b" ", at + len(lines[k]) // 2)  # the same for 10.33.k.2, not closed yet
            r = d.reload()
        finally:
            os.close(fd)
        table = nft_table() or ""
        seen.append((r.returncode, f"10.33.{k}.1" in table, f"10.33.{k}.2" in table))
    check(all(s == (0, True, True) for s in seen),
          f"in-place edits, the second still open when the reload is asked for: both in the kernel {seen}")


def cli_adoption(d, policy):
    """The CLI changes the phase while the daemon runs: the daemon adopts it."""
    n = d.notify
    r = d.cli("apply", policy.site, "--phase", "final", *d.kernel_args())
    check(r.returncode == 0, f"CLI apply --phase final while the daemon runs: exit {r.returncode} {r.stderr}")
    check(wait_until(lambda: "phase m=final" in n.last_status()),
          f"the daemon adopts the phase recorded in the state directory: '{n.last_status()}'")
    time.sleep(0.5)
    t = nft_table() or ""
    check("tcp . 17000" not in t and "tcp . 443" in t, "... and does not revert it: no legacy port in the kernel")
    check(re.search(r"migration state changed: ruleset gen \d+ .*: the kernel already held it", d.log_text()),
          "... it committed nothing: the CLI had done it (daemon log)")
    r = d.cli("migration", "set-phase", "m", "coexist", policy.site, *d.kernel_args())
    check(r.returncode == 0, f"CLI migration set-phase m coexist: exit {r.returncode} {r.stderr}")
    check(wait_until(lambda: "phase m=coexist" in n.last_status()), f"the daemon adopts it: '{n.last_status()}'")
    time.sleep(0.5)
    check("tcp . 17000" in (nft_table() or ""), "... the legacy port is back and stays")
    r = d.reload()
    check(r.returncode == 0 and "tcp . 17000" in (nft_table() or ""),
          "a reload keeps the recorded phase (the state directory is the source of truth)")


if __name__ == "__main__":
    main()
