/*
 * topo_parse.h: the map of the topology parser, for its own files only
 * (lguest-net and lguest-netd see topo.h).
 *
 * topo_parse() (topo.c) reads a file in phases, each in its own file:
 *
 *   1. topo_yaml.c loads the YAML with every limit a hostile file needs and
 *      gives the walk its tools: mappings read through key tables, lists,
 *      strings with {i} replaced (topo_range.c), each visit counted;
 *   2. topo.c reads lab: and dir:, then topo_node.c the node settings of
 *      defaults:, groups: and nodes:, topo_switch.c the switches, topo_link.c
 *      the links (which add the interfaces that only links name), and
 *      topo_tests.c the tests;
 *   3. topo_check.c checks what needs the whole lab: unlinked interfaces,
 *      MACs, boot order, routes' devices and gateways.
 *
 * Values are read by topo_value.c and topo_addr.c; errors are collected by
 * topo_errors.c, each at the position of the YAML node it is about and with
 * the path that leads there ("nodes.r1.memory").
 *
 * Memory: everything the parse allocates comes from the topology's arena
 * (tp_alloc), freed at once by topo_free().  When the file would take more
 * memory or more work than any real lab (aliases can make a small file
 * huge), the parse stops at once: tp_abort() reports why and longjmps back
 * to topo_parse(), which frees the arena and the YAML document.  So no
 * code below has an error path for running out.
 */
#ifndef LGUEST_TOPO_PARSE_H
#define LGUEST_TOPO_PARSE_H

#include <setjmp.h>
#include <stdarg.h>
#include <yaml.h>

#include "topo.h"

/* Limits against hostile files; a real lab is far inside every one. */
#define TP_MAX_FILE	(1u << 20)	/* bytes of YAML */
#define TP_MAX_DEPTH	32		/* nested mappings and lists */
#define TP_MAX_EVENTS	200000		/* YAML nodes in the file */
#define TP_MAX_ANCHORS	1000		/* &anchors (libyaml looks each alias up linearly) */
#define TP_MAX_ALIASES	10000		/* *aliases */
#define TP_MAX_STRING	65536		/* bytes in one string */
#define TP_MAX_WORK	2000000		/* node visits, strings' bytes / 64 */
#define TP_MAX_MEMORY	(64u << 20)	/* bytes of parsed topology */
#define TP_MAX_PATH	4095		/* a file name */

typedef yaml_node_t tnode;
struct tp;

/* Where a setting may be written: node settings have three levels. */
enum {
	TP_IN_DEFAULTS = 1 << 0,
	TP_IN_GROUP = 1 << 1,
	TP_IN_NODE = 1 << 2,
};

/* A known key of a mapping, and the function that reads its value into OBJ. */
struct tp_key {
	const char *name;
	void (*read)(struct tp *p, tnode *v, void *obj);
	unsigned int where;	/* TP_IN_* where it may appear; 0: everywhere */
	bool required;
};
#define TP_KEYS(table) (table), sizeof(table) / sizeof((table)[0])
/* A reader that only keeps where FIELD's value is, in a TYPE, to be read later
 * in an order of the caller's choosing (a link's name before its capture). */
#define TP_KEEP(type, field)                                          \
	static void keep_##field(struct tp *p, tnode *v, void *obj) \
	{                                                             \
		(void)p;                                              \
		((type *)obj)->field = v;                             \
	}

struct tp_level;
struct tp_mem;

struct tp {
	struct topo *t;
	struct tp_mem *mem;
	struct topo_errors *errs;
	const char *file;	/* as the caller named it: in messages */
	char *filedir;		/* absolute: relative paths start here */
	char *default_kernel;
	jmp_buf abort;		/* tp_abort() returns to topo_parse() */

	yaml_document_t doc;
	bool have_doc;
	unsigned long work;
	const tnode *last;	/* the last node visited: where tp_alloc() stops */
	unsigned long nerrors;	/* every error, even those not kept: did X go wrong? */
	bool aborting;		/* tp_abort(): its error is kept whatever else there is */

	/* The path to what is being read, for messages: "nodes.r1.memory". */
	char path[160];
	size_t pathlen, rootlen;

	/* {i} and {i+N}: set while reading what a range made (h[1..4]). */
	bool in_range;
	long index;

	/* The top-level values, read in a fixed order whatever the file's. */
	struct tp_top {
		tnode *lab, *dir, *defaults, *groups, *nodes, *switches, *links, *tests;
	} top;

	struct tp_level *defaults;
	struct tp_level **groups;
	unsigned int ngroups;
	struct tp_node_extra *extra;	/* by node index */
	unsigned int *link_item;	/* by link index: its item in links: (1, 2...) */
	bool kernel_checked;		/* the default kernel, once */
};

