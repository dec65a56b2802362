#!/bin/sh
# nft_check.sh — meshctl check's firewall warning against a real nftables ruleset, in a
# scratch network namespace (nothing outside it is read or changed):
#   1. no firewall: no warning;
#   2. table inet filter, chain input with policy drop: warnings for IKE and ESP, exit 0;
#      --no-firewall: none;
#   3. + ct state established,related accept: the warnings say "new" (peers cannot start);
#   4. + udp dport { 500, 4500 } accept and meta l4proto esp accept: no warning;
#   5. table ip filter chain INPUT ending in reject after tcp dport 22 accept: a warning
#      naming the reject rule;
#   6. table inet meshd with policy drop (ours) is ignored.
. "$(dirname "$0")/lib.sh"
require_root
require_cmd nft
[ -x "$MESHCTL" ] || skip "meshctl is not built ($MESHCTL)"
NS=$(ns_new nftcheck) || skip "cannot create a network namespace"
nsnft() { ip netns exec "$NS" nft "$@"; }
nsnft list ruleset >/dev/null 2>&1 || skip "nf_tables is not available in this kernel"

echo '10.0.0.0/8' >"$T_DIR/private"
# check: run meshctl check in the namespace; its stderr in $OUT, its exit status in $RC
check() {
	ip netns exec "$NS" "$MESHCTL" check --policy "$T_DIR/private" "$@" 2>"$T_DIR/check.err"
	RC=$?
	OUT=$(cat "$T_DIR/check.err")
}
lacks() {
	case "$3" in
	*"$2"*) fail "$1: '$2' in:"; echo "$3" ;;
	*) ok "$1" ;;
	esac
}

check
assert_eq "no firewall: exit 0, nothing said" "0:" "$RC:$OUT"

nsnft add table inet filter
nsnft add chain inet filter input '{ type filter hook input priority 0; policy drop; }'
check
assert_eq "policy drop: exit 0 (warnings only)" 0 "$RC"
assert_contains "policy drop: IKE warning" \
	"warning: firewall: table inet filter chain input has policy drop and no rule accepting UDP 500/4500 (IKE): negotiation will fail" "$OUT"
assert_contains "policy drop: ESP warning" \
	"table inet filter chain input has policy drop and no rule accepting ESP (IP protocol 50): IPsec traffic from peers will be dropped" "$OUT"
assert_contains "policy drop: counted" "OK with 2 warning(s)" "$OUT"
check --no-firewall
assert_eq "--no-firewall: nothing said" "0:" "$RC:$OUT"

nsnft add rule inet filter input ct state established,related accept
nsnft add rule inet filter input iifname lo accept
nsnft add rule inet filter input tcp dport 22 accept
check
assert_contains "established only: IKE from peers cannot start" \
	"no rule accepting new UDP 500/4500 (IKE): only replies get through (ct state established): peers cannot start a negotiation with this host" "$OUT"
assert_contains "established only: new ESP" "no rule accepting new ESP (IP protocol 50)" "$OUT"

nsnft add rule inet filter input udp dport '{ 500, 4500 }' accept
check
lacks "IKE accepted: no IKE warning" "(IKE)" "$OUT"
assert_contains "IKE accepted: the ESP warning stays" "new ESP (IP protocol 50)" "$OUT"
nsnft add rule inet filter input meta l4proto esp accept
check
assert_eq "IKE and ESP accepted: exit 0, nothing said" "0:" "$RC:$OUT"

# an ip table ending in reject (policy accept), as iptables-style rulesets do
nsnft add table ip filter
nsnft add chain ip filter INPUT '{ type filter hook input priority 10; policy accept; }'
nsnft add rule ip filter INPUT tcp dport 22 accept
nsnft add rule ip filter INPUT counter reject
h=$(nsnft -a list chain ip filter INPUT | sed -n 's/.*reject.*# handle \([0-9]*\).*/\1/p')
check
assert_contains "ip filter INPUT: the reject rule" \
	"table ip filter chain INPUT (iptables-nft?) has a drop or reject rule (handle $h in chain INPUT) and no rule before it accepting UDP 500/4500 (IKE): negotiation will fail" "$OUT"
lacks "ip filter INPUT: nothing about inet filter" "table inet filter" "$OUT"
nsnft delete table ip filter

# our own table is not the operator's firewall
nsnft add table inet meshd
nsnft add chain inet meshd input '{ type filter hook input priority -10; policy drop; }'
check
assert_eq "table inet meshd is ignored" "0:" "$RC:$OUT"

# not root (when a user to drop to exists): nothing is read, nothing said
if command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	nsnft add table inet f2
	nsnft add chain inet f2 input '{ type filter hook input priority 0; policy drop; }'
	chmod 755 "$T_DIR"
	chmod 644 "$T_DIR/private"
	ip netns exec "$NS" setpriv --reuid nobody --regid nogroup --clear-groups \
		"$MESHCTL" check --policy "$T_DIR/private" 2>"$T_DIR/check.err"
	assert_eq "not root: exit 0, nothing said" "0:" "$?:$(cat "$T_DIR/check.err")"
fi
finish
