# tests/tap.sh: sourced by the script tests so that they speak TAP.
#
#   plan N               announce N checks
#   check DESC CMD...    one check: CMD succeeds
#   is DESC GOT WANT     one check: two strings are equal (both shown if not)
#   isnt DESC GOT WANT   one check: two strings differ
#   like DESC GOT REGEX  one check: GOT matches the extended REGEX
#   diag TEXT            a comment in the log
#   bail REASON          stop the whole test here ("Bail out!")
#
# The exit status is the number of failed checks (capped), so a test that
# stops early still fails.  top_srcdir and top_builddir come from make check;
# run by hand, they default to the tree this file is in.

: "${top_srcdir:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
VM_RUN=$top_builddir/tests/vm/run

tap_count=0
tap_failed=0
tap_planned=

plan() { tap_planned=$1; echo "1..$1"; }
diag() { printf '%s\n' "$@" | sed 's/^/# /'; }
tap_result() {
	tap_count=$((tap_count + 1))
	if [ "$1" = ok ]; then
		echo "ok $tap_count - $2"
	else
		tap_failed=$((tap_failed + 1))
		echo "not ok $tap_count - $2"
	fi
}
check() {
	local desc=$1
	shift
	if "$@"; then tap_result ok "$desc"; else tap_result fail "$desc"; fi
}
is() {
	if [ "$2" = "$3" ]; then
		tap_result ok "$1"
	else
		tap_result fail "$1"
		diag "got:  '$2'" "want: '$3'"
	fi
}
isnt() {
	if [ "$2" != "$3" ]; then
		tap_result ok "$1"
	else
		tap_result fail "$1"
		diag "got '$2', which it should not be"
	fi
}
bail() {
	echo "Bail out! $*"
	tap_failed=$((tap_failed + 1))
	exit
}
like() {
	if [[ $2 =~ $3 ]]; then
		tap_result ok "$1"
	else
		tap_result fail "$1"
		diag "got:  '$2'" "want: /$3/"
	fi
}
tap_done() {
	if [ -n "$tap_planned" ] && [ "$tap_count" -ne "$tap_planned" ]; then
		diag "planned $tap_planned checks but ran $tap_count"
		tap_failed=$((tap_failed + 1))
	fi
	[ $tap_failed -lt 100 ] || tap_failed=100
	exit $tap_failed
}
trap tap_done EXIT
