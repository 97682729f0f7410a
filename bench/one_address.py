#!/usr/bin/env python3
"""one_address.py: a one-address change through nftpolicyd, side by side
with a full apply of the same policy, in one run (issue 11).

For each size N: bench/gen_policy.sh's site with N agent addresses, then
  1. full applies, each in a FRESH network namespace (`unshare -n`), REPS
     times alternating `nftpolicy apply` and `nft -f` of the text `nftpolicy
     compile` prints (wall time; CPU = user + sys of the child);
  2. nftpolicyd started on the policy in this bench's own namespace; once it
     is ready, EDITS one-address edits of agents.txt, each timed from the
     edit to the end of `nftpolicy reload` (the CLI returns when the daemon's
     converge, commit included, is done): the edit overwrites, in place, the
     "10.64." of one line in the first /16 of the list with "10.96." (an
     address that merges with nothing) or puts it back, so each edit removes
     one address and adds another, in the middle of the list;
  3. EDITS edits again back to back, each edit as soon as the reload before
     it returned (a script reloading after each of many edits): what a
     reload costs when the work a converge leaves after its answer (the
     state files, Manager::defer_writes) has not happened yet;
  4. the same edits again with `strace -f -T -e trace=sendmsg` attached to
     the daemon: the kernel's part, i.e. the time in sendmsg during each
     edit's window (libmnl sends batches with sendmsg, reads with sendto);
  5. the daemon's VmRSS and VmHWM at the end, and its CPU time per paced
     edit (all it did for the edit: the list read ahead when the editor
     closed it, the converge, the state files written after a burst).
Prints medians and p90 and the ratio of the one-address change to the full
apply (both nftpolicy's and nft's).

Usage: bench/one_address.py [--build DIR] [--sizes "100000 1000000"]
                            [--reps 3] [--edits 20]     (root; one_address.sh)"""
import argparse
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time

from drift_daemon import HERE, ROOT, in_netns  # the same namespace set-up as the drift bench


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, (len(xs) * p) // 100)]


def timed(cmd, **kw):
    """Wall seconds and CPU seconds (user + sys of the waited-for children)."""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, **kw)
    wall = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)


class Site:
    def __init__(self, build, n, work):
        self.build, self.n, self.work = build, n, work
        self.dir = os.path.join(work, "site")
        subprocess.run([os.path.join(HERE, "gen_policy.sh"), str(n), self.dir], check=True,
                       stdout=subprocess.DEVNULL)
        self.policy = os.path.join(self.dir, "policy.toml")
        self.agents = os.path.join(self.dir, "agents.txt")
        self.common = [self.policy, "-I", os.path.join(ROOT, "policies"), "--host", "handler1"]
        self.nft_text = os.path.join(work, "ruleset.nft")
        with open(self.nft_text, "w") as out:
            subprocess.run([self.tool("nftpolicy"), "compile"] + self.common, check=True, stdout=out)

    def tool(self, name):
        return os.path.join(self.build, "daemon", name)

    def full_apply(self, rep):
        w = os.path.join(self.work, f"full{rep}")
        os.makedirs(w)
        return timed(["unshare", "-n", self.tool("nftpolicy"), "apply"] + self.common +
                     ["--phase", "coexist", "--lock", w + "/lock", "--state-dir", w + "/state"])

    def nft_f(self):
        return timed(["unshare", "-n", "nft", "-f", self.nft_text])


