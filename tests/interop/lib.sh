# tests/interop/lib.sh — meshd next to Libreswan and strongSwan hosts on the bridge of
# tests/netns/lib.sh (sourced: mesh_node, ping_*, cap_*, esp_states, ts_*, ... all apply).
#
#   ls_node NAME ADDR4       a namespace on the bridge running Libreswan's pluto (from the
#                            peers cache, tests/interop/fetch-peers.sh) with the same seed
#                            recipe as meshd (MESH_AUTH, MESH_TYPE, MESH_CONN, MESH_SETUP,
#                            MESH_POLICIES as for mesh_node); its files in $T_DIR/NAME/:
#                            ipsec.conf, ipsec.d/policies/, nss/, run/pluto.ctl, pluto.log
#   ls_up                    wait until every pluto started answers, load its conns
#                            (addconn --autoall) and groups (whack --listen)
#   lsx NAME ipsec ARGS      Libreswan's own `ipsec` command for NAME (trafficstatus,
#                            shuntstatus, whack ...)
#   sw_node NAME ADDR4       a namespace running strongSwan's charon (private
#                            strongswan.conf, vici socket $T_DIR/NAME/charon.vici)
#   swx NAME COMMAND ARGS    swanctl COMMAND --uri <NAME's vici> ARGS
. "${top_srcdir:-$(dirname "$0")/../..}/tests/netns/lib.sh"

PEERS=${MESHD_INTEROP_PEERS:-$top_builddir/tests/interop/peers}

# interop_require libreswan|strongswan...: root, ESP, and the peers unpacked
interop_require() {
	mesh_require
	require_cmd certutil pk12util
	for _p; do
		[ -f "$PEERS/$_p/.unpacked" ] ||
			skip "$_p is not unpacked in $PEERS (tests/interop/fetch-peers.sh, run on the host by tests/interop/run.sh)"
	done
	sed 's/^/peer: /' "$PEERS/versions"
}

# nss_import NAME: a fresh NSS DB in $T_DIR/NAME/nss with NAME's node certificate (from the
# test CA, as mesh_node makes it) under "node" and the CA trusted CT,, — with NSS's own
# tools, as a Libreswan or strongSwan operator would (certutil/pk12util)
nss_import() {
	_nd=$T_DIR/$1/nss
	mkdir -p "$_nd"
	certutil -N -d "sql:$_nd" --empty-password || return 1
	[ "$MESH_AUTH" = null ] && return 0
	mesh_cert "$1" "$MESH_AUTH" "$2" || return 1
	pk12util -i "$MESH_CERT_DIR/$1.p12" -d "sql:$_nd" -W '' >"$T_DIR/$1/pk12util.log" 2>&1 ||
		{ cat "$T_DIR/$1/pk12util.log"; return 1; }
	_ca=$(certutil -L -d "sql:$_nd" | awk 'NR > 3 && NF >= 2 { $NF = ""; sub(/ +$/, ""); print }' | grep -vx node | head -n 1)
	[ -n "$_ca" ] || return 1
	certutil -M -d "sql:$_nd" -n "$_ca" -t CT,, || return 1
}

# ls_conf NAME: the seed recipe as Libreswan 4.10 reads it: mesh_conf's conns unchanged;
# config setup without meshd's nssdir= (pluto gets --nssdir), with ipsecdir (the group
# files) and the shorter timers MESH_SETUP asks for; updown disabled (the host /32s are
# on-link: no route to add, and the tests own the namespaces)
ls_conf() {
	mesh_conf "$MESH_AUTH" "$T_DIR/$1/nss" | awk -v d="$T_DIR/$1" '
		/^config setup/ { print; print "\tipsecdir=" d "/ipsec.d"; print "\tdumpdir=" d "/run"; next }
		/^\tnssdir=/ { next }
		/right=%opportunisticgroup/ { print "\tleftupdown=%disabled" }
		{ print }'
}

