#!/usr/bin/env python3
"""Reloads under traffic. The daemon's host and an agent live in two scratch
network namespaces joined by a veth pair; the host runs an echo server on
the allowed ports (tcp/443 and tcp/17000, open in both policies) and on the
denied ones (tcp/9999, tcp/23: listening, so a leak would connect). While
traffic_load.py runs long TCP flows, new connections and probes from the
agent, the test reloads the daemon (`nftpolicy reload`) alternating two
policies (extra.toml opens tcp/8081 or tcp/8082) RELOADS times (SECONDS is
a safety cap: the test fails if it stops there). Asserts: every reload exits
0 and changes the kernel; 0 allowed connections failed, 0 denied probes got
through.
Usage: traffic_test.py BUILD_DIR [RELOADS] [SECONDS]"""
import json
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_lib import Daemon, Policy, check, nft_table, run_test  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SERVER = """
import selectors, socket, sys
sel = selectors.DefaultSelector()
for port in map(int, sys.argv[1:]):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(128); s.setblocking(False); sel.register(s, selectors.EVENT_READ, None)
print("ready", flush=True)
while True:
    for key, _ in sel.select():
        if key.data is None:
            c, _ = key.fileobj.accept(); c.setblocking(False); sel.register(c, selectors.EVENT_READ, "c")
        else:
            try: data = key.fileobj.recv(4096)
            except OSError: data = b""
            if data:
                try: key.fileobj.sendall(data)
                except OSError: pass
            else:
                sel.unregister(key.fileobj); key.fileobj.close()
"""


def sh(*args):
    subprocess.run(list(args), check=True)


def topology():
    agent = subprocess.Popen(["unshare", "-n", "sleep", "3600"])
    me = os.readlink("/proc/self/ns/net")
    for _ in range(100):
        try:
            if os.readlink(f"/proc/{agent.pid}/ns/net") != me:
                break
        except OSError:
            pass
        time.sleep(0.02)
    a = ["nsenter", "-t", str(agent.pid), "-n"]
    sh("ip", "link", "add", "veth-host", "type", "veth", "peer", "name", "veth-agent")
    sh("ip", "link", "set", "veth-agent", "netns", str(agent.pid))
    sh("ip", "addr", "add", "10.20.0.11/16", "dev", "veth-host")
    sh("ip", "link", "set", "veth-host", "up")
    sh("ip", "route", "add", "10.10.0.0/16", "dev", "veth-host")
    sh(*a, "ip", "link", "set", "lo", "up")
    sh(*a, "ip", "addr", "add", "10.10.0.5/16", "dev", "veth-agent")
    sh(*a, "ip", "link", "set", "veth-agent", "up")
    sh(*a, "ip", "route", "add", "10.20.0.0/16", "dev", "veth-agent")
    return agent, a


def main():
    reloads = int(sys.argv[2]) if len(sys.argv) > 2 else 1000
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 400
    run_test(run, reloads, seconds)


def run(build, root, reloads, seconds):
    procs = []
    try:
        run_with_load(build, root, reloads, seconds, procs)
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()


def run_with_load(build, root, reloads, seconds, procs):
    agent, in_agent = topology()
    procs.append(agent)
    server = subprocess.Popen([sys.executable, "-c", SERVER, "443", "17000", "9999", "23"],
                              stdout=subprocess.PIPE, text=True)
    procs.append(server)
    check(server.stdout.readline().strip() == "ready", "echo server on tcp/443, 17000, 9999, 23")
    policy = Policy(root)
    d = Daemon(build, root, policy)
    d.start()
    procs.append(d.proc)
    check(d.notify.wait_for("READY=1") is not None, "daemon READY=1")
    load = subprocess.Popen(in_agent + [sys.executable, os.path.join(HERE, "traffic_load.py"), "10.20.0.11",
                                        "443,17000", "9999,23"], stdout=subprocess.PIPE, text=True)
    procs.append(load)
    check(load.stdout.readline().strip() == "started", "traffic started from the agent namespace")
    time.sleep(1)
    done, failed, t0 = 0, [], time.monotonic()
    while done < reloads and time.monotonic() - t0 < seconds:
        port = 8082 if done % 2 == 0 else 8081
        policy.write(port=port)
        r = d.reload()
        # Each reload commits a new ruleset: the generation goes up by one
        # (the kernel is read with nft every 50 rounds, to keep rounds short).
        if r.returncode != 0 or f"reloaded: gen {done + 2} " not in r.stdout or (
                done % 50 == 0 and f"tcp . {port}" not in (nft_table() or "")):
            failed.append(f"reload {done + 1}: exit {r.returncode} {r.stdout.strip()} {r.stderr.strip()}")
        done += 1
    elapsed = time.monotonic() - t0
    time.sleep(0.5)
    load.terminate()
    out, _ = load.communicate(timeout=30)
    result = json.loads(out.strip().splitlines()[-1])
    c = result["counts"]
    print(f"{done} reloads in {elapsed:.1f} s ({elapsed / max(done, 1) * 1000:.0f} ms each); traffic: {c}")
    for f in result["failures"]:
        print("  " + f)
    check(not failed, f"every reload exited 0 and committed the other policy ({len(failed)} failed: {failed[:3]})")
    check(done == reloads, f"{done} reloads done (asked {reloads}, cap {seconds:.0f} s)")
    check(c["long_flows"] == 4 and c["long_failed"] == 0 and c["long_pings"] > 0,
          f"4 long TCP flows survived every reload ({c['long_pings']} pings, {c['long_failed']} failed)")
    check(c["new_ok"] > 0 and c["new_failed"] == 0,
          f"new connections to allowed ports: {c['new_ok']} ok, {c['new_failed']} failed")
    check(c["probes"] > 0 and c["probes_through"] == 0,
          f"probes of denied ports: {c['probes']}, {c['probes_through']} got through")
    check(d.stop() == 0, "daemon stopped")


if __name__ == "__main__":
    main()
