/*
 * sw.c: a lab's switch processes: one lguest-vswitch per lab switch and
 * per wire (plan.h says why every link has one).
 *
 * Each is started with all its ports on its command line, so that a port's
 * capture holds its first frame, and with a control socket in the run
 * directory, which the switch makes last: once it answers, the switch is
 * ready.  At run time the daemon changes a switch through that socket
 * (sw_ctl: impairments, link state, live captures), one short command at a
 * time; the switch answers at once, and a switch that does not answer in
 * CTL_TIMEOUT_S is an error, not a hang.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "argv.h"
#include "netd.h"

#define CTL_TIMEOUT_S 5
#define CTL_ANSWER_MAX (1u << 20)

static void sw_ended(struct proc *p)
{
	struct swproc *s = (struct swproc *)((char *)p - offsetof(struct swproc, proc));
	char how[128];

	snprintf(s->why, sizeof(s->why), "its lguest-vswitch ended (%s)",
		 proc_describe(p->status, how, sizeof(how)));
	s->ready = false;
	if (s->lab->state == LAB_STOPPING || s->lab->state == LAB_FAILED)
		lab_event(s->lab, "switch %s stopped", s->ps->name);
	else
		lab_event(s->lab, "switch %s: %s", s->ps->name, s->why);
	lab_poke(s->lab);
}

static void sw_errors(struct watch *w, uint32_t events)
{
	struct swproc *s = (struct swproc *)((char *)w - offsetof(struct swproc, errors));
	char who[TOPO_LINK_NAME_MAX + 16];

	(void)events;
	snprintf(who, sizeof(who), "switch %s", s->ps->name);
	lab_read_lines(s->lab, w, who, s->why, sizeof(s->why));
}

static void sw_argv(const struct swproc *s, struct argv *a)
{
	const struct plan_switch *ps = s->ps;

	argv_add(a, "%s", s->lab->d->prog.vswitch);
	argv_add(a, "--control=%s", ps->ctl);
	if (ps->hub)
		argv_add(a, "--hub");
	if (ps->capture.on) {
		argv_add(a, "--capture=%s", ps->capture.file);
		if (ps->capture.rotate_size) {
			argv_add(a, "--capture-size=%llu", (unsigned long long)ps->capture.rotate_size);
			argv_add(a, "--capture-count=%u",
				 ps->capture.rotate_count ? ps->capture.rotate_count : 2);
		}
	}
	for (unsigned int i = 0; i < ps->nports; i++)
		argv_add(a, "--port=%s", ps->ports[i].spec);
}

int sw_start(struct swproc *s, char *err, size_t errlen)
{
	struct loop *l = &s->lab->d->loop;
	struct argv argv = { 0 };
	int pipefd[2];
	struct proc_spec spec = { .in = -1 };
	int rc;

	sw_argv(s, &argv);
	if (argv.failed || pipe2(pipefd, O_CLOEXEC) < 0) {
		snprintf(err, errlen, "switch %s: %s", s->ps->name,
			 argv.failed ? "out of memory" : strerror(errno));
		argv_free(&argv);
		return -1;
	}
	spec.argv = argv.v;
	spec.out = spec.err = pipefd[1];
	s->proc.role = "switch";
	snprintf(s->proc.name, sizeof(s->proc.name), "%s", s->ps->name);
	s->proc.on_exit = sw_ended;
	rc = proc_start(l, &s->lab->journal, &s->proc, &spec, err, errlen);
	close(pipefd[1]);
	if (rc == 0) {
		fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
		loop_add(l, &s->errors, pipefd[0], EPOLLIN, sw_errors);
	} else {
		close(pipefd[0]);
	}
	argv_free(&argv);
	return rc;
}

static int ctl_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = CTL_TIMEOUT_S };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -1;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Is its control socket there and answering? */
bool sw_ready(struct swproc *s)
{
	int fd;

	if (s->ready)
		return true;
	if (!s->proc.running)
		return false;
	fd = ctl_connect(s->ps->ctl);
	if (fd < 0)
		return false;
	close(fd);
	s->ready = true;
	return true;
}

int sw_ctl(const struct plan_switch *ps, const char *cmd, char **out, char *err, size_t errlen)
{
	struct proto_buf b = { 0 };
	char chunk[4096], *nl;
	ssize_t n;
	int fd = ctl_connect(ps->ctl);

	*out = NULL;
	if (fd < 0) {
		snprintf(err, errlen, "switch %s does not answer on %s: %s", ps->name, ps->ctl,
			 strerror(errno));
		return -1;
	}
	if (proto_write_all(fd, cmd, strlen(cmd)) || proto_write_all(fd, "\n", 1))
		goto broken;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		if (b.len > CTL_ANSWER_MAX || buf_append(&b, chunk, (size_t)n))
			goto broken;
	if (n < 0)
		goto broken;
	close(fd);
	if (buf_append(&b, "", 1))
		goto broken_closed;
	nl = strchr(b.data, '\n');
	if (!strncmp(b.data, "ok", 2) && (b.data[2] == '\n' || !b.data[2])) {
		*out = strdup(nl ? nl + 1 : "");
		buf_free(&b);
		return 0;
	}
	if (nl)
		*nl = '\0';
	snprintf(err, errlen, "switch %s: %s", ps->name,
		 !strncmp(b.data, "error: ", 7) ? b.data + 7 : b.data);
	buf_free(&b);
	return -1;
broken:
	close(fd);
broken_closed:
	snprintf(err, errlen, "switch %s: its control socket: %s", ps->name,
		 errno == EAGAIN ? "no answer" : strerror(errno));
	buf_free(&b);
	return -1;
}

void sw_stop(struct swproc *s)
{
	proc_signal(&s->proc, SIGTERM);
}
