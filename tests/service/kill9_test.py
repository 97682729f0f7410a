#!/usr/bin/env python3
"""kill -9 of nftpolicyd at random points of large commits, repeatedly, in a
scratch network namespace. Two policies, A and B, differ in every one of N
agent addresses (default 100,000: every reload replaces the whole set, a
commit of 2N elements). Each round: switch the policy file, SIGHUP, wait a
random time within the measured length of a reload, SIGKILL. Then:
  - the table is exactly A's or exactly B's (`nft list table` compared with
    the listings taken after clean loads): never mixed, never missing;
  - a restarted daemon converges to the policy on disk (READY=1, table equal).
Usage: kill9_test.py BUILD_DIR [ROUNDS] [N]"""
import os
import random
import signal
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_lib import Daemon, Policy, check, nft_table, run_test, write_fleet  # noqa


def use(policy, which):
    policy.write(agents=f'{{ file = "fleet-{which}.txt" }}')


def start(d):
    d.notify.pump()
    mark = len(d.notify.msgs)
    d.start()
    i = d.notify.wait_for("READY=1", secs=120, since=mark, pid=d.proc.pid)
    check(i is not None, "daemon READY=1")


def main():
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 100000
    run_test(run, rounds, n)


def clean_listing(d, policy, which):
    use(policy, which)
    r = d.reload()
    check(r.returncode == 0, f"clean reload to {which}: {r.stderr.strip()}")
    return nft_table()


def run(build, root, rounds, n):
    policy = Policy(root)
    for which, offset in (("a", 0), ("b", 1)):
        write_fleet(os.path.join(policy.dir, f"fleet-{which}.txt"), n, offset)
    use(policy, "a")
    d = Daemon(build, root, policy)
    start(d)
    listing = {"a": nft_table()}
    t = time.monotonic()
    listing["b"] = clean_listing(d, policy, "b")
    reload_secs = time.monotonic() - t
    listing["a"] = clean_listing(d, policy, "a")
    check(listing["a"] != listing["b"] and all(listing.values()), f"A and B differ; a reload takes {reload_secs:.2f} s")
    outcomes = {"old": 0, "new": 0}
    current = "a"
    rng = random.Random(int(os.environ.get("NFTPOLICY_TEST_SEED", "9")))
    for i in range(rounds):
        target = "b" if current == "a" else "a"
        use(policy, target)
        delay = rng.uniform(0, reload_secs * 1.2)
        d.proc.send_signal(signal.SIGHUP)
        time.sleep(delay)
        d.proc.send_signal(signal.SIGKILL)
        d.proc.wait(10)
        now = nft_table()
        found = [w for w in ("a", "b") if now == listing[w]]
        check(len(found) == 1, f"round {i + 1}: killed {delay:.3f} s into the reload to {target}: "
                               f"the table is {found[0] if found else 'MIXED OR MISSING'}")
        outcomes["new" if found[0] == target else "old"] += 1
        start(d)
        check(nft_table() == listing[target], f"round {i + 1}: the restarted daemon converged to {target}")
        current = target
    d.stop()
    print(f"{rounds} kills during reloads of {n} addresses: old table {outcomes['old']} times, "
          f"new table {outcomes['new']} times, mixed or missing 0 times")


if __name__ == "__main__":
    main()
