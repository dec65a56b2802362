#!/bin/sh
# 08-inbound — inbound enforcement (table inet meshd): with an SA up, what comes through
# ESP is accepted; cleartext from the same (private) peer address is dropped and counted.
#
#   n1 10.15.1.1 ─┐
#   n2 10.15.1.2 ─┼─ br0 (namespace sw, tcpdump -i br0)
#   x3 10.15.1.3 ─┘  plain host (no meshd): sends UDP with the spoofed source 10.15.1.2
#   n1, n2: meshd, the seed recipe (NULL auth), policies/private = 10.15.0.0/16
#
# Asserts: a ping n1 -> n2 brings the SA up; n1's meshctl --json status says inbound is
# enforced and its inbound ipsec_accepted_packets grows with more pings and with UDP n2
# sends to a listener on n1 (which receives it: it came through ESP); x3 then injects N
# cleartext UDP datagrams "from 10.15.1.2" to that listener with a raw socket (no XFRM on
# x3: it crosses the bridge in clear, the capture shows it): the listener receives none,
# private_dropped_packets grows by at least N, and the SA keeps working (same SPIs, pings
# answered, the next datagram through ESP is received; no negotiation is started for it:
# the pair has an SA). x3 then pings n1 from its own address (private for n1, no SA, no
# IKE daemon): dropped, and n1 initiates to x3 once (its log, IKE on the bridge, one
# attempt for 4 pings).
. "$(dirname "$0")/lib.sh"
MESH_AUTH=${1:-${MESH_AUTH:-null}}
mesh_require
PY=
for p in /usr/bin/python3 python3; do command -v "$p" >/dev/null 2>&1 && { PY=$(command -v "$p"); break; }; done
[ -n "$PY" ] || skip "python3 is not installed (the raw-socket sender and the UDP listener)"
echo "auth: $MESH_AUTH"
PORT=9999
NSPOOF=5

echo '10.15.0.0/16' >"$MESH_POLICIES/private"
step "2 nodes and a plain host"
mesh_node n1 10.15.1.1 || { finish; exit 1; }
mesh_node n2 10.15.1.2 || { finish; exit 1; }
plain_host x3 10.15.1.3 || { finish; exit 1; }
mesh_up || { finish; exit 1; }

# status_num NAME KEY: a number from the "inbound" object of meshctl --json status
status_num() { json_num "$(ctl "$1" --json status | grep -o '"inbound":{[^}]*}')" "$2"; }
inb=$(ctl n1 --json status | grep -o '"inbound":{[^}]*}')
assert_contains "n1: inbound enforcement is on" '"enforced":true' "$inb"
case "$inb" in *'"enforced":true'*) ;; *) mesh_log n1 | tail -n 20; finish; exit 1 ;; esac

# the listener on n1: one line "SRC PAYLOAD" per datagram
RX=$T_DIR/n1.rx
: >"$RX"
nsx n1 "$PY" -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("0.0.0.0", int(sys.argv[1])))
f = open(sys.argv[2], "a")
print("listening", flush=True)
while True:
    d, a = s.recvfrom(2048)
    f.write("%s %s\n" % (a[0], d.decode(errors="replace")))
    f.flush()
' "$PORT" "$RX" >"$T_DIR/n1.listener.log" 2>&1 &
T_PIDS="$T_PIDS $!"
wait_for 20 grep -q listening "$T_DIR/n1.listener.log" || fail "the UDP listener on n1 did not start"

# udp_send NAME DEST PAYLOAD: one ordinary datagram (through XFRM, so ESP when an SA is up)
udp_send() {
	nsx "$1" "$PY" -c 'import socket, sys
socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(sys.argv[3].encode(), (sys.argv[1], int(sys.argv[2])))' \
		"$2" "$PORT" "$3"
}
# rx_count SRC PAYLOAD: datagrams the listener got from SRC with PAYLOAD
rx_count() { grep -cx "$1 $2" "$RX"; }

cap_start inbound || { finish; exit 1; }
step "SA up"
t0=$(t_now)
ping_until 30 n1 10.15.1.2 && ok "n1 -> n2 answered after $(t_since "$t0") s" ||
	fail "n1 -> n2: no reply within 30 s"
assert_eq "n1: ESP SAs with n2, both directions" 2 "$(esp_count n1 10.15.1.1 10.15.1.2)"
spis=$(esp_spis n1 10.15.1.1 10.15.1.2)

step "through ESP: accepted and counted"
a0=$(status_num n1 ipsec_accepted_packets)
ping_n n2 10.15.1.1 5 && ok "5 pings n2 -> n1 answered" || fail "pings n2 -> n1 lost"
udp_send n2 10.15.1.1 through-esp-1
wait_for 10 sh -c "grep -qx '10.15.1.2 through-esp-1' '$RX'" &&
	ok "n1's listener received n2's datagram (through ESP)" ||
	fail "n1's listener did not receive n2's datagram: $(cat "$RX")"
