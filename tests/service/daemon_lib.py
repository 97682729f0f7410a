"""Shared parts of the nftpolicyd tests (imported, not run): a fake service
manager that owns NOTIFY_SOCKET and records every sd_notify message, the
daemon started under it, the real `nft` as independent reader, and the test
policies. The caller runs inside a scratch network namespace (`unshare -n`)
and passes --state-dir/--runtime-dir into a temporary directory, so nothing
here touches the machine's own ruleset, /run or /var/lib."""
import os
import shutil
import signal
import socket
import struct
import atexit
import subprocess
import sys
import tempfile
import threading
import time

PASSED = 0


def check(cond, what):
    global PASSED
    if not cond:
        print("FAIL " + what, flush=True)
        sys.exit(1)
    PASSED += 1
    print("PASS " + what, flush=True)


def nft_table(table="nftpolicy"):
    """`nft list table` text, or None when the table does not exist."""
    p = subprocess.run(["nft", "list", "table", "inet", table], capture_output=True, text=True)
    return p.stdout if p.returncode == 0 else None


def wait_until(pred, secs=10.0, step=0.05):
    end = time.monotonic() + secs
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def write_atomic(path, text):
    """How editors and Ansible write: a new file renamed over the old one."""
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


SITE = """\
include = ["./extra.toml"]

[groups]
agents = {agents}
handler = ["10.20.0.11", "fd00:20::11"]
admins = {{ file = "admins.txt" }}

[services]
msrpc = {{ tcp = [17000] }}
https = {{ tcp = [443] }}

[migrations.m]
gates = ["agents-migrated"]
phase = "coexist"

[management]
from = "admins"

[[flows]]
id = "old"
from = "agents"
to = "handler"
services = ["msrpc"]
retired_by = "m.agents-migrated"

[[flows]]
id = "new"
from = "agents"
to = "handler"
services = ["https"]
introduced_by = "m"
{extra_flows}
[hosts.h]
roles = ["handler"]
"""

EXTRA = """\
[services]
web = {{ tcp = [{port}] }}

[[flows]]
id = "web"
from = "agents"
to = "handler"
services = ["web"]
"""


class Policy:
    """A site policy in a temporary directory: site.toml, the included
    extra.toml and the address list admins.txt."""

    def __init__(self, root):
        self.dir = os.path.join(root, "etc")
        os.makedirs(self.dir)
        self.site = os.path.join(self.dir, "site.toml")
        self.extra = os.path.join(self.dir, "extra.toml")
        self.admins = os.path.join(self.dir, "admins.txt")
        self.write(port=8080)
        write_atomic(self.admins, "10.30.0.0/24\n")

    def write(self, port=8080, extra_flows="", agents='["10.10.0.0/16", "fd00:10::/32"]'):
        write_atomic(self.site, SITE.format(extra_flows=extra_flows, agents=agents))
        write_atomic(self.extra, EXTRA.format(port=port))

    def break_site(self):
        """An unknown key on line 3: the loader stops there."""
        text = open(self.site).read().replace("[groups]\n", "[groups]\nagnets_typo = 7\n[bogus]\nx = 1\n", 1)
        write_atomic(self.site, text)


def write_fleet(path, n, offset):
    """n IPv4 addresses that do not merge (every other one from 10.64.0.0 + offset)."""
    base = (10 << 24) + (64 << 16) + offset
    with open(path + ".tmp", "w") as f:
        for i in range(n):
            v = base + 2 * i
            f.write(f"{v >> 24}.{(v >> 16) & 255}.{(v >> 8) & 255}.{v & 255}\n")
    os.rename(path + ".tmp", path)


