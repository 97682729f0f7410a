#!/usr/bin/env python3
"""Traffic for traffic_test.py, run in the agent's network namespace until
SIGTERM: long TCP flows (a ping every 50 ms each) and new connections to the
allowed ports (each must connect within 1 s and echo within 5 s), and probes of the
denied ports (each must fail to connect within 0.3 s). Prints one JSON line
of counts at the end.
Usage: traffic_load.py SERVER_IP ALLOWED_PORTS DENIED_PORTS (comma lists)"""
import json
import signal
import socket
import sys
import threading
import time

stop = threading.Event()
counts = {"long_flows": 0, "long_pings": 0, "long_failed": 0, "new_ok": 0, "new_failed": 0,
          "probes": 0, "probes_through": 0}
lock = threading.Lock()
failures = []


def bump(key, what=None):
    with lock:
        counts[key] += 1
        if what and len(failures) < 20:
            failures.append(what)


def echo(s, payload):
    s.sendall(payload)
    got = b""
    while len(got) < len(payload):
        chunk = s.recv(len(payload) - len(got))
        if not chunk:
            raise ConnectionError("closed by the server")
        got += chunk
    return got == payload


def long_flow(ip, port):
    try:
        s = socket.create_connection((ip, port), timeout=1)
        bump("long_flows")
        while not stop.is_set():
            if not echo(s, b"x"):
                raise ConnectionError("wrong echo")
            bump("long_pings")
            time.sleep(0.05)
        s.close()
    except OSError as e:
        bump("long_failed", f"long flow to {port}: {e}")


def new_connections(ip, ports):
    i = 0
    while not stop.is_set():
        port = ports[i % len(ports)]
        i += 1
        # Connecting is the firewall's part (a dropped SYN: no answer within
        # 1 s); the echo is the server's, which a loaded machine may delay.
        try:
            s = socket.create_connection((ip, port), timeout=1)
        except OSError as e:
            bump("new_failed", f"new connection to {port}: connect: {e}")
            continue
        try:
            with s:
                s.settimeout(5)
                if not echo(s, b"ping"):
                    raise ConnectionError("wrong echo")
            bump("new_ok")
        except OSError as e:
            bump("new_failed", f"new connection to {port}: echo: {e}")
        time.sleep(0.01)


def probes(ip, ports):
    i = 0
    while not stop.is_set():
        port = ports[i % len(ports)]
        i += 1
        try:
            with socket.create_connection((ip, port), timeout=0.3):
                bump("probes_through", f"probe to denied port {port} connected")
        except OSError:
            pass
        bump("probes")


def main():
    ip = sys.argv[1]
    allowed = [int(p) for p in sys.argv[2].split(",")]
    denied = [int(p) for p in sys.argv[3].split(",")]
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    threads = [threading.Thread(target=long_flow, args=(ip, p)) for p in allowed for _ in range(2)]
    threads += [threading.Thread(target=new_connections, args=(ip, allowed)) for _ in range(2)]
    threads += [threading.Thread(target=probes, args=(ip, denied)) for _ in range(2)]
    for t in threads:
        t.start()
    print("started", flush=True)
    while not stop.is_set():
        stop.wait(0.2)
    for t in threads:
        t.join(5)
    print(json.dumps({"counts": counts, "failures": failures}), flush=True)


if __name__ == "__main__":
    main()
