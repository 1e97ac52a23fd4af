# tests/netd/lib.sh: sourced by the plumbing tests, after tests/tap.sh.
#
# Each test works in network namespaces of its own, whose names end in this
# shell's pid so that two runs never meet.  They are deleted on exit,
# whatever the exit, and everything in them goes with them: taps, bridges,
# veths, addresses, routes, nftables tables, settings.  So is $nd_tmp.
#   nd_netns VAR NAME     make namespace NAME-PID; $VAR is its name
#   nd_in NS CMD...       run CMD in NS
#   nd_tool NS ARGS...    run plumb-tool in NS
#   nd_err NS ARGS...     plumb-tool in NS: its exit status in brackets, then
#                         its stderr ("[1] plumb-tool: x: no such link")
PLUMB=$top_builddir/tests/netd/plumb-tool
nd_id=$$
nd_namespaces=()
nd_tmp=$(mktemp -d /tmp/netd-test.XXXXXX)	# files a test may want

nd_cleanup() {
	local ns
	for ns in "${nd_namespaces[@]}"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$nd_tmp"
}
trap 'nd_cleanup; tap_done' EXIT
trap 'exit 1' INT TERM HUP

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP needs root (network namespaces)"
	exit 0
fi
[ -x "$PLUMB" ] || bail "no $PLUMB (make check builds it)"

nd_netns() {
	local _name=$2-$nd_id
	ip netns add "$_name" || return 1
	nd_namespaces+=("$_name")
	printf -v "$1" %s "$_name"
	ip -n "$_name" link set lo up
}

nd_in() {
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

nd_tool() {
	local ns=$1
	shift
	ip netns exec "$ns" "$PLUMB" "$@"
}

nd_err() {
	local ns=$1 err
	shift
	err=$(ip netns exec "$ns" "$PLUMB" "$@" 2>&1 >/dev/null)
	echo "[$?] $err"
}