class Editor:
    """Toggles line `k` of the address list between 10.64.x.y and 10.96.x.y
    in place (same length: nothing else in the file moves)."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            data = f.read(1 << 20)
        self.offsets = [m.start() for m in re.finditer(rb"^10\.64\.", data, re.M)][:30000]
        self.state = {}

    def edit(self, i):
        off = self.offsets[(i // 2) * 7919 % len(self.offsets)]
        new = b"10.64." if self.state.get(off) else b"10.96."
        self.state[off] = not self.state.get(off)
        fd = os.open(self.path, os.O_WRONLY)
        try:
            os.pwrite(fd, new, off)
        finally:
            os.close(fd)


class Daemon:
    def __init__(self, site):
        self.site = site
        self.run_dir = os.path.join(site.work, "run")
        self.log = open(os.path.join(site.work, "daemon.log"), "w")
        # GLIBC_TUNABLES as systemd/nftpolicyd.service sets it.
        env = dict(os.environ, NFTPOLICY_PATH="", NOTIFY_SOCKET="", GLIBC_TUNABLES="glibc.malloc.hugetlb=1")
        t0 = time.monotonic()
        self.p = subprocess.Popen([site.tool("nftpolicyd")] + site.common +
                                  ["--state-dir", site.work + "/dstate", "--runtime-dir", self.run_dir],
                                  stderr=self.log, env=env)
        while subprocess.run([site.tool("nftpolicy"), "reload", "--status", "--runtime-dir", self.run_dir],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
            if self.p.poll() is not None:
                sys.exit("nftpolicyd exited; see " + self.log.name)
            time.sleep(0.2)
        self.ready = time.monotonic() - t0

    def reload(self):
        subprocess.run([self.site.tool("nftpolicy"), "reload", "--runtime-dir", self.run_dir], check=True,
                       stdout=subprocess.DEVNULL)

    def converge_times(self):
        """The daemon's own time for each converge that committed (its log:
        "... committed in one transaction (12.3 ms)"): compile, commit and
        apply record, not the state files written after the answer."""
        self.log.flush()
        with open(self.log.name) as f:
            return [float(m.group(1)) / 1000 for m in
                    re.finditer(r"committed in one transaction \(([\d.]+) ms\)", f.read())]

    def memory(self):
        fields = {}
        for line in open(f"/proc/{self.p.pid}/status"):
            k, _, v = line.partition(":")
            if k in ("VmRSS", "VmHWM"):
                fields[k] = int(v.split()[0]) / 1024
        return fields

    def cpu(self):
        """Seconds the daemon has run on a CPU, all its threads
        (/proc/PID/task/*/schedstat: nanoseconds, not clock ticks)."""
        tasks = f"/proc/{self.p.pid}/task"
        return sum(int(open(f"{tasks}/{t}/schedstat").read().split()[0]) for t in os.listdir(tasks)) / 1e9

    def stop(self):
        self.p.terminate()
        self.p.wait()


def edits(daemon, editor, count, first, pause=0.3):
    """Edit -> reload done, in seconds; and each edit's wall-clock window.
    With a pause, the previous converge's after-work and its inotify echo
    are over before each edit."""
    lat, windows = [], []
    for i in range(first, first + count):
        time.sleep(pause)
        w0 = time.time()
        t0 = time.monotonic()
        editor.edit(i)
        daemon.reload()
        lat.append(time.monotonic() - t0)
        windows.append((w0, time.time()))
    return lat, windows


def kernel_part(daemon, editor, count, first, work):
    """The time in sendmsg during each edit's window, from strace."""
    out = os.path.join(work, "strace")
    st = subprocess.Popen(["strace", "-f", "-ttt", "-T", "-e", "trace=sendmsg", "-o", out, "-p",
                           str(daemon.p.pid)], stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    _, windows = edits(daemon, editor, count, first)
    time.sleep(0.3)
    st.terminate()
    st.wait()
    calls = []
    for line in open(out):
        m = re.search(r"^(?:\d+\s+)?([\d.]+) sendmsg\(.*<([\d.]+)>$", line.strip())
        if m:
            calls.append((float(m.group(1)), float(m.group(2))))
    return [sum(d for t, d in calls if w0 <= t <= w1) for w0, w1 in windows]


def ms(x):
    return f"{x * 1000:.1f} ms"


def run_size(build, n, reps, count):
    work = tempfile.mkdtemp(prefix=f"one-address-{n}-")
    site = Site(build, n, work)
    full, nft = [], []
    for r in range(reps):
        full.append(site.full_apply(r))
        nft.append(site.nft_f())
    daemon = Daemon(site)
    editor = Editor(site.agents)
    cpu0 = daemon.cpu()
    lat, _ = edits(daemon, editor, count, 0)
    cpu_per_edit = (daemon.cpu() - cpu0) / count
    inner = daemon.converge_times()[-count:]
    time.sleep(1.5)  # the state files of the last edit are written
    burst, _ = edits(daemon, editor, count, count, pause=0)
    time.sleep(1.5)
    kern = kernel_part(daemon, editor, count, 2 * count, work)
    mem = daemon.memory()
    daemon.stop()
    full_wall = statistics.median(w for w, _ in full)
    nft_wall = statistics.median(w for w, _ in nft)
    print(f"== {n} addresses ({reps} full applies, {count} + {count} edits; work dir {work})")
    print(f"full nftpolicy apply: wall median {ms(full_wall)}, cpu median {ms(statistics.median(c for _, c in full))}")
    print(f"full nft -f:          wall median {ms(nft_wall)}, cpu median {ms(statistics.median(c for _, c in nft))}")
    print(f"nftpolicyd ready after {daemon.ready:.2f} s; VmRSS {mem['VmRSS']:.0f} MiB, VmHWM {mem['VmHWM']:.0f} MiB")
    print(f"one address, edit -> reload done: median {ms(statistics.median(lat))}, p90 {ms(pct(lat, 90))}, "
          f"min {ms(min(lat))}, max {ms(max(lat))}")
    print(f"  nftpolicyd's converge (compile + commit + apply record; the list read ahead on the editor's close "
          f"is not in it): median {ms(statistics.median(inner))}, p90 {ms(pct(inner, 90))}; "
          f"ratio to the full apply 1/{full_wall / statistics.median(inner):.0f}")
    print(f"  nftpolicyd's CPU per edit (read ahead, converge, its share of the state files): {ms(cpu_per_edit)}")
    print(f"  back to back (each edit as soon as the last reload returned): median {ms(statistics.median(burst))}, "
          f"p90 {ms(pct(burst, 90))}, max {ms(max(burst))}; ratio 1/{full_wall / statistics.median(burst):.0f}")
    print(f"  kernel part (sendmsg, under strace): median {ms(statistics.median(kern))}, p90 {ms(pct(kern, 90))}")
    print(f"  ratio to the full apply: {statistics.median(lat) / full_wall:.4f} "
          f"(1/{full_wall / statistics.median(lat):.0f}); to nft -f: {statistics.median(lat) / nft_wall:.4f}")
    sys.stdout.flush()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--sizes", default="100000 1000000")
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--edits", type=int, default=20)
    a = ap.parse_args()
    in_netns()
    for n in a.sizes.split():
        run_size(os.path.abspath(a.build), int(n), a.reps, a.edits)


if __name__ == "__main__":
    main()
