/*
 * fuzz-topo.c: libFuzzer's way into the topology parser (make fuzz-topo).
 *
 * Any bytes at all are a topology file someone could hand to lguest-net:
 * the parser must answer each with a topology or with errors, never a crash,
 * a hang, a leak or undefined behaviour (the target is built with ASan and
 * UBSan).  The file's name is fixed and its directory is where the fuzzer
 * runs, so relative paths in an input lead nowhere in particular; the default
 * kernel is the fuzzer itself (any readable file), so that inputs can parse
 * all the way to a topology.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "topo.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	setenv("LGUEST_NET_KERNEL", "/proc/self/exe", 1);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct topo_errors errs;
	struct topo *t = topo_parse("fuzz.topo", (const char *)data, size, &errs);

	if (!t && !errs.n)
		__builtin_trap();	/* a failure must say why */
	topo_free(t);
	return 0;
}
