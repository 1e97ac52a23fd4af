/*
 * ovs.c: an Open vSwitch of the lab's own, for its `kind: ovs` switches.
 *
 * A lab with an OVS switch gets its own ovsdb-server and ovs-vswitchd, with
 * their database, sockets and logs in RUN/ovs/, started as the lab's
 * processes (journaled, watched, stopped with the rest) and talked to with
 * ovs-vsctl --db=unix:RUN/ovs/db.sock.  Its bridges use the userspace
 * datapath (datapath_type=netdev), which needs no kernel module.  So the
 * host's own Open vSwitch, running or not, is never touched, and `down`
 * leaves nothing: the processes end, the run directory goes, and the
 * bridges' interfaces (taps of ovs-vswitchd's) vanish with their process.
 * Each bridge's name is journaled as a link all the same, should one
 * linger; the datapath's interface does linger (journal_datapath()).
 *
 * Starting takes a second or two, and the daemon waits for it (ovs-vsctl
 * waits for ovs-vswitchd to make each bridge): it happens once per lab.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bprintf.h"
#include "netd.h"
#include "netlink.h"

#define OVS_SCHEMA "/usr/share/openvswitch/vswitch.ovsschema"
#define OVS_WAIT_MS 10000
#define OVS_DATAPATH "ovs-netdev"

static void ovs_ended(struct proc *p)
{
	struct lab *lab = p->ctx;
	char how[128];

	if (lab->state == LAB_STOPPING || lab->state == LAB_FAILED)
		return;
	lab_event(lab, "Open vSwitch's %s ended (%s)", p->name,
		  proc_describe(p->status, how, sizeof(how)));
	lab_poke(lab);
}

static int run_ok(char *const argv[], char *err, size_t errlen)
{
	char out[512];
	int status = proc_run(argv, out, sizeof(out));

	if (status >= 0 && WIFEXITED(status) && !WEXITSTATUS(status))
		return 0;
	snprintf(err, errlen, "%s: %s", argv[0], out[0] ? out : "failed");
	return -1;
}

/* Start one of the two daemons, logging into RUN/ovs/NAME.log. */
static int start(struct lab *lab, struct proc *p, const char *name, char *const argv[],
		 char *err, size_t errlen)
{
	char log[PATH_MAX];
	struct proc_spec spec = { .argv = argv, .in = -1 };
	int fd, rc;

	bprintf(log, sizeof(log), "%s/ovs/%s.out", lab->plan->run, name);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	spec.out = spec.err = fd;
	p->role = "ovs";
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->on_exit = ovs_ended;
	p->ctx = lab;
	rc = proc_start(&lab->d->loop, &lab->journal, p, &spec, err, errlen);
	if (fd >= 0)
		close(fd);
	return rc;
}

/* Wait (briefly, once per lab) until ovsdb-server answers at SOCK. */
static int wait_for_db(struct lab *lab, const char *sock, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timespec nap = { 0, 20 * 1000000 };

	if (!bprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock)) {
		snprintf(err, errlen, "%s: too long for a unix socket", sock);
		return -1;
	}
	for (int waited = 0; waited < OVS_WAIT_MS; waited += 20) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			close(fd);
			return 0;
		}
		if (fd >= 0)
			close(fd);
		if (!lab->ovs[0].running)
			break;
		nanosleep(&nap, NULL);
	}
	snprintf(err, errlen, "Open vSwitch's ovsdb-server did not answer at %s", sock);
	return -1;
}

/* ovs-vsctl on the lab's database, with ARGS (NULL-terminated). */
int ovs_vsctl(struct lab *lab, char *err, size_t errlen, const char *const *args)
{
	char db[PATH_MAX + 16];
	char *argv[40] = { "/usr/bin/ovs-vsctl", db, "--timeout=10" };
	int n = 3;

	bprintf(db, sizeof(db), "--db=unix:%s/ovs/db.sock", lab->plan->run);
	for (const char *const *a = args; *a && n < 39; a++)
		argv[n++] = (char *)*a;
	argv[n] = NULL;
	return run_ok(argv, err, errlen);
}

