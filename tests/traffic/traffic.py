#!/usr/bin/env python3
"""Multi-namespace traffic test of a vendor profile through a gateway.

The expectation is data written from the vendor's port table
(tests/traffic/<vendor>.expect.toml), never from nftpolicy's output: which
roles may reach which, on which protocol and port, in which phase and gate
state. This script

  plan EXPECT                 prints the topology for run.sh: one line per host,
                              "NAME IPV4 IPV6" (run.sh makes the namespaces)
  run EXPECT --nftpolicy BIN --profiles DIR --pids NAME=PID,...
                              writes the site policy from the hosts' groups,
                              starts a listener/prober in every host namespace,
                              and for every state applies the policy on the
                              gateway (this namespace) and probes: every port of
                              the table, its neighbours and the other protocol,
                              from inside and outside the allowed roles, IPv4
                              and IPv6. Observed reachability must equal the
                              expectation.
  agent PORTS                 (internal) runs in a host namespace: listens on
                              every port (TCP and UDP, IPv4 and IPv6) and probes
                              what it is told on stdin (JSON lines).

Standard library only.
"""
import argparse
import json
import os
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import tomllib

TIMEOUT = 1.5  # seconds a dropped probe waits: a let-through one answers in ms
# A probe that should have been let through but was not answered in TIMEOUT
# is tried once more, alone with the others like it, for RETRY_TIMEOUT: on a
# loaded machine an answer can be late, but a probe the firewall drops stays
# unanswered however long it waits. (A probe answered where the table says
# closed is never retried: nothing makes that happen by chance.)
RETRY_TIMEOUT = 8.0

# ---- the expectation --------------------------------------------------------


def load_expect(path):
    with open(path, "rb") as f:
        doc = tomllib.load(f)
    networks = {}
    for host in doc["hosts"]:
        net = host["network"]
        index = networks.setdefault(net, len(networks))
        count = sum(1 for h in doc["hosts"][: doc["hosts"].index(host)] if h["network"] == net)
        octet = 10 * (index + 1)
        host["v4"] = f"10.{octet}.0.{10 + count}"
        host["v6"] = f"fd00:{octet}::{10 + count:x}"
        host.setdefault("roles", [])
        host.setdefault("groups", [])
        host["labels"] = set(host["roles"]) | set(host["groups"])
    state_names = [s["name"] for s in doc["states"]]
    for row in doc["rows"]:
        row.setdefault("when", state_names)
    for row in doc.get("never", []):
        row["when"] = []  # probed like a row, open in no state
    for row in doc["rows"] + doc.get("never", []):
        row.setdefault("tcp", [])
        row.setdefault("udp", [])
        row["from"] = as_list(row.get("from", []))
        row["to"] = as_list(row["to"])
        for state in row["when"]:
            if state not in state_names:
                sys.exit(f"{path}: row {row.get('id')}: unknown state '{state}'")
    return doc


def as_list(value):
    return value if isinstance(value, list) else [value]


def port_range(spec):
    """17000 -> (17000, 17000); "3023-4023" -> (3023, 4023)."""
    if isinstance(spec, int):
        return spec, spec
    lo, hi = spec.split("-")
    return int(lo), int(hi)


def allowed(doc, state, src, dst, proto, port):
    """Whether a row of the table lets src reach dst on proto/port in state."""
    if src is dst:
        return False
    for row in doc["rows"]:
        if state not in row["when"]:
            continue
        if not (src["labels"] & set(row["from"]) and dst["labels"] & set(row["to"])):
            continue
        for spec in row[proto]:
            lo, hi = port_range(spec)
            if lo <= port <= hi:
                return True
    return False


