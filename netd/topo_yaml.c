/*
 * topo_yaml.c: the YAML under a topology, read as if its author were an
 * enemy.
 *
 * libyaml's document API gives a tree of nodes, each with its place in the
 * file.  Before building it, one pass over libyaml's events checks what the
 * tree would cost: the file's size (TP_MAX_FILE), how deep it nests
 * (TP_MAX_DEPTH), how many values, anchors and aliases it has (libyaml
 * looks each alias up among all anchors: many of both is quadratic), that
 * no string is longer than TP_MAX_STRING, that there is exactly one
 * document and no explicit tags (a topology's meaning is in its text, never
 * in a !!type).  Only then is the tree built, by the same parser.
 *
 * Aliases make the tree a graph, even a cyclic one (&a [*a]).  The walk
 * cannot loop: it descends only where the format has keys, and the format
 * is a few levels deep.  But it can be made to visit a node millions of
 * times, so every visit (ty_get) is counted, with every 64 bytes of text,
 * and the parse stops with an error beyond TP_MAX_WORK.
 *
 * A mapping with fixed keys is read through a table (struct tp_key): an
 * unknown key, one given twice, or one in a place where it does not belong
 * is an error that says so, and the missing required keys are named.
 */
#include <string.h>

#include "topo_parse.h"

static struct topo_pos mark_pos(yaml_mark_t m)
{
	return (struct topo_pos){ (unsigned int)m.line + 1, (unsigned int)m.column + 1 };
}

struct topo_pos ty_pos(const tnode *n)
{
	return mark_pos(n->start_mark);
}

/* A reader error has only a byte offset: count the lines up to it. */
static struct topo_pos offset_pos(const char *text, size_t len, size_t off)
{
	struct topo_pos pos = { 1, 1 };
	size_t i;

	for (i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			pos.line++;
			pos.col = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
			pos.col++;
		}
	}
	return pos;
}

static void syntax_error(struct tp *p, const yaml_parser_t *ps, const char *text, size_t len)
{
	const char *problem = ps->problem ? ps->problem : "cannot be read";
	const char *hint = "";
	struct topo_pos pos;

	if (ps->error == YAML_READER_ERROR) {
		pos = offset_pos(text, len, ps->problem_offset);
		tp_error_pos(p, pos, "not YAML text: %s (byte 0x%02x)", problem,
			     (unsigned int)ps->problem_value & 0xff);
		return;
	}
	if (ps->error == YAML_MEMORY_ERROR) {
		tp_error_pos(p, (struct topo_pos){ 0, 0 }, "YAML: out of memory");
		return;
	}
	if (ps->context && strstr(ps->context, "flow"))
		hint = "; inside [ ] and { }, quote a value that has [ ] { } or ', ' in it, "
		       "like \"h[1..4]:eth0\"";
	pos = mark_pos(ps->problem_mark);
	if (ps->context)
		tp_error_pos(p, pos, "YAML: %s %s (line %zu)%s", problem, ps->context,
			     ps->context_mark.line + 1, hint);
	else
		tp_error_pos(p, pos, "YAML: %s%s", problem, hint);
}

struct census {
	unsigned int depth, docs;
	unsigned long values, anchors, aliases;
};

