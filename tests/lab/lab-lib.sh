# tests/lab/lab-lib.sh: sourced by the labs' tests (tests/lab/lab-*.vm), after
# tests/lab/vm-lib.sh, inside the lab-host VM.
#
#   NET                  lguest-net, from the build tree
#   lab_dir              a scratch copy of topologies/ (labs write their
#                        directories beside their files, not in the tree)
#   host_state FILE      what a lab may change on the host, written to FILE:
#                        links, addresses, routes, the nftables ruleset, the
#                        forwarding sysctls, processes, files in /run/lguest
#                        (not the kernel modules a tap or a table made the
#                        kernel load, nor /dev/net/tun, which came with tun's:
#                        they stay, as they do for ip and nft)
#   same_host DESC A B   one check: two host_state files are equal (the
#                        difference shown if not)
#   netd_gone            wait until lguest-netd has left (it leaves a few
#                        seconds after its last lab, when started on demand)
#   lab_up FILE          lguest-net up FILE, its output in $work/up.out
#   lab_down LAB         lguest-net down LAB
#
# The guests' kernels and base images are cached in the build tree
# (cache/netd), so each test's VM does not make them again.
NET=/lguest/netd/lguest-net
export LGUEST_CACHE_DIR=/lguest/cache/netd
mkdir -p "$LGUEST_CACHE_DIR"
lab_dir=$work/topologies
cp -r /lguest/topologies "$lab_dir"
lg_load

# Links without their counters and addresses' lifetimes: what a lab made or
# left, not what traffic did.  Processes by name (not pid), without this
# test's own (ps, the shell's children) and without kernel threads.
host_state() {
	{
		echo "# links"
		ip -d -j link | jq -S '[.[] | {ifname, link_type, master, linkinfo: .linkinfo.info_kind,
			alias: .ifalias, up: (.flags | index("UP") != null)}] | sort_by(.ifname)'
		echo "# addresses"
		ip -j addr | jq -S '[.[] | {ifname, addrs: [.addr_info[] | "\(.local)/\(.prefixlen)"]}] | sort_by(.ifname)'
		echo "# routes"
		ip -4 route show table all | sort
		ip -6 route show table all | sort
		echo "# nftables"
		nft list ruleset
		echo "# sysctls"
		sysctl net.ipv4.ip_forward net.ipv6.conf.all.forwarding
		echo "# processes"
		ps -e -o ppid=,comm= | awk '$1 != 2 && $2 !~ /^(ps|awk|sort|bash|sleep|jq|sed|tail|cat|kworker)/ { print $2 }' | sort
		echo "# files"
		find /run/lguest 2>/dev/null | grep -vE '^/run/lguest(/netd\.(log|sock|lock))?$' | sort
	} > "$1" 2>&1
}

same_host() {
	if diff -u "$2" "$3" > "$work/host.diff"; then
		tap_result ok "$1"
	else
		tap_result fail "$1"
		sed 's/^/#   /' "$work/host.diff" | head -40
	fi
}

netd_gone() {
	local deadline=$((SECONDS + 20))

	while pgrep -x lguest-netd >/dev/null && [ $SECONDS -lt $deadline ]; do
		sleep 0.2
	done
	! pgrep -x lguest-netd >/dev/null
}

lab_up() {
	lab_log "lguest-net up $1"
	"$NET" up "$1" > "$work/up.out" 2>&1
}

lab_down() {
	lab_log "lguest-net down $1"
	"$NET" down "$1" > "$work/down.out" 2>&1
}

# When a lab test fails, its lab's own log and lguest-netd's say why.
lab_report() {
	local lab=$1

	diag "lguest-net up said:" && sed 's/^/#   /' "$work/up.out" 2>/dev/null | tail -30
	[ -r "$lab_dir/$lab/netd.log" ] && diag "the lab's netd.log:" &&
		sed 's/^/#   /' "$lab_dir/$lab/netd.log" | tail -40
	[ -r /run/lguest/netd.log ] && diag "lguest-netd's log:" &&
		sed 's/^/#   /' /run/lguest/netd.log | tail -20
}
