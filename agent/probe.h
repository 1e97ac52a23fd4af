/*
 * probe.h: `lguest-agent probe ...`, the network tools of a lab's tests
 * (probe.c).  ARGV starts at the probe's name.
 */
#ifndef LGUEST_AGENT_PROBE_H
#define LGUEST_AGENT_PROBE_H

#include <stdbool.h>

int probe_main(int argc, char **argv);

#endif