/* What one event adds to the file's cost: NULL, or why it is too much. */
static const char *count_event(struct census *c, const yaml_event_t *ev)
{
	const yaml_char_t *tag = NULL, *anchor = NULL;

	switch (ev->type) {
	case YAML_DOCUMENT_START_EVENT:
		if (++c->docs > 1)
			return "a second YAML document ('---'): a topology is one document";
		return NULL;
	case YAML_SEQUENCE_START_EVENT:
	case YAML_MAPPING_START_EVENT:
		if (++c->depth > TP_MAX_DEPTH)
			return "nested too deep (more than 32 levels)";
		tag = ev->type == YAML_SEQUENCE_START_EVENT ? ev->data.sequence_start.tag
							    : ev->data.mapping_start.tag;
		anchor = ev->type == YAML_SEQUENCE_START_EVENT ? ev->data.sequence_start.anchor
							       : ev->data.mapping_start.anchor;
		break;
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		c->depth--;
		return NULL;
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.length > TP_MAX_STRING)
			return "a string longer than 65536 bytes";
		tag = ev->data.scalar.tag;
		anchor = ev->data.scalar.anchor;
		break;
	case YAML_ALIAS_EVENT:
		if (++c->aliases > TP_MAX_ALIASES)
			return "more than 10000 aliases (*name)";
		return NULL;
	default:
		return NULL;
	}
	if (tag)
		return "explicit YAML tags (!!type, !name) have no meaning in a topology";
	if (anchor && ++c->anchors > TP_MAX_ANCHORS)
		return "more than 1000 anchors (&name)";
	if (++c->values > TP_MAX_EVENTS)
		return "more than 200000 values";
	return NULL;
}

static bool census(struct tp *p, const char *text, size_t len)
{
	struct census c = { 0 };
	yaml_parser_t ps;
	yaml_event_t ev;
	bool ok = true, end = false;

	yaml_parser_initialize(&ps);
	yaml_parser_set_input_string(&ps, (const unsigned char *)text, len);
	while (ok && !end) {
		const char *why;

		if (!yaml_parser_parse(&ps, &ev)) {
			syntax_error(p, &ps, text, len);
			ok = false;
			break;
		}
		why = count_event(&c, &ev);
		if (why) {
			tp_error_pos(p, mark_pos(ev.start_mark), "%s", why);
			ok = false;
		}
		end = ev.type == YAML_STREAM_END_EVENT;
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&ps);
	return ok;
}

bool ty_load(struct tp *p, const char *text, size_t len)
{
	yaml_parser_t ps;
	bool ok;

	if (len > TP_MAX_FILE) {
		tp_error_pos(p, (struct topo_pos){ 0, 0 },
			     "larger than 1 MiB (%zu bytes): not a topology", len);
		return false;
	}
	if (!census(p, text, len))
		return false;
	yaml_parser_initialize(&ps);
	yaml_parser_set_input_string(&ps, (const unsigned char *)text, len);
	ok = yaml_parser_load(&ps, &p->doc);
	if (!ok)
		syntax_error(p, &ps, text, len);	/* an alias to no anchor */
	yaml_parser_delete(&ps);
	p->have_doc = ok;
	if (ok && !ty_root(p)) {
		tp_error_pos(p, (struct topo_pos){ 0, 0 },
			     "empty: a topology is a mapping with lab: and nodes: at least");
		return false;
	}
	return ok;
}

void ty_free(struct tp *p)
{
	if (p->have_doc)
		yaml_document_delete(&p->doc);
	p->have_doc = false;
}

tnode *ty_root(struct tp *p)
{
	return yaml_document_get_root_node(&p->doc);
}

static tnode *ty_get(struct tp *p, int id)
{
	tnode *n = yaml_document_get_node(&p->doc, id);

	p->last = n;
	if (++p->work > TP_MAX_WORK)
		tp_abort(p, n, "too much to read (more than %u values, counting each alias "
			 "each time it is used): not a topology", TP_MAX_WORK);
	return n;
}

bool ty_scalar(const tnode *n)
{
	return n && n->type == YAML_SCALAR_NODE;
}

bool ty_seq(const tnode *n)
{
	return n && n->type == YAML_SEQUENCE_NODE;
}

bool ty_map(const tnode *n)
{
	return n && n->type == YAML_MAPPING_NODE;
}

