# tests/vswitch/lib.sh: sourced by the switch's tests, after tests/tap.sh.
#
# Every name a test makes ends in this shell's pid, so that two runs never
# meet; everything made is undone on exit, whatever the exit:
#   vs_start NAME ARGS...   start a switch with control socket $vs_tmp/NAME.ctl,
#                           wait until it is ready ($NAME_pid is its pid)
#   vs_ctl NAME CMD...      lguest-vswitch ctl on that switch
#   vs_host NS TAP ADDR     make namespace NS, move the switch's TAP into it,
#                           give it ADDR (IPv6 off: no chatter in captures)
#   vs_stop NAME            SIGTERM, and wait: the exit status in $vs_status
#   vs_counter NAME PORT FIELD   one counter, from show counters --json
VSWITCH=$top_builddir/vswitch/lguest-vswitch
PEER="python3 $top_srcdir/tests/vswitch/peer.py"
vs_id=$$
vs_tmp=$(mktemp -d /tmp/vswitch-test.XXXXXX)
vs_pids=()
vs_netns=()

vs_cleanup() {
	local pid ns
	for pid in "${vs_pids[@]}"; do kill "$pid" 2>/dev/null; done
	for pid in "${vs_pids[@]}"; do wait "$pid" 2>/dev/null; done
	for ns in "${vs_netns[@]}"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$vs_tmp"
}
trap 'vs_cleanup; tap_done' EXIT
trap 'exit 1' INT TERM HUP

vs_start() {
	local name=$1 i pid
	shift
	"$VSWITCH" --control="$vs_tmp/$name.ctl" "$@" 2>>"$vs_tmp/$name.log" &
	pid=$!
	vs_pids+=("$pid")
	printf -v "${name}_pid" %s "$pid"
	for i in $(seq 100); do
		[ -S "$vs_tmp/$name.ctl" ] && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.05
	done
	diag "switch $name did not start:" "$(cat "$vs_tmp/$name.log")"
	return 1
}

vs_ctl() {
	local name=$1
	shift
	"$VSWITCH" ctl "$vs_tmp/$name.ctl" "$@"
}

vs_host() {
	local ns=$1 tap=$2 addr=$3
	ip netns add "$ns" || return 1
	vs_netns+=("$ns")
	ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
		net.ipv6.conf.default.disable_ipv6=1 || return 1
	ip link set "$tap" netns "$ns" || return 1
	ip -n "$ns" link set lo up &&
	ip -n "$ns" addr add "$addr" dev "$tap" &&
	ip -n "$ns" link set "$tap" up
}

vs_stop() {
	local name=$1 pid
	pid=${name}_pid
	pid=${!pid}
	kill -TERM "$pid" 2>/dev/null
	wait "$pid"
	vs_status=$?
}

vs_counter() {
	vs_ctl "$1" show counters --json |
		python3 -c 'import json,sys; d=json.load(sys.stdin); print([p for p in d["ports"] if p["name"]==sys.argv[1]][0][sys.argv[2]])' "$2" "$3"
}

# pcap_fields FILE FILTER FIELDS...: tshark's fields, one frame a line
pcap_fields() {
	local file=$1 filter=$2 args=() f
	shift 2
	for f in "$@"; do args+=(-e "$f"); done
	tshark -r "$file" -Y "$filter" -T fields -E separator=' ' "${args[@]}" 2>/dev/null
}
