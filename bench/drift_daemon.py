#!/usr/bin/env python3
"""drift_daemon.py: drift repair measured through nftpolicyd itself. In a
fresh network namespace, nftpolicyd loads bench/gen_policy.sh's site with N
agent addresses; then, REPS times, another process (one `nft -i` session, as
an admin's shell would) flushes chain in_tcp_22 (its rule deleted; no handle
needed: listing a chain with nft reads the large sets too), and we time from
sending the command to the daemon's repair count going up (RUNTIME_DIR/drift,
written right after the repair commit). The sets are untouched: the repair
must read none of them back. At the end the chain's rule must be there.
Then the same, each flush preceded by a commit to another table (`add chain
ip bench_other cI`): the daemon carries its known set elements across that
generation, so the repair must cost the same (no set dump: 4.7 s at 100k,
74 s at 1M).
Usage: bench/drift_daemon.py BUILD_DIR N [REPS]   (root; bench/drift.sh --daemon)"""
import os
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)


def in_netns():
    if os.environ.get("NFTPOLICY_IN_NETNS") != "1":
        os.environ["NFTPOLICY_IN_NETNS"] = "1"
        os.execvp("unshare", ["unshare", "-n", sys.executable] + sys.argv)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)


def repairs(run):
    try:
        for line in open(os.path.join(run, "drift")):
            k, v = line.split()
            if k == "repairs":
                return int(v)
    except OSError:
        pass
    return 0


class Session:
    def __init__(self):
        self.p = subprocess.Popen(["nft", "-i"], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, text=True, bufsize=1)

    def send(self, cmd):
        self.p.stdin.write(cmd + "\n")
        self.p.stdin.flush()


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, len(xs) * p // 100)] * 1000


def measure(s, run, reps, foreign):
    lat, t_all = [], time.monotonic()
    for i in range(reps):
        if foreign:
            s.send(f"add chain ip bench_other c{i}")
        n = repairs(run)
        t0 = time.monotonic()
        s.send("flush chain inet nftpolicy in_tcp_22")
        while repairs(run) == n:
            if time.monotonic() - t0 > 120:
                sys.exit(f"no repair within 120 s (rep {i})")
            time.sleep(0.0002)
        lat.append(time.monotonic() - t0)
    return lat, time.monotonic() - t_all


def main():
    build, n = os.path.abspath(sys.argv[1]), int(sys.argv[2])
    reps = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    in_netns()
    work = tempfile.mkdtemp(prefix="drift-daemon-")
    subprocess.run([os.path.join(HERE, "gen_policy.sh"), str(n), work + "/site"], check=True,
                   stdout=subprocess.DEVNULL)
    run = work + "/run"
    env = dict(os.environ, NFTPOLICY_PATH="")
    env.pop("NOTIFY_SOCKET", None)
    log = open(work + "/log", "w")
    t0 = time.monotonic()
    d = subprocess.Popen([build + "/daemon/nftpolicyd", work + "/site/policy.toml", "-I", ROOT + "/policies",
                          "--host", "handler1", "--state-dir", work + "/state", "--runtime-dir", run],
                         env=env, stdout=log, stderr=log)
    try:
        while subprocess.run([build + "/daemon/nftpolicy", "reload", "--status", "--runtime-dir", run],
                             capture_output=True).returncode != 0:
            if d.poll() is not None or time.monotonic() - t0 > 600:
                sys.exit("nftpolicyd did not start: " + open(work + "/log").read())
            time.sleep(0.1)
        print(f"== {n} addresses: nftpolicyd ready in {time.monotonic() - t0:.2f} s", flush=True)
        s = Session()
        subprocess.run(["nft", "add table ip bench_other"], check=True)
        for foreign in (False, True):
            lat, took = measure(s, run, reps, foreign)
            what = "after a commit to another table" if foreign else "alone"
            print(f"repair of a flushed chain, {what}: p50 {pct(lat, 50):.1f} ms, p99 {pct(lat, 99):.1f} ms, "
                  f"max {max(lat) * 1000:.1f} ms ({reps} repairs, {took:.1f} s)", flush=True)
        chain = subprocess.run(["nft", "list", "chain", "inet", "nftpolicy", "in_tcp_22"], capture_output=True,
                               text=True).stdout
        if "accept" not in chain:
            sys.exit("chain in_tcp_22 is not whole at the end")
    finally:
        d.terminate()
        d.wait(30)
        subprocess.run(["rm", "-rf", work])


if __name__ == "__main__":
    main()