# ls_node NAME ADDR4: see the top
ls_node() {
	_attach "$1" "$2" || return 1
	_d=$T_DIR/$1
	mkdir -p "$_d/ipsec.d/policies" "$_d/run"
	cp "$MESH_POLICIES"/* "$_d/ipsec.d/policies/" 2>/dev/null
	nss_import "$1" "$2" >"$_d/nss.log" 2>&1 || { cat "$_d/nss.log"; fail "NSS DB for $1"; return 1; }
	ls_conf "$1" >"$_d/ipsec.conf"
	: >"$_d/ipsec.secrets"
	# %defaultroute: Libreswan orients left= on the default route's interface
	ip -n "$(ns_of "$1")" route add default via "$(echo "$2" | sed 's/\.[0-9]*$/.254/')" dev eth0
	ip netns exec "$(ns_of "$1")" "$PEERS/bin/pluto" --config "$_d/ipsec.conf" --nofork --stderrlog \
		--rundir "$_d/run" --nssdir "$_d/nss" --secretsfile "$_d/ipsec.secrets" \
		--ipsecdir "$_d/ipsec.d" >"$_d/pluto.log" 2>&1 &
	eval "PID_$1=\$!"
	T_PIDS="$T_PIDS $!"
	LS_PENDING="${LS_PENDING:-} $1"
	eval "AUTH_$1=\$MESH_AUTH"
}

lsx() { _n=$1; shift; IPSEC_RUNDIR="$T_DIR/$_n/run" "$PEERS/bin/$@"; }
ls_log() { cat "$T_DIR/$1/pluto.log"; }

# ls_up: every pluto started so far answers and has loaded its conns and group instances
# (pluto forks addconn --autoall itself and re-reads the groups when it is done:
# "listening for IKE messages")
ls_up() {
	for _u in ${LS_PENDING:-}; do
		if ! wait_until 90 grep -q 'listening for IKE messages' "$T_DIR/$_u/pluto.log"; then
			ls_log "$_u"; fail "pluto ($_u) did not come up"; return 1
		fi
		grep -E 'FATAL|ERROR|failed to' "$T_DIR/$_u/pluto.log" | head -n 5
	done
	LS_PENDING=
}

# ls_conns NAME: pluto's "Total IPsec connections" line
ls_conns() { lsx "$1" ipsec status | grep 'Total IPsec connections'; }
# ls_traffic NAME PEER: NAME's `ipsec trafficstatus` lines for PEER
ls_traffic() { lsx "$1" ipsec trafficstatus | grep -F -- "...$2,"; }
# ls_shunt NAME PEER: NAME's `ipsec shuntstatus` line for PEER
ls_shunt() { lsx "$1" ipsec shuntstatus | grep -F -- "-> $2/"; }

# ts_line NAME PEER: meshd's Libreswan-style trafficstatus line for PEER
ts_line() { ctl "$1" trafficstatus | grep -F -- "...$2,"; }

# sa_pair WHAT NODE A B MODE: NODE's kernel has exactly one ESP SA each way between A and B,
# in MODE
sa_pair() {
	_s=$({ esp_states "$2" "$3" "$4"; esp_states "$2" "$4" "$3"; })
	assert_eq "$1: $2's kernel has an ESP SA each way with $4, $5 mode" "2 $5" \
		"$(echo "$_s" | grep -c .) $(echo "$_s" | awk '{print $2}' | sort -u | tr '\n' ' ' | sed 's/ $//')"
}

# ---- strongSwan ----

SW_PLUGINS="random nonce openssl kdf pem pkcs1 pkcs8 x509 revocation constraints pubkey kernel-netlink socket-default vici"
# sw_node NAME ADDR4: a namespace running charon with $T_DIR/NAME/strongswan.conf (vici at
# $T_DIR/NAME/charon.vici, log charon.log) and swanctl's tree $T_DIR/NAME/swanctl/ (x509/,
# x509ca/, private/ from the test CA of MESH_AUTH, as mesh_node mints them); the
# connections are the scenario's: write $T_DIR/NAME/swanctl/swanctl.conf, then sw_load NAME
sw_node() {
	_attach "$1" "$2" || return 1
	_d=$T_DIR/$1
	mkdir -p "$_d/swanctl/x509" "$_d/swanctl/x509ca" "$_d/swanctl/private"
	mesh_cert "$1" "$MESH_AUTH" "$2" || return 1
	cp "$MESH_CERT_DIR/$1.pem" "$_d/swanctl/x509/"
	cp "$MESH_CERT_DIR/$1.key" "$_d/swanctl/private/"
	cp "$MESH_CERT_DIR/$MESH_CA.pem" "$_d/swanctl/x509ca/"
	cat >"$_d/strongswan.conf" <<EOT
charon {
	load = $SW_PLUGINS
	install_routes = no
	retransmit_timeout = 2
	retransmit_tries = 3
	plugins {
		vici {
			socket = unix://$_d/charon.vici
		}
	}
	filelog {
		log {
			path = $_d/charon.log
			time_format = %b %e %T
			flush_line = yes
			default = 1
			ike = 2
			cfg = 2
			knl = 1
			net = 1
		}
	}
	syslog {
		daemon {
			default = -1
		}
	}
}
swanctl {
	load = pem pkcs1 pkcs8 x509 openssl
}
EOT
	STRONGSWAN_CONF="$_d/strongswan.conf" ip netns exec "$(ns_of "$1")" "$PEERS/bin/charon" \
		>"$_d/charon.out" 2>&1 &
	eval "PID_$1=\$!"
	T_PIDS="$T_PIDS $!"
	wait_until 60 test -S "$_d/charon.vici" || { cat "$_d/charon.out" "$_d/charon.log"; fail "charon ($1) did not come up"; return 1; }
}

# swx NAME COMMAND ARGS: swanctl COMMAND for NAME's charon (--list-sas, --load-all, ...)
swx() { _n=$1 _c=$2; shift 2; STRONGSWAN_CONF="$T_DIR/$_n/strongswan.conf" "$PEERS/bin/swanctl" "$_c" --uri "unix://$T_DIR/$_n/charon.vici" "$@"; }
# sw_load NAME: swanctl --load-all from $T_DIR/NAME/swanctl/swanctl.conf
sw_load() {
	swx "$1" --load-all --file "$T_DIR/$1/swanctl/swanctl.conf" >"$T_DIR/$1/load.log" 2>&1 ||
		{ cat "$T_DIR/$1/load.log"; fail "swanctl --load-all ($1)"; return 1; }
}

# finish: as tests/netlink/lib.sh's, but a failing scenario keeps its daemons' logs (and
# captures) in $top_builddir/tests/interop/logs/SCENARIO/ for the report and CI artifacts
finish() {
	echo "$T_CHECKS checks, $T_FAILS failures"
	if [ "$T_FAILS" -ne 0 ]; then
		_k=$top_builddir/tests/interop/logs/$(basename "$0" .sh)${1:+-$1}
		rm -rf "$_k"
		mkdir -p "$_k"
		for _f in "$T_DIR"/*/*.log "$T_DIR"/*/*.conf "$T_DIR"/*/swanctl/swanctl.conf "$T_DIR"/*.pcap; do
			[ -f "$_f" ] || continue
			_r=${_f#"$T_DIR"/}
			cp "$_f" "$_k/$(echo "$_r" | tr / _)" 2>/dev/null
		done
		echo "logs kept in $_k"
	fi
	[ "$T_FAILS" -eq 0 ]
}