/* ---- topo.c: memory and the phases ---- */
void *tp_alloc(struct tp *p, size_t size);	/* zeroed; never NULL */
char *tp_strdup(struct tp *p, const char *s);
char *tp_printf(struct tp *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* PATH made absolute: relative to BASE unless it starts with '/'. */
char *tp_abspath(struct tp *p, const char *base, const char *path);
_Noreturn void tp_abort(struct tp *p, const tnode *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* ---- topo_errors.c ---- */
void tp_error(struct tp *p, const tnode *n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void tp_error_pos(struct tp *p, struct topo_pos pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void tp_verror(struct tp *p, struct topo_pos pos, const char *fmt, va_list ap);
void tp_errors_sort(struct topo_errors *errs);
/* 'TEXT' for a message: cut at about 50 bytes, anything unprintable escaped. */
const char *tp_quote(const char *text, char buf[64]);
/* The path for messages: set to a root ("link 3"), or a key pushed and popped. */
void tp_path_set(struct tp *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
size_t tp_path_push(struct tp *p, const char *key);
void tp_path_pop(struct tp *p, size_t len);

/* ---- topo_yaml.c ---- */
bool ty_load(struct tp *p, const char *text, size_t len);
void ty_free(struct tp *p);
tnode *ty_root(struct tp *p);
struct topo_pos ty_pos(const tnode *n);
bool ty_null(const tnode *n);
bool ty_scalar(const tnode *n);
bool ty_seq(const tnode *n);
bool ty_map(const tnode *n);
const char *ty_kind(const tnode *n);	/* "a mapping", "a list", "a string", "nothing" */
/* N's text, {i} replaced in a range; NULL after an error "expected WHAT, got ...". */
const char *ty_str(struct tp *p, tnode *n, const char *what);
/* Each KEY: VALUE of mapping N (null: none) read by the table; WHAT names N's context
 * ("node r1") in messages.  Returns the bitmask of the table's keys seen. */
uint64_t ty_read_map(struct tp *p, tnode *n, const struct tp_key *keys, size_t nkeys,
		     unsigned int where, const char *what, void *obj);
/* Each KEY: VALUE of mapping N (null: none), keys being any strings. */
typedef void ty_pair_fn(struct tp *p, const char *key, tnode *k, tnode *v, void *obj);
void ty_each_pair(struct tp *p, tnode *n, const char *what, ty_pair_fn *fn, void *obj);
/* Each item of list N, or N itself when SINGLE allows one value for a list. */
typedef void ty_item_fn(struct tp *p, unsigned int i, tnode *item, void *obj);
void ty_each_item(struct tp *p, tnode *n, bool single, const char *what, ty_item_fn *fn,
		  void *obj);
unsigned int ty_len(const tnode *n);	/* items of a list, pairs of a mapping; else 0 */
tnode *ty_item(struct tp *p, tnode *n, unsigned int i);

/* ---- topo_range.c: h[1..8] and {i} ---- */
struct tp_range {
	bool is_range;		/* else PREFIX is the whole name */
	char prefix[TOPO_NAME_MAX + 1], suffix[TOPO_NAME_MAX + 1];
	long lo, hi;
};
/* Split NAME ("h[1..8]") into R; a name without '[' is its own range of one.
 * Returns NULL or what is wrong ("expected..."). */
const char *tp_range_parse(const char *name, struct tp_range *r);
unsigned int tp_range_len(const struct tp_range *r);
/* The K-th name of R (0-based) into BUF; false if it is too long. */
bool tp_range_name(const struct tp_range *r, unsigned int k, char *buf, size_t size);
long tp_range_index(const struct tp_range *r, unsigned int k);
/* Each name that KEY (YAML key K, a name or a range) makes, in the mapping
 * SECTION ("nodes"): MAKE(p, NAME, K, V) with the path SECTION.NAME and {i}
 * set.  A key that is no range, or a name that is none, is reported; MAKE
 * returns false to stop (the section is full). */
typedef bool tp_make_fn(struct tp *p, const char *name, tnode *k, tnode *v);
void tp_range_each(struct tp *p, const char *section, const char *key, tnode *k, tnode *v,
		   tp_make_fn *make);
/* TEXT with {i}, {i+N}, {i-N} replaced by INDEX: NULL (and *WHY) on error. */
char *tp_subst(struct tp *p, const char *text, long index, const char **why);

/* ---- topo_value.c: scalars.  A parser reads S into OUT and returns NULL, or
 * what it expected ("expected a size like 128m"), also when S is "" ---- */
typedef const char *tv_parse_fn(const char *s, void *out);
tv_parse_fn tv_bool;		/* bool */
tv_parse_fn tv_memory;		/* uint64_t bytes: guest memory */
tv_parse_fn tv_bytes;		/* uint64_t bytes: any size_parse() size */
tv_parse_fn tv_time;		/* uint64_t ns: 50ms, 1.5s, 200us */
tv_parse_fn tv_percent;		/* uint32_t ppm: 30%, 0.5% */
tv_parse_fn tv_rate;		/* uint64_t bit/s: 8mbit */
tv_parse_fn tv_mac;		/* uint8_t[6], unicast */
tv_parse_fn tv_mtu;		/* unsigned int */
tv_parse_fn tv_vlan;		/* unsigned int */
tv_parse_fn tv_port;		/* unsigned int, 1..65535 */
tv_parse_fn tv_count;		/* unsigned int, 1..1000 */
tv_parse_fn tv_mode;		/* unsigned int, octal */
tv_parse_fn tv_trunk;		/* OUT unused: checks "10:20:100-199" */
tv_parse_fn tv_lab_name;	/* OUT unused */
tv_parse_fn tv_name;		/* OUT unused: node, switch, group */
tv_parse_fn tv_ifname;		/* OUT unused */
tv_parse_fn tv_link_name;	/* OUT unused */
tv_parse_fn tv_module;		/* OUT unused */
/* "EXPECTATION, got 'S'" at N when WHY is set: false then. */
bool tv_check(struct tp *p, const tnode *n, const char *why, const char *s);
/* Scalar N through PARSE into OUT; its text, or NULL after an error. */
const char *tv_read(struct tp *p, tnode *n, tv_parse_fn *parse, void *out);
/* Any text (up to MAX bytes), copied into the topology; NULL after an error. */
char *tv_read_text(struct tp *p, tnode *n, size_t max);

/* ---- topo_addr.c ---- */
/* One address or a list of them; BARE_ONLY refuses "/N" (a gateway). */
bool ta_read(struct tp *p, tnode *n, struct topo_addr *a, bool bare_only);
bool ta_read_list(struct tp *p, tnode *n, struct topo_addr **addrs, unsigned int *naddrs);
bool ta_contains(const struct topo_addr *net, const struct topo_addr *a);
bool ta_host_bits(const struct topo_addr *a);	/* anything set beyond the prefix? */
const char *ta_host(const struct topo_addr *a, char buf[64]);	/* without "/N" */

/* ---- topo_node.c: defaults, groups, nodes and what they inherit ---- */
/* The settings written at one level (defaults, a group, a node): the
 * lists are that level's own, the scalars count where SET says so. */
enum {
	TL_KERNEL = 1 << 0,
	TL_MEMORY = 1 << 1,
	TL_CMDLINE = 1 << 2,
	TL_FORWARD = 1 << 3,
	TL_FORWARD6 = 1 << 4,
	TL_STARTUP = 1 << 5,
	TL_READY = 1 << 6,
	TL_AFTER = 1 << 7,
};
struct tp_level {
	struct topo_node n;
	unsigned int set;	/* TL_* */
	unsigned int where;	/* TP_IN_* */
	tnode *group;		/* "group:", at a node */
	tnode *after;		/* "after:", its names checked once all nodes exist */
};
/* What the checks need to know of each node beyond struct topo_node. */
struct tp_node_extra {
	tnode *after;		/* the "after:" it inherited or set */
	bool in_range;		/* made by a range: {i} is INDEX */
	long index;
};
void tp_read_defaults_and_groups(struct tp *p);
void tp_read_nodes(struct tp *p);
/* NODE's interface IFNAME; when ADD and it is not there, a new one (from a link at
 * WHERE), or NULL after an error if the node has no room. */
struct topo_iface *tp_iface_get(struct tp *p, struct topo_node *node, const char *ifname,
				bool add, const tnode *where);
void tp_resolve_after(struct tp *p);	/* names to nodes; cycles */

/* ---- topo_files.c: what goes into a node's guest (key readers; OBJ is a tp_level) ---- */
void tf_read_kernel(struct tp *p, tnode *v, void *obj);
void tf_read_disks(struct tp *p, tnode *v, void *obj);
void tf_read_files(struct tp *p, tnode *v, void *obj);
void tf_read_programs(struct tp *p, tnode *v, void *obj);
void tf_read_modules(struct tp *p, tnode *v, void *obj);
/* The host file at PATH (absolute) is there and readable, a regular file or what HOW
 * allows: NULL, or why not ("is a directory"). */
enum { TF_DIR = 1, TF_BLOCK = 2, TF_EXEC = 4 };
const char *tf_check_host_file(const char *path, unsigned int how);
/* Host path N, relative to BASE, checked: absolute, or NULL after an error. */
char *tf_read_host_path(struct tp *p, tnode *n, const char *base, unsigned int how);

/* ---- topo_iface.c: a node's interfaces and routes (key readers) ---- */
void ti_read_interfaces(struct tp *p, tnode *v, void *obj);
void ti_read_routes(struct tp *p, tnode *v, void *obj);

/* ---- topo_switch.c ---- */
void tp_read_switches(struct tp *p);
/* A capture (true, false, FILE, {file, size, count}): DEFAULT_NAME for its default file. */
void tp_read_capture(struct tp *p, tnode *v, struct topo_capture *c, const char *default_name);

/* ---- topo_link.c ---- */
void tp_read_links(struct tp *p);

/* ---- topo_tests.c ---- */
void tp_read_tests(struct tp *p);

/* ---- topo_check.c ---- */
void tp_check(struct tp *p);

#endif
