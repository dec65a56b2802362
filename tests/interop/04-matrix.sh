#!/bin/sh
# 04-matrix — the group-combination matrix (libreswan-oe.md §7.2, Libreswan's newoe-18):
# for each pair of groups that "road" puts "east" in and east puts road in, road pings east
# and traffic ends as the table says: tunnel, clear, or down.
#
#   r1..r5 10.15.2.1-5 "road" hosts: rN puts 10.15.3.0/24 (every east) in group X_N
#   e1..e5 10.15.3.1-5 "east" hosts: eM puts 10.15.2.0/24 (every road) in group Y_M
#   X, Y = block, clear, clear-or-private, private-or-clear, private (in that order)
#   all on one /16 bridge; the config is newoe-18's: NULL auth, type=tunnel, clear-or-private
#   auto=add with priority=3333, retransmit-timeout=10s on every negotiating conn
#
# Usage: 04-matrix.sh ROAD:EAST    ROAD, EAST = meshd | libreswan   (default meshd:libreswan)
# All 25 pairs run at once: 16 pings 1 s apart from rN to eM. A cell is "tunnel" when
# pings were answered and both ends hold ESP SAs for the pair (the bridge then carries ESP
# and no cleartext echo after the SA), "clear" when they were answered without any SA, and
# "down" when none was answered. Asserts every cell against the table and prints the
# observed table.
. "$(dirname "$0")/lib.sh"
IFS=: read -r ROADK EASTK <<EOF
${1:-meshd:libreswan}
EOF
: "${ROADK:=meshd}" "${EASTK:=libreswan}"
case "$ROADK$EASTK" in *libreswan*) interop_require libreswan ;; *) interop_require ;; esac
echo "road: $ROADK, east: $EASTK"
MESH_AUTH=null MESH_TYPE=tunnel MESH_PFX4=16
MESH_CONN="retransmit-timeout=10s"
MESH_EXTRA="conn clear-or-private
	type=tunnel
	left=%defaultroute
	authby=null
	leftid=%null
	rightid=%null
	ikev2=insist
	right=%opportunisticgroup
	failureshunt=passthrough
	negotiationshunt=passthrough
	auto=add
	retransmit-timeout=10s
	# (newoe-18: EXTRA LOW priority so the OE tunnel wins)
	priority=3333"
G="block clear clear-or-private private-or-clear private"
short() { case $1 in clear-or-private) echo cop ;; private-or-clear) echo poc ;; *) echo "$1" ;; esac; }

# expected Y(east's group for road) X(road's group for east) -> outcome (§7.2)
expect() {
	case "$1/$2" in
	block/*|*/block) echo down ;;
	clear/private|private/clear) echo down ;;
	clear/*|*/clear) echo clear ;;
	clear-or-private/clear-or-private) echo clear ;;
	*) echo tunnel ;;
	esac
}

node() { # KIND NAME ADDR
	case $1 in
	meshd) mesh_node "$2" "$3" ;;
	libreswan) ls_node "$2" "$3" ;;
	esac
}

step "5 roads ($ROADK), 5 easts ($EASTK)"
i=0
for x in $G; do
	i=$((i + 1))
	MESH_POLICIES=$T_DIR/pol-r$i; mkdir -p "$MESH_POLICIES"
	echo '10.15.3.0/24' >"$MESH_POLICIES/$x"
	node "$ROADK" "r$i" "10.15.2.$i" || { finish; exit 1; }
	eval "X_r$i=$x"
done
i=0
for y in $G; do
	i=$((i + 1))
	MESH_POLICIES=$T_DIR/pol-e$i; mkdir -p "$MESH_POLICIES"
	echo '10.15.2.0/24' >"$MESH_POLICIES/$y"
	node "$EASTK" "e$i" "10.15.3.$i" || { finish; exit 1; }
	eval "Y_e$i=$y"
done
mesh_up || { finish; exit 1; }
ls_up || { finish; exit 1; }
cap_start matrix || { finish; exit 1; }

step "25 pairs: rN pings eM, 16 pings 1 s apart, all at once"
pp=
for r in 1 2 3 4 5; do
	for e in 1 2 3 4 5; do
		nsx "r$r" ping -n -q -c 16 -i 1 -W 1 "10.15.3.$e" >"$T_DIR/ping-$r-$e.txt" 2>&1 &
		pp="$pp $!"
	done
done
wait $pp
cap_stop

step "outcomes"
for r in 1 2 3 4 5; do xsnap "r$r" "e$r"; done
fails=0
table=$(printf '%-8s' "east\\road")
for x in $G; do table="$table$(printf ' %-7s' "$(short "$x")")"; done
for e in 1 2 3 4 5; do
	y=$(eval "echo \$Y_e$e")
	row=$(printf '%-8s' "$(short "$y")")
	for r in 1 2 3 4 5; do
		x=$(eval "echo \$X_r$r")
		ra=10.15.2.$r ea=10.15.3.$e
		rx=$(sed -n 's/.* \([0-9]*\) received.*/\1/p' "$T_DIR/ping-$r-$e.txt")
		sr=$(esp_count "r$r" "$ra" "$ea") se=$(esp_count "e$e" "$ea" "$ra")
		if [ "${rx:-0}" -eq 0 ]; then got=down
		elif [ "$sr" -ge 2 ] && [ "$se" -ge 2 ]; then got=tunnel
		elif [ "$sr" -eq 0 ] && [ "$se" -eq 0 ]; then got=clear
		else got="half($sr/$se)"; fi
		want=$(expect "$y" "$x")
		detail="road $(short "$x"), east $(short "$y"): $rx/16 answered, ESP SAs road $sr east $se"
		if [ "$got" = "$want" ]; then ok "$detail -> $got"
		else fail "$detail -> $got, the table says $want"; fi
		if [ "$got" = tunnel ]; then
			# after the SA, no cleartext echo: the capture's echo packets all precede the first ESP
			late=$(tcpdump -n -r "$T_DIR/matrix.pcap" "host $ra and host $ea and (esp or icmp[icmptype] = icmp-echo or icmp[icmptype] = icmp-echoreply)" 2>/dev/null |
				awk '/ESP/ { esp = 1; next } esp && /ICMP echo/ { n++ } END { print n + 0 }')
			[ "$late" -eq 0 ] && ok "  tunnel $ra <-> $ea: no cleartext echo after the first ESP packet" ||
				fail "  tunnel $ra <-> $ea: $late cleartext echo packets after ESP started"
		fi
		[ "$got" = "$want" ] && cell=$got || cell="$got!"
		row="$row$(printf ' %-7s' "$cell")"
	done
	table="$table
$row"
done
xunsnap
echo "observed (rows: the group east puts road in; columns: the group road puts east in; ! = differs from §7.2):"
echo "$table"
finish