/* A plain empty value, ~ or null (in the cases YAML 1.1 knows). */
bool ty_null(const tnode *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };
	size_t i;

	if (!ty_scalar(n) || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return !n;
	for (i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (!strcmp((const char *)n->data.scalar.value, nulls[i]))
			return true;
	return false;
}

const char *ty_kind(const tnode *n)
{
	if (ty_null(n))
		return "nothing";
	if (ty_seq(n))
		return "a list";
	if (ty_map(n))
		return "a mapping";
	return "a string";
}

/* What N is, for "got ...": its text when it is a string. */
static const char *got(const tnode *n, char buf[64])
{
	if (ty_scalar(n) && !ty_null(n))
		return tp_quote((const char *)n->data.scalar.value, buf);
	return ty_kind(n);
}

const char *ty_str(struct tp *p, tnode *n, const char *what)
{
	const char *s, *why = NULL;
	char q[64];
	char *r;

	if (!ty_scalar(n) || ty_null(n)) {
		tp_error(p, n, "expected %s, got %s", what, got(n, q));
		return NULL;
	}
	s = (const char *)n->data.scalar.value;
	p->work += n->data.scalar.length / 64;
	if (strlen(s) != n->data.scalar.length) {
		tp_error(p, n, "expected %s, got text with a NUL byte in it", what);
		return NULL;
	}
	if (!p->in_range || !strchr(s, '{'))
		return s;
	r = tp_subst(p, s, p->index, &why);
	if (!r)
		tp_error(p, n, "%s in %s", why, tp_quote(s, q));
	return r;
}

/* One edit apart (a letter missing, extra, wrong, or two swapped)? */
static bool near(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i = 0;

	while (i < la && i < lb && a[i] == b[i])
		i++;
	if (la == lb)
		return !strcmp(a + i + (i < la), b + i + (i < lb)) ||
		       (i + 1 < la && a[i] == b[i + 1] && a[i + 1] == b[i] &&
			!strcmp(a + i + 2, b + i + 2));
	if (la == lb + 1)
		return !strcmp(a + i + 1, b + i);
	if (lb == la + 1)
		return !strcmp(a + i, b + i + 1);
	return false;
}

static void unknown_key(struct tp *p, const tnode *k, const char *key, const struct tp_key *keys,
			size_t nkeys, unsigned int where, const char *what)
{
	char list[200], q[64], in[64];
	size_t i, n = 0;

	if (p->errs->n == TOPO_MAX_ERRORS) {
		tp_error(p, k, "unknown key");	/* only counted: spare the suggestions */
		return;
	}
	/* The path says where, when there is one. */
	in[0] = '\0';
	if (!p->pathlen)
		snprintf(in, sizeof(in), " in %s", what);
	for (i = 0; i < nkeys; i++) {
		if (keys[i].where && !(keys[i].where & where))
			continue;
		if (near(key, keys[i].name)) {
			tp_error(p, k, "unknown key %s%s (did you mean '%s'?)", tp_quote(key, q), in,
				 keys[i].name);
			return;
		}
		if (n < sizeof(list))
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", n ? ", " : "",
					      keys[i].name);
	}
	if (!strcmp(key, "<<"))
		tp_error(p, k, "merge keys (<<) are not supported: use defaults: or groups:");
	else
		tp_error(p, k, "unknown key %s%s (known: %s)", tp_quote(key, q), in, list);
}

static const char *level_name(unsigned int where)
{
	return where == TP_IN_DEFAULTS ? "defaults" : where == TP_IN_GROUP ? "a group" : "a node";
}

static const char *key_text(struct tp *p, tnode *k)
{
	char q[64];

	if (!ty_scalar(k) || ty_null(k) || strlen((const char *)k->data.scalar.value) !=
						  k->data.scalar.length) {
		tp_error(p, k, "a key must be a name, not %s", got(k, q));
		return NULL;
	}
	return (const char *)k->data.scalar.value;
}

static bool expect_map(struct tp *p, tnode *n, const char *what)
{
	char q[64];

	if (ty_map(n))
		return true;
	if (!ty_null(n))
		tp_error(p, n, "expected a mapping (KEY: VALUE) for %s, got %s", what, got(n, q));
	return false;
}

