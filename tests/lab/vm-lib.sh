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

lg_load() {
	lsmod | grep -q '^lg ' || insmod "$LG_KO"
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