def probe_ports(spec):
    """The ports to try for one table entry: each end of a range, its middle,
    and the neighbours outside it."""
    lo, hi = port_range(spec)
    ports = {lo, hi, (lo + hi) // 2, lo - 1, hi + 1}
    return sorted(p for p in ports if 0 < p < 65536)


def probes_of(doc):
    """Every (src, dst, proto, port) to try, deduplicated, in a stable order.
    For each port of a row, to every host in the row's `to`: the port itself
    from every host (members of `from` and everyone else); its neighbours and
    the other protocol from the members of `from` and the outsiders (hosts in
    no group); and the port itself from the members of `from` to every other
    host."""
    hosts = doc["hosts"]
    seen = set()
    out = []

    def add(src, dst, proto, port):
        key = (src["name"], dst["name"], proto, port)
        if src is not dst and key not in seen:
            seen.add(key)
            out.append((src, dst, proto, port))

    for row in doc["rows"] + doc.get("never", []):
        targets = [h for h in hosts if h["labels"] & set(row["to"])]
        members = [h for h in hosts if h["labels"] & set(row["from"])] or hosts
        near = members + [h for h in hosts if not h["groups"]]
        for proto in ("tcp", "udp"):
            other = "udp" if proto == "tcp" else "tcp"
            for spec in row[proto]:
                lo, _ = port_range(spec)
                for dst in targets:
                    for src in hosts:
                        add(src, dst, proto, lo)
                    for port in probe_ports(spec):
                        for src in near:
                            add(src, dst, proto, port)
                            add(src, dst, other, port)
                for src in members:
                    for dst in hosts:
                        add(src, dst, proto, lo)
    return out


def universe(probes):
    return sorted({port for (_, _, _, port) in probes})


# ---- the site policy, written from the hosts' groups ------------------------


def site_policy(doc):
    groups = {}
    for host in doc["hosts"]:
        for group in host["groups"]:
            groups.setdefault(group, []).extend([host["v4"], host["v6"]])
    lines = [f'include = ["{doc["profile"]}"]', "", "[groups]"]
    for group, addrs in groups.items():
        lines.append(f"{group} = {json.dumps(addrs)}")
    for host in doc["hosts"]:
        lines.append(f'net_{host["name"]} = ["{host["v4"]}", "{host["v6"]}"]')
    lines += ["", "[baseline]", "log_drops = false", "", "[hosts.gw]", 'mode = "gateway"', "roles = []", "",
              "[hosts.gw.zones]"]
    for host in doc["hosts"]:
        name = host["name"]
        lines.append(f'{name} = {{ interfaces = ["g-{name}"], networks = "net_{name}" }}')
    return "\n".join(lines) + "\n"


# ---- the agent: listener and prober in one host namespace -------------------


def agent(ports):
    sel = selectors.DefaultSelector()
    for port in ports:
        for kind in (socket.SOCK_STREAM, socket.SOCK_DGRAM):
            s = socket.socket(socket.AF_INET6, kind)
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(("::", port))
            if kind == socket.SOCK_STREAM:
                s.listen(512)
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ, ("listen", kind))
    sel.register(sys.stdin, selectors.EVENT_READ, ("stdin", None))
    print("ready", flush=True)
    buffered = b""
    while True:
        for key, _ in sel.select():
            role, kind = key.data
            if role == "stdin":
                chunk = os.read(sys.stdin.fileno(), 1 << 20)
                if not chunk:
                    return
                buffered += chunk
                while b"\n" in buffered:
                    line, buffered = buffered.split(b"\n", 1)
                    results = run_probes(json.loads(line), sel)
                    print(json.dumps(results), flush=True)
            else:
                serve(key.fileobj, kind)


def serve(s, kind):
    try:
        if kind == socket.SOCK_STREAM:
            c, _ = s.accept()
            c.close()
        else:
            data, peer = s.recvfrom(2048)
            s.sendto(data, peer)
    except (BlockingIOError, ConnectionError):
        pass


def run_probes(request, listeners):
    """Fires every probe at once (non-blocking), keeps serving the listeners
    meanwhile, and returns 1 for each probe that was answered, 0 otherwise."""
    probes, timeout = request["probes"], request["timeout"]
    sel = selectors.DefaultSelector()
    results = [0] * len(probes)
    for i, (addr, proto, port) in enumerate(probes):
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
        s.setblocking(False)
        if proto == "tcp":
            s.connect_ex((addr, port))
            sel.register(s, selectors.EVENT_WRITE, i)
        else:
            s.sendto(b"probe", (addr, port))
            sel.register(s, selectors.EVENT_READ, i)
    deadline = time.monotonic() + timeout
    pending = len(probes)
    while pending and time.monotonic() < deadline:
        for key, _ in listeners.select(timeout=0):
            if key.data[0] == "listen":
                serve(key.fileobj, key.data[1])
        for key, _ in sel.select(timeout=0.01):
            s, i = key.fileobj, key.data
            if probes[i][1] == "tcp":
                results[i] = 1 if s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0 else 0
            else:
                try:
                    results[i] = 1 if s.recv(64) == b"probe" else 0
                except OSError:
                    results[i] = 0
            sel.unregister(s)
            s.close()
            pending -= 1
    for key in list(sel.get_map().values()):
        key.fileobj.close()
    return results


# ---- the run ----------------------------------------------------------------


def start_agents(doc, pids, ports):
    agents = {}
    for host in doc["hosts"]:
        cmd = ["nsenter", "-t", pids[host["name"]], "-n", sys.executable, os.path.abspath(__file__), "agent",
               ",".join(map(str, ports))]
        agents[host["name"]] = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    for name, proc in agents.items():
        if proc.stdout.readline().strip() != "ready":
            sys.exit(f"agent in {name} did not start")
    return agents