static const struct tp_key *find_key(const struct tp_key *keys, size_t nkeys, const char *key)
{
	size_t i;

	for (i = 0; i < nkeys; i++)
		if (!strcmp(keys[i].name, key))
			return &keys[i];
	return NULL;
}

static uint64_t read_pair(struct tp *p, tnode *k, tnode *v, const struct tp_key *keys,
			  size_t nkeys, unsigned int where, const char *what, uint64_t seen, void *obj)
{
	const char *key = key_text(p, k);
	const struct tp_key *e;
	uint64_t bit;
	size_t saved;

	if (!key)
		return 0;
	e = find_key(keys, nkeys, key);
	if (!e) {
		unknown_key(p, k, key, keys, nkeys, where, what);
		return 0;
	}
	bit = 1ull << (e - keys);
	if (seen & bit) {
		tp_error(p, k, "key '%s' given twice%s%s", e->name, p->pathlen ? "" : " in ",
			 p->pathlen ? "" : what);
		return 0;
	}
	if (e->where && !(e->where & where)) {
		tp_error(p, k, "'%s' cannot be set in %s (only in %s)", e->name, level_name(where),
			 e->where == TP_IN_NODE ? "a node" : "a node or a group");
		return bit;
	}
	saved = tp_path_push(p, e->name);
	e->read(p, v, obj);
	tp_path_pop(p, saved);
	return bit;
}

uint64_t ty_read_map(struct tp *p, tnode *n, const struct tp_key *keys, size_t nkeys,
		     unsigned int where, const char *what, void *obj)
{
	uint64_t seen = 0;
	yaml_node_pair_t *pair;
	size_t i;

	if (expect_map(p, n, what))
		for (pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++)
			seen |= read_pair(p, ty_get(p, pair->key), ty_get(p, pair->value), keys,
					  nkeys, where, what, seen, obj);
	for (i = 0; i < nkeys; i++)
		if (keys[i].required && !(seen & (1ull << i)) && (ty_map(n) || ty_null(n)))
			tp_error(p, n, "%s%sneeds '%s'", p->pathlen ? "" : what,
				 p->pathlen ? "" : " ", keys[i].name);
	return seen;
}

void ty_each_pair(struct tp *p, tnode *n, const char *what, ty_pair_fn *fn, void *obj)
{
	yaml_node_pair_t *pair;

	if (!expect_map(p, n, what))
		return;
	for (pair = n->data.mapping.pairs.start; pair < n->data.mapping.pairs.top; pair++) {
		tnode *k = ty_get(p, pair->key), *v = ty_get(p, pair->value);
		const char *key = key_text(p, k);
		size_t saved;

		if (!key)
			continue;
		saved = tp_path_push(p, key);
		fn(p, key, k, v, obj);
		tp_path_pop(p, saved);
	}
}

void ty_each_item(struct tp *p, tnode *n, bool single, const char *what, ty_item_fn *fn,
		  void *obj)
{
	yaml_node_item_t *item;
	char q[64];

	if (ty_null(n))
		return;
	if (!ty_seq(n)) {
		if (single)
			fn(p, 0, n, obj);
		else
			tp_error(p, n, "expected a list of %s, got %s", what, got(n, q));
		return;
	}
	for (item = n->data.sequence.items.start; item < n->data.sequence.items.top; item++)
		fn(p, (unsigned int)(item - n->data.sequence.items.start), ty_get(p, *item), obj);
}

unsigned int ty_len(const tnode *n)
{
	if (ty_seq(n))
		return (unsigned int)(n->data.sequence.items.top - n->data.sequence.items.start);
	if (ty_map(n))
		return (unsigned int)(n->data.mapping.pairs.top - n->data.mapping.pairs.start);
	return 0;
}

tnode *ty_item(struct tp *p, tnode *n, unsigned int i)
{
	if (!ty_seq(n) || i >= ty_len(n))
		return NULL;
	return ty_get(p, n->data.sequence.items.start[i]);
}
