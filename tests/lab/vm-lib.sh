# tests/lab/vm-lib.sh: sourced by the lab tests (*.vm) inside the lab-host VM.
#
# tests/vm/run starts each *.vm file in /lguest, the build tree.  This gives
# them TAP (tests/tap.sh), the module, the launcher, the lab kernel, a
# scratch directory, and a few helpers to make and boot guests.
. /lguest/tests/tap.sh

LG_KO=/lguest/kmod/host/lg.ko
LGUEST=/lguest/launcher/lguest
MKINITRD=/lguest/launcher/lguest-initramfs
KERNEL=/boot/vmlinuz-$(uname -r)
TINY=/lguest/tests/lab
work=$(mktemp -d)

# lab_log MESSAGE: a line in the lab host's kernel log, so on its console:
# when a test hangs, tests/vm/run shows the console, and the last of these
# says what the test was doing.
lab_log() {
	printf 'lab: %.900s\n' "$*" > /dev/kmsg	# (kmsg takes about 1000 bytes a line)
}

# (The module's base goes to the console: tests/vm/run names an address in
# lg.ko with it when a test hangs.)
lg_load() {
	lsmod | grep -q '^lg ' && return
	insmod "$LG_KO" || return
	lab_log "lg.ko loaded at $(awk '$1 == "lg" { print $6 }' /proc/modules)"
}

# guest_initrd OUT: an initramfs whose /etc/rc.d/50-test is the script
# read from standard input (it should end with "poweroff -f").
guest_initrd() {
	local script
	script=$(mktemp "$work/rc.XXXXXX")
	cat > "$script"
	chmod +x "$script"
	"$MKINITRD" -o "$1" --file "$script:/etc/rc.d/50-test"
}

# wait_for FILE REGEX SECONDS: until FILE has a line matching REGEX.
wait_for() {
	local deadline=$((SECONDS + $3))
	while [ $SECONDS -lt $deadline ]; do
		grep -qE "$2" "$1" 2>/dev/null && return 0
		sleep 0.2
	done
	return 1
}

# seconds since the epoch, with microseconds, for timing things
now() { echo "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

# Guests driven through their console, as a user at the terminal would.
#
#   guest_start NAME LGUEST-ARGS...   boots a guest whose console input is a
#       FIFO and whose output goes to $work/NAME.out; returns once its shell
#       is ready (the initramfs must use the default /init).
#   guest_run NAME COMMAND [SECONDS]  types COMMAND into the guest's shell and
#       waits for it to finish; prints what it printed, returns its status.
#   guest_stop NAME                   powers the guest off and waits for lguest.
declare -A guest_pid guest_fd
guest_start() {
	local name=$1 fd
	shift
	mkfifo "$work/$name.in"
	exec {fd}<>"$work/$name.in"
	lab_log "guest $name: lguest $*"
	timeout 600 "$LGUEST" "$@" <"$work/$name.in" >"$work/$name.out" 2>&1 &
	guest_pid[$name]=$!
	guest_fd[$name]=$fd
	echo 0 > "$work/$name.seq"
	wait_for "$work/$name.out" "guest ready; exit the shell" 240 || {
		diag "guest $name did not become ready; its console:"
		sed 's/^/#   /' "$work/$name.out" | tail -40
		return 1
	}
	# Kernel messages would land in the middle of commands' output.
	guest_run "$name" "dmesg -n 1" >/dev/null
}
guest_run() {
	local name=$1 cmd=$2 secs=${3:-120} n out
	# (A file counts the commands: guest_run is often called in $(...).)
	n=$(($(cat "$work/$name.seq") + 1))
	echo $n > "$work/$name.seq"
	lab_log "guest $name, command $n: $cmd"
	# Markers around the output, split in the typed line so that the shell's
	# echo of it (wrapped, perhaps, at the console's width) never matches.
	echo "echo \"@@\"\"start$n\"; $cmd; echo \"@@\"\"done$n:\$?\"" >&${guest_fd[$name]}
	if ! wait_for "$work/$name.out" "^@@done$n:[0-9]+" "$secs"; then
		guest_hung "$name" "'$cmd' did not finish in ${secs}s"
		return 124
	fi
	out=$(tr -d '\r' < "$work/$name.out")
	awk -v n="$n" '
		$0 == "@@start" n { on = 1; next }
		$0 ~ "^@@done" n ":" { exit }
		on { print }' <<<"$out"
	return "$(grep -aoE "^@@done$n:[0-9]+" <<<"$out" | head -n1 | cut -d: -f2)"
}
guest_stop() {
	local name=$1 rc
	lab_log "guest $name: poweroff"
	echo "poweroff -f" >&${guest_fd[$name]}
	# lguest exits within seconds of poweroff; give it a minute, then say
	# what the guest was doing and stop it.
	local deadline=$((SECONDS + 60))
	while kill -0 "${guest_pid[$name]}" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
		sleep 0.2
	done
	if kill -0 "${guest_pid[$name]}" 2>/dev/null; then
		guest_hung "$name" "still running 60s after poweroff"
		kill -KILL $(guest_lguest_pid "$name") "${guest_pid[$name]}" 2>/dev/null
		deadline=$((SECONDS + 10))
		while kill -0 "${guest_pid[$name]}" 2>/dev/null && [ $SECONDS -lt $deadline ]; do
			sleep 0.2
		done
		if kill -0 "${guest_pid[$name]}" 2>/dev/null; then
			echo "# guest $name: lguest survives SIGKILL (stuck in the kernel?)" >&2
			exec {guest_fd[$name]}>&-
			return 124
		fi
	fi
	wait "${guest_pid[$name]}"
	rc=$?
	exec {guest_fd[$name]}>&-
	return $rc
}

# guest_hung NAME WHY: tell, on standard error (guest_run is often called
# inside $(...), which would swallow it), what a guest that stopped
# answering last printed, what lg.ko said, and where its vCPU is.
guest_hung() {
	local name=$1 pid
	pid=$(guest_lguest_pid "$name")
	{
		echo "# guest $name: $2; its console ($(stat -c %s "$work/$name.out") bytes), last lines:"
		tr -d '\r' < "$work/$name.out" | tail -40 | sed 's/^/#   /'
		echo "# lab host's kernel log, last lines:"
		dmesg | tail -20 | sed 's/^/#   /'
		if [ -n "$pid" ]; then
			echo "# its lguest (pid $pid) threads, state and kernel stack:"
			for t in /proc/"$pid"/task/*; do
				echo "#   thread ${t##*/}: $(awk '/^State/ { print $2, $3 }' "$t"/status)"
				sed 's/^/#     /' "$t"/stack 2>/dev/null
			done
			[ -r /sys/kernel/debug/lguest/"$pid"-*/dma ] &&
				sed 's/^/#   dma: /' /sys/kernel/debug/lguest/"$pid"-*/dma
		fi
	} >&2
}

# The pid of a started guest's lguest (guest_start runs it under timeout).
guest_lguest_pid() {
	pgrep -P "${guest_pid[$1]}" -x lguest
}

# dma_stat NAME FIELD: one of lg.ko's DMA counters for guest NAME.
dma_stat() {
	mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
	awk -v f="$2" '$1 == f { print $2 }' /sys/kernel/debug/lguest/"$(guest_lguest_pid "$1")"-*/dma
}

# A guest's eth0, up with an address: guest_ip NAME ADDRESS/PREFIX
guest_ip() {
	guest_run "$1" "ip addr add $2 dev eth0 && ip link set eth0 up" >/dev/null
}