static int add_bridges(struct lab *lab, char *err, size_t errlen)
{
	const struct plan *p = lab->plan;

	for (unsigned int i = 0; i < p->novs; i++) {
		const char *br = p->ovs[i].bridge;
		const char *add[] = { "add-br", br, "--", "set", "bridge", br, "datapath_type=netdev",
				      NULL };
		int rc = journal_add(&lab->journal, "link", br, "ovs", (char *)NULL);

		if (rc) {
			snprintf(err, errlen, "the lab's journal: %s", strerror(-rc));
			return -1;
		}
		if (ovs_vsctl(lab, err, errlen, add))
			return -1;
	}
	for (unsigned int i = 0; i < p->ntaps; i++) {
		const struct plan_tap *t = &p->taps[i];
		char opt[320] = "";
		const char *add[] = { "add-port", t->master, t->name, NULL, NULL };

		if (t->kind != PLAN_TAP_OVS)
			continue;
		if (t->vlan)
			bprintf(opt, sizeof(opt), "tag=%u", t->vlan);
		else if (t->trunk)
			bprintf(opt, sizeof(opt), "trunks=%s", t->trunk);
		for (char *c = opt; *c; c++)	/* the switch's 10:20 is OVS's 10,20 */
			if (*c == ':')
				*c = ',';
		add[3] = opt[0] ? opt : NULL;
		if (ovs_vsctl(lab, err, errlen, add))
			return -1;
	}
	return 0;
}

/*
 * The userspace datapath's own interface, ovs-netdev (a tap of
 * ovs-vswitchd's), outlives its process, and its name is the same for
 * every Open vSwitch on the host: journaled as the lab's if the host had
 * none, it goes with the last lab that needs it (undo.c leaves a link that
 * another lab's journal holds).
 */
static int journal_datapath(struct lab *lab, char *err, size_t errlen)
{
	struct nl nl;
	int rc, present;

	if (nl_open(&nl, err, errlen))
		return -1;
	present = nl_link_index(&nl, OVS_DATAPATH, err, errlen);
	nl_close(&nl);
	if (present < 0)
		return -1;
	if (present > 0 && !host_journal_find(lab->d, lab->topo->lab, "link", OVS_DATAPATH, NULL, 0))
		return 0;	/* the host's own Open vSwitch made it: not ours */
	rc = journal_add(&lab->journal, "link", OVS_DATAPATH, "ovs", (char *)NULL);
	if (rc)
		snprintf(err, errlen, "the lab's journal: %s", strerror(-rc));
	return rc ? -1 : 0;
}

int ovs_start(struct lab *lab, char *err, size_t errlen)
{
	const char *run = lab->plan->run;
	char dir[PATH_MAX], db[PATH_MAX], sock[PATH_MAX], remote[PATH_MAX + 8];
	char dbctl[PATH_MAX + 16], swctl[PATH_MAX + 16], dblog[PATH_MAX + 16], swlog[PATH_MAX + 16];
	char unix_sock[PATH_MAX + 8];
	char *create[] = { "/usr/bin/ovsdb-tool", "create", db, OVS_SCHEMA, NULL };
	char *server[] = { "/usr/sbin/ovsdb-server", db, remote, dbctl, dblog, "--no-chdir", NULL };
	char *vswitchd[] = { "/usr/sbin/ovs-vswitchd", unix_sock, swctl, swlog, "--no-chdir", NULL };
	const char *init[] = { "--no-wait", "init", NULL };

	if (!lab->plan->novs)
		return 0;
	if (access(server[0], X_OK) || access(vswitchd[0], X_OK)) {
		snprintf(err, errlen, "switch %s is an Open vSwitch switch, but Open vSwitch is not installed (apt-get install openvswitch-switch)",
			 lab->plan->ovs[0].sw->name);
		return -1;
	}
	bprintf(dir, sizeof(dir), "%s/ovs", run);
	bprintf(db, sizeof(db), "%s/conf.db", dir);
	bprintf(sock, sizeof(sock), "%s/db.sock", dir);
	bprintf(remote, sizeof(remote), "--remote=punix:%s", sock);
	bprintf(unix_sock, sizeof(unix_sock), "unix:%s", sock);
	bprintf(dbctl, sizeof(dbctl), "--unixctl=%s/ovsdb-server.ctl", dir);
	bprintf(swctl, sizeof(swctl), "--unixctl=%s/ovs-vswitchd.ctl", dir);
	bprintf(dblog, sizeof(dblog), "--log-file=%s/ovsdb-server.log", dir);
	bprintf(swlog, sizeof(swlog), "--log-file=%s/ovs-vswitchd.log", dir);
	if (mkdir(dir, 0700) < 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	if (journal_datapath(lab, err, errlen))
		return -1;
	if (run_ok(create, err, errlen) || start(lab, &lab->ovs[0], "ovsdb-server", server, err, errlen) ||
	    wait_for_db(lab, sock, err, errlen) || ovs_vsctl(lab, err, errlen, init) ||
	    start(lab, &lab->ovs[1], "ovs-vswitchd", vswitchd, err, errlen))
		return -1;
	lab_event(lab, "Open vSwitch of its own started (%s)", dir);
	return add_bridges(lab, err, errlen);
}
