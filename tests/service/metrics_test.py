#!/usr/bin/env python3
"""nftpolicyd's Prometheus textfile (--metrics-dir), read back with the text
parser of Debian's python3-prometheus-client, the kernel in a scratch
network namespace:
  - after READY=1 the file exists: last apply succeeded, in sync, no policy
    error, the table present, one packet and one byte counter per flow of
    the compiled policy, the legacy users gauge of the open gate, no repair;
  - the timer rewrites it (--metrics-interval 1) with nothing else going on;
  - a broken policy and a reload: rewritten at once with the failure, the
    errors counted, not in sync; the flow counters still reported;
  - the directory removed: no file and no directory made, one log line, the
    daemon keeps running.
Usage: metrics_test.py BUILD_DIR"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemon_lib import Daemon, Policy, check, run_test, wait_until  # noqa: E402

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:
    print(f"FAIL no python3-prometheus-client for {sys.executable}: run contrib/scripts/deps.sh")
    sys.exit(1)


def samples(path):
    """{(name, flow-or-gate label): value} of the textfile."""
    out = {}
    with open(path) as f:
        for family in text_string_to_metric_families(f.read()):
            for s in family.samples:
                out[(s.name, s.labels.get("flow") or s.labels.get("gate") or "")] = s.value
    return out


def flows_of(d):
    """The flow ids of the compiled policy, from `nftpolicy compile`'s counters."""
    text = d.cli("compile", d.policy.site, "--host", "h").stdout
    return sorted({w.split("flow_", 1)[1].rstrip(";{ ") for w in text.split() if w.startswith("flow_")})


def main():
    run_test(run)


def run(build, root):
    policy = Policy(root)
    textfile_dir = os.path.join(root, "textfile")
    os.makedirs(textfile_dir)
    prom = os.path.join(textfile_dir, "nftpolicy.prom")
    d = Daemon(build, root, policy, metrics_dir=textfile_dir, extra_args=["--metrics-interval", "1"])
    d.start()
    check(d.notify.wait_for("READY=1") is not None, "READY=1")
    check(wait_until(lambda: os.path.exists(prom), 5), "the textfile exists after the start")
    m = samples(prom)
    check(m.get(("nftpolicy_last_apply_success", "")) == 1 and m.get(("nftpolicy_in_sync", "")) == 1 and
          m.get(("nftpolicy_policy_errors", "")) == 0 and m.get(("nftpolicy_table_present", "")) == 1,
          "last apply succeeded, in sync, no policy error, table present")
    counted = sorted({k[1] for k in m if k[0] == "nftpolicy_flow_packets_total"})
    bytes_counted = sorted({k[1] for k in m if k[0] == "nftpolicy_flow_bytes_total"})
    expected = flows_of(d)
    check(expected and counted == bytes_counted, f"packets and bytes for the same flows: {counted}")
    check(set(counted) >= {"old", "new", "web"}, f"the policy's flows are counted: {counted} (compile: {expected})")
    check(m.get(("nftpolicy_legacy_users", "m.agents-migrated")) == 0 and
          m.get(("nftpolicy_gate_flipped", "m.agents-migrated")) == 0, "the open gate: no legacy user, not flipped")
    check(m.get(("nftpolicy_drift_repairs_total", "")) == 0, "no drift repair yet")

    first = os.stat(prom).st_ino
    check(wait_until(lambda: os.stat(prom).st_ino != first, 4), "the timer replaced the file (atomically, new inode)")
    check(oct(os.stat(prom).st_mode & 0o777) == "0o644", "the textfile is readable by node_exporter's user (0644)")

    policy.break_site()
    r = d.reload()
    check(r.returncode == 3, f"the broken policy's reload fails (exit {r.returncode})")
    m = samples(prom)
    check(m.get(("nftpolicy_last_apply_success", "")) == 0 and m.get(("nftpolicy_in_sync", "")) == 0 and
          m.get(("nftpolicy_policy_errors", "")) >= 1,
          f"after the failed reload: success 0, in sync 0, errors {m.get(('nftpolicy_policy_errors', ''))}")
    check({k[1] for k in m if k[0] == "nftpolicy_flow_packets_total"} == set(counted),
          "the held table's flow counters are still reported")

    os.unlink(prom)
    os.rmdir(textfile_dir)
    check(wait_until(lambda: "no directory " + textfile_dir in d.log_text(), 4),
          "a removed directory is logged")
    d.notify.pump(1.5)
    check(not os.path.exists(textfile_dir) and d.proc.poll() is None,
          "the daemon neither makes the directory nor stops")
    check(d.log_text().count("no directory " + textfile_dir) == 1, "logged once, not every period")
    check(d.stop() == 0, "SIGTERM: exit 0")


if __name__ == "__main__":
    main()