a1=$(status_num n1 ipsec_accepted_packets)
[ "${a1:-0}" -ge $((${a0:-0} + 6)) ] && ok "n1 inbound ipsec_accepted_packets $a0 -> $a1 (>= +6)" ||
	fail "n1 inbound ipsec_accepted_packets did not grow by 6: $a0 -> $a1"
e1=$(status_num n1 esp_accepted_packets)
[ "${e1:-0}" -gt 0 ] && ok "n1 inbound esp_accepted_packets: $e1" || fail "n1 inbound esp_accepted_packets is ${e1:-empty}"

step "cleartext spoofed from 10.15.1.2 (sent by x3): dropped and counted"
d0=$(status_num n1 private_dropped_packets)
nsx x3 "$PY" -c '
import socket, struct, sys
src, dst, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)   # IP_HDRINCL
payload = b"cleartext-spoof"
udp = struct.pack("!HHHH", 40000, port, 8 + len(payload), 0) + payload   # checksum 0: none
ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 0, 0x4000, 64, 17, 0,
                 socket.inet_aton(src), socket.inet_aton(dst))
for i in range(n):
    s.sendto(ip + udp, (dst, 0))
' 10.15.1.2 10.15.1.1 "$PORT" "$NSPOOF" && ok "x3 sent $NSPOOF spoofed datagrams" || fail "x3: raw send failed"
# the ESP datagram after them is the "it arrived" marker: n1 handles packets in order
udp_send n2 10.15.1.1 through-esp-2
wait_for 10 sh -c "grep -qx '10.15.1.2 through-esp-2' '$RX'" &&
	ok "n1's listener received n2's second datagram: the SA keeps working" ||
	fail "n1's listener did not receive n2's second datagram"
sleep 0.5
assert_eq "n1's listener received no cleartext datagram" 0 "$(rx_count 10.15.1.2 cleartext-spoof)"
d1=$(status_num n1 private_dropped_packets)
[ "${d1:-0}" -ge $((${d0:-0} + NSPOOF)) ] && ok "n1 inbound private_dropped_packets $d0 -> $d1 (>= +$NSPOOF)" ||
	fail "n1 inbound private_dropped_packets did not grow by $NSPOOF: $d0 -> $d1"
ping_n n1 10.15.1.2 3 && ok "3 more pings n1 -> n2 answered" || fail "pings n1 -> n2 lost after the injection"
assert_eq "n1: the same SA pair (SPIs)" "$spis" "$(esp_spis n1 10.15.1.1 10.15.1.2)"
a2=$(status_num n1 ipsec_accepted_packets)
[ "${a2:-0}" -gt "${a1:-0}" ] && ok "n1 inbound ipsec_accepted_packets still grows: $a1 -> $a2" ||
	fail "n1 inbound ipsec_accepted_packets stuck: $a1 -> $a2"

case "$(mesh_log n1)" in
*"-> 10.15.1.2: initiate on-demand for dropped inbound cleartext"*)
	fail "n1 started a negotiation for the spoofed cleartext although its SA with n2 is up" ;;
*) ok "the spoofed cleartext started no negotiation (n1 has an IKE SA with 10.15.1.2)" ;;
esac

step "cleartext from x3 itself (private for n1, no SA, no IKE): dropped, and n1 initiates to it once"
c0=$(json_num "$(ctl n1 --json status)" attempts)
nsx x3 ping -n -q -c 4 -i 0.3 -W 1 10.15.1.1 >/dev/null 2>&1 && fail "x3's cleartext ping was answered"
wait_for 10 sh -c "grep -q '10.15.1.1 -> 10.15.1.3: initiate on-demand for dropped inbound cleartext' '$T_DIR/n1/meshd.log'" &&
	ok "n1 initiated to x3 for its dropped cleartext" || fail "n1 did not initiate to x3: $(mesh_log n1 | tail -n 5)"
wait_for 10 sh -c "'$MESHCTL' --ctlsocket '$T_DIR/n1/meshd.ctl' shuntstatus | grep -q '10.15.1.3/32 => %drop'" ||
	fail "no shunt for x3 on n1"
c1=$(json_num "$(ctl n1 --json status)" attempts)
assert_eq "n1: 4 dropped pings from x3 started one attempt" $((${c0:-0} + 1)) "${c1:-0}"

step "capture"
cap_stop
n=$(cap_count inbound "udp and src host 10.15.1.1 and dst host 10.15.1.3 and dst port 500")
[ "$n" -ge 1 ] && ok "IKE_SA_INIT from n1 to x3 on the bridge ($n datagrams)" ||
	fail "no IKE from n1 to x3 on the bridge"
sp=$(cap_count inbound "udp and src host 10.15.1.2 and dst host 10.15.1.1 and dst port $PORT")
[ "$sp" -ge "$NSPOOF" ] && ok "the bridge carried the $sp cleartext datagrams (the drop was n1's)" ||
	fail "only $sp spoofed datagrams on the bridge (expected $NSPOOF)"
assert_eq "no cleartext datagram from n2 itself on the bridge" 0 \
	"$(cap_count inbound "ether src $(nsx n2 cat /sys/class/net/eth0/address) and udp and dst port $PORT")"
finish