def apply_state(args, doc, state, site, work):
    state_dir = tempfile.mkdtemp(dir=work)  # a fresh state: only this command line counts
    cmd = [args.nftpolicy, "apply", site, "-I", args.profiles, "--phase", state["phase"], "--state-dir", state_dir,
           "--lock", os.path.join(work, "lock")]
    for gate in state.get("gates", []):
        cmd += ["--gates", f'{doc["migration"]}.{gate}']
    done = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, NFTPOLICY_PATH=""))
    if done.returncode != 0:
        sys.exit(f"apply failed in state {state['name']}: {' '.join(cmd)}\n{done.stderr}")


def send_batches(agents, batches, timeout):
    """Runs every source's batch at once; the observed results, per source."""
    for name, batch in batches.items():
        agents[name].stdin.write(json.dumps({"probes": [p for (_, _, p) in batch], "timeout": timeout}) + "\n")
        agents[name].stdin.flush()
    return {name: json.loads(agents[name].stdout.readline()) for name in batches}


def observe(doc, state, probes, indexes, agents, timeout):
    """{(probe index, family): observed} for the probes in `indexes`."""
    batches = {name: [] for name in agents}
    for n, fam in indexes:
        src, dst, proto, port = probes[n]
        batches[src["name"]].append((n, fam, [dst[fam], proto, port]))
    observed = send_batches(agents, batches, timeout)
    return {(n, fam): got for name, batch in batches.items() for (n, fam, _), got in zip(batch, observed[name])}


def probe_state(doc, state, probes, agents):
    """Runs every probe in both families; returns the mismatches and how
    many probes were tried again."""
    want = {(n, fam): allowed(doc, state["name"], *p) for n, p in enumerate(probes) for fam in ("v4", "v6")}
    got = observe(doc, state, probes, list(want), agents, TIMEOUT)
    late = [k for k in want if want[k] and not got[k]]
    if late:
        got.update(observe(doc, state, probes, late, agents, RETRY_TIMEOUT))
    mismatches = []
    for (n, fam), expected in want.items():
        if bool(got[(n, fam)]) == expected:
            continue
        src, dst, proto, port = probes[n]
        mismatches.append(f"{state['name']}: {src['name']} -> {dst['name']} {proto}/{port} ({fam}): "
                          f"expected {'open' if expected else 'closed'}, observed {'open' if got[(n, fam)] else 'closed'}")
    return mismatches, len(late)


def run(args):
    doc = load_expect(args.expect)
    pids = dict(item.split("=") for item in args.pids.split(","))
    probes = probes_of(doc)
    work = tempfile.mkdtemp()
    try:
        return run_in(args, doc, pids, probes, work)
    finally:
        shutil.rmtree(work)


def run_in(args, doc, pids, probes, work):
    site = os.path.join(work, "site.toml")
    with open(site, "w") as f:
        f.write(site_policy(doc))
    agents = start_agents(doc, pids, universe(probes))
    start = time.monotonic()
    failures = []
    opened = 0
    retried = 0
    for state in doc["states"]:
        apply_state(args, doc, state, site, work)
        mismatches, late = probe_state(doc, state, probes, agents)
        failures += mismatches
        retried += late
        opened += sum(allowed(doc, state["name"], *p) for p in probes) * 2
    elapsed = time.monotonic() - start
    total = len(probes) * 2 * len(doc["states"])
    for proc in agents.values():
        proc.stdin.close()
        proc.wait(timeout=10)
    print(f"{doc['profile']}: {len(doc['hosts'])} hosts, {len(doc['states'])} states, {total} probes "
          f"({len(probes)} per state and family; {opened} expected open; {retried} tried again), {elapsed:.1f} s")
    for line in failures[:50]:
        print("MISMATCH " + line)
    if failures:
        print(f"FAIL: {len(failures)} of {total} probes differ from the vendor table", file=sys.stderr)
        return 1
    return 0


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("plan")
    p.add_argument("expect")
    r = sub.add_parser("run")
    r.add_argument("expect")
    r.add_argument("--nftpolicy", required=True)
    r.add_argument("--profiles", required=True)
    r.add_argument("--pids", required=True)
    a = sub.add_parser("agent")
    a.add_argument("ports")
    args = parser.parse_args()
    if args.cmd == "plan":
        for host in load_expect(args.expect)["hosts"]:
            print(host["name"], host["v4"], host["v6"])
        return 0
    if args.cmd == "agent":
        agent([int(p) for p in args.ports.split(",")])
        return 0
    return run(args)


if __name__ == "__main__":
    sys.exit(main())
