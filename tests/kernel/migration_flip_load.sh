#!/bin/bash
# Flipping under load, with real servers and clients:
#  - 100 complete/reopen cycles while an agent opens new connections to the
#    new port without pause: not one of them may fail;
#  - after complete, no new connection to the retired port succeeds;
#  - complete --cut-established resets an established connection on the
#    retired port, while an established connection on the new port lives on
#    and the rest of the conntrack table is untouched.
# Usage: migration_flip_load.sh NFTPOLICY [CYCLES]
bin=$1
cycles=${2:-100}
source "$(dirname "$0")/migration_lib.sh"
mig_enter "$0" "$@"
mig_setup

write_policy "$work/site.toml"
nftp apply "$work/site.toml" >/dev/null
gate=m.agents-migrated

# Echo servers on both ports, IPv4 and IPv6, in the host namespace.
python3 - "$work" <<'PY' &
import socket, socketserver, sys, threading
class Echo(socketserver.BaseRequestHandler):
    def handle(self):
        while data := self.request.recv(64):
            self.request.sendall(data)
class V6(socketserver.ThreadingTCPServer):
    address_family = socket.AF_INET6
    allow_reuse_address = True
    daemon_threads = True
servers = [V6(("::", p), Echo) for p in (443, 17000)]  # dual-stack sockets
for s in servers:
    threading.Thread(target=s.serve_forever, daemon=True).start()
open(sys.argv[1] + "/servers-up", "w").close()
threading.Event().wait(300)
PY
for _ in $(seq 600); do [ -e "$work/servers-up" ] && break; sleep 0.05; done
[ -e "$work/servers-up" ] || fail "servers did not start"

# The load: new connections to the new port, one after the other, until
# told to stop; each must connect and get its byte echoed.
in_agent python3 - "$work" <<'PY' &
import os, socket, sys, time
work = sys.argv[1]
ok = failed = 0
deadline = time.time() + 240
while not os.path.exists(work + "/stop") and time.time() < deadline:
    for src, dst in (("10.10.0.5", "10.20.0.11"), ("fd00:10::5", "fd00:20::11")):
        fam = socket.AF_INET6 if ":" in src else socket.AF_INET
        try:
            with socket.socket(fam) as s:
                s.settimeout(2)
                s.bind((src, 0))
                s.connect((dst, 443))
                s.sendall(b"x")
                ok += s.recv(1) == b"x"
        except OSError as e:
            failed += 1
            print("load: failed:", src, e, file=sys.stderr)
open(work + "/load-result", "w").write(f"{ok} {failed}\n")
PY
load=$!

start=$(date +%s%N)
for i in $(seq "$cycles"); do
    nftp migration complete "$gate" "$work/site.toml" >/dev/null || fail "complete failed in cycle $i"
    nftp migration reopen "$gate" "$work/site.toml" >/dev/null || fail "reopen failed in cycle $i"
done
end=$(date +%s%N)
touch "$work/stop"
wait "$load"
read -r ok failed <"$work/load-result"
echo "$cycles cycles in $(( (end - start) / 1000000 )) ms; load: $ok connections, $failed failed"
[ "$failed" = 0 ] || fail "$failed connections to the new port failed during the flips"
[ "$ok" -ge 20 ] || fail "only $ok connections during the flips: the load did not run"

# After complete: no new connection to the retired port.
nftp migration complete "$gate" "$work/site.toml" >/dev/null
for src_dst in "10.10.0.5 10.20.0.11" "fd00:10::5 fd00:20::11" "10.10.0.5 10.20.0.11"; do
    # shellcheck disable=SC2086
    r=$(connect_from $src_dst 17000)
    [ "$r" != 0 ] || fail "a new connection to the retired port succeeded ($src_dst)"
done
nftp migration reopen "$gate" "$work/site.toml" >/dev/null

# --cut-established: hold one connection on each port, flip, then talk.
in_agent python3 - "$work" <<'PY' &
import os, socket, sys, time
work = sys.argv[1]
conns = {}
for port in (17000, 443):
    s = socket.socket()
    s.settimeout(2)
    s.bind(("10.10.0.5", 0))
    s.connect(("10.20.0.11", port))
    s.sendall(b"a")
    assert s.recv(1) == b"a"
    conns[port] = s
open(work + "/held", "w").close()
for _ in range(400):
    if os.path.exists(work + "/flipped"):
        break
    time.sleep(0.05)
result = {}
for port, s in conns.items():
    try:
        s.settimeout(1.5)
        s.sendall(b"b")
        result[port] = "alive" if s.recv(1) == b"b" else "closed"
    except OSError as e:
        result[port] = "cut"
open(work + "/talk", "w").write(f"{result[17000]} {result[443]}\n")
PY
talker=$!
for _ in $(seq 600); do [ -e "$work/held" ] && break; sleep 0.05; done
[ -e "$work/held" ] || fail "the held connections were not established"
# Established entries other than the legacy port's, without their timers.
others() { conntrack -L -p tcp --state ESTABLISHED 2>/dev/null | grep -v "dport=17000 " | sed 's/^tcp *[0-9]* [0-9]* //' | sort; }
others >"$work/ct-others-before"
cut=$(nftp migration complete "$gate" "$work/site.toml" --force --cut-established)
others >"$work/ct-others-after"
touch "$work/flipped"
wait "$talker"
read -r legacy new <"$work/talk"
[[ "$cut" == *"cut 1 established connection"*"tcp 10.10.0.5:"*" -> 10.20.0.11:17000"* ]] || fail "cut report: $cut"
[ "$legacy" = cut ] || fail "the established legacy connection was not cut ($legacy)"
[ "$new" = alive ] || fail "the established new-port connection did not survive ($new)"
grep -q "dport=443 " "$work/ct-others-after" || fail "the new-port conntrack entry is gone"
diff -u "$work/ct-others-before" "$work/ct-others-after" >&2 || fail "other conntrack entries changed"
echo "ok: $cycles flips under load without a failed connection; --cut-established cuts exactly the legacy connection"