class Notify:
    """The service manager's side of sd_notify: one datagram socket, read
    continuously by a thread, as systemd reads it. (A reader that falls
    behind would stall the daemon: once 10 datagrams wait unread,
    net.unix.max_dgram_qlen, its sd_notify blocks, as with a stuck PID 1.)"""

    def __init__(self, root):
        self.path = os.path.join(root, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
        self.sock.bind(self.path)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.settimeout(0.05)
        self.msgs = []  # (monotonic time, pid, "KEY=value"), appended by the reader thread
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        while True:
            try:
                data, anc, _, _ = self.sock.recvmsg(65536, socket.CMSG_SPACE(12))
            except socket.timeout:
                continue
            except OSError:
                return
            pid = None
            for lvl, typ, cd in anc:
                if lvl == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("iii", cd[:12])[0]
            for line in data.decode().split("\n"):
                if line:
                    self.msgs.append((time.monotonic(), pid, line))

    def pump(self, secs=0.0):
        """Lets messages arrive for `secs` (the reader thread takes them)."""
        time.sleep(max(secs, 0.02))

    def wait_for(self, prefix, secs=15.0, since=0, pid=None):
        """Index of the first message from `since` on that starts with
        `prefix` (and comes from `pid`: a killed daemon's last messages may
        still be queued when its successor starts)."""
        end = time.monotonic() + secs
        while True:
            for i in range(since, len(self.msgs)):
                if self.msgs[i][2].startswith(prefix) and pid in (None, self.msgs[i][1]):
                    return i
            if time.monotonic() >= end:
                return None
            self.pump(0.05)

    def last_status(self):
        self.pump()
        st = [m[2] for m in self.msgs if m[2].startswith("STATUS=")]
        return st[-1][len("STATUS="):] if st else ""


RUNNING = []


@atexit.register
def _kill_daemons():
    """A failed check exits at once: no daemon may outlive its test."""
    for p in RUNNING:
        if p.poll() is None:
            p.kill()
            p.wait()


class Daemon:
    """nftpolicyd under a fake service manager, with a private state and
    runtime directory."""

    def __init__(self, build, root, policy, watchdog_usec=None, extra_args=(), metrics_dir=""):
        self.nftpolicyd = os.path.join(build, "daemon", "nftpolicyd")
        self.nftpolicy = os.path.join(build, "daemon", "nftpolicy")
        self.root = root
        self.state = os.path.join(root, "state")
        self.runtime = os.path.join(root, "run")
        self.policy = policy
        self.notify = Notify(root) if not os.path.exists(os.path.join(root, "notify.sock")) else None
        self.watchdog_usec = watchdog_usec
        # No textfile by default: the daemon's default directory is the
        # machine's own node_exporter directory.
        self.extra_args = ["--metrics-dir", metrics_dir] + list(extra_args)
        self.proc = None
        self.log = None

    def start(self, notify=None):
        if notify is not None:
            self.notify = notify
        env = dict(os.environ, NOTIFY_SOCKET=self.notify.path, NFTPOLICY_PATH="")
        env.pop("WATCHDOG_PID", None)
        env.pop("JOURNAL_STREAM", None)
        if self.watchdog_usec:
            env["WATCHDOG_USEC"] = str(self.watchdog_usec)
        else:
            env.pop("WATCHDOG_USEC", None)
        self.log = open(os.path.join(self.root, "daemon.log"), "a")
        self.proc = subprocess.Popen([self.nftpolicyd, self.policy.site, "--state-dir", self.state,
                                      "--runtime-dir", self.runtime] + self.extra_args,
                                     env=env, stdout=self.log, stderr=self.log)
        RUNNING.append(self.proc)
        return self.proc

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            end = time.monotonic() + 20
            while self.proc.poll() is None and time.monotonic() < end:
                self.notify.pump(0.05)  # its STOPPING=1 must not find the queue full
            return self.proc.wait(1)
        return self.proc.returncode if self.proc else None

    def cli(self, *args):
        """The CLI with this run's lock and state directory."""
        env = dict(os.environ, NFTPOLICY_PATH="")
        return subprocess.run([self.nftpolicy] + list(args), capture_output=True, text=True, env=env)

    def kernel_args(self):
        return ["--lock", os.path.join(self.runtime, "lock"), "--state-dir", self.state]

    def reload(self):
        return self.cli("reload", "--runtime-dir", self.runtime)

    def log_text(self):
        self.log.flush()
        return open(os.path.join(self.root, "daemon.log")).read()


def scratch_namespace_or_exit():
    """Re-exec in a fresh network namespace (root), or skip (77)."""
    if os.geteuid() != 0:
        print("SKIP: needs root for unshare -n", file=sys.stderr)
        sys.exit(77)
    if os.environ.get("NFTPOLICY_IN_NETNS") != "1":
        os.environ["NFTPOLICY_IN_NETNS"] = "1"
        os.execvp("unshare", ["unshare", "-n", sys.executable] + sys.argv)
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    if [l.split(":")[1].strip() for l in links.splitlines()] != ["lo"]:
        print("not in a scratch network namespace", file=sys.stderr)
        sys.exit(1)
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)


def run_test(run, *args):
    """A test's main(): re-exec in a scratch namespace, run(BUILD, ROOT, *args)
    with BUILD from argv[1] and ROOT a temporary directory (removed afterwards,
    kept with NFTPOLICY_TEST_KEEP=1), then print the count of checks passed."""
    scratch_namespace_or_exit()
    build = os.path.abspath(sys.argv[1])
    root = tempfile.mkdtemp(prefix="nftpolicyd-test-")
    try:
        run(build, root, *args)
    finally:
        if os.environ.get("NFTPOLICY_TEST_KEEP"):
            print("kept " + root)
        else:
            shutil.rmtree(root, ignore_errors=True)
    print(f"{PASSED} passed")


if __name__ == "__main__":
    # For the shell tests: daemon_lib.py write ROOT PORT | break ROOT
    if sys.argv[1] == "write":
        p = Policy.__new__(Policy)
        p.dir = os.path.join(sys.argv[2], "etc")
        p.site, p.extra = os.path.join(p.dir, "site.toml"), os.path.join(p.dir, "extra.toml")
        p.admins = os.path.join(p.dir, "admins.txt")
        os.makedirs(p.dir, exist_ok=True)
        p.write(port=int(sys.argv[3]))
        write_atomic(p.admins, "10.30.0.0/24\n")
    elif sys.argv[1] == "break":
        p = Policy.__new__(Policy)
        p.site = os.path.join(sys.argv[2], "etc", "site.toml")
        p.break_site()
