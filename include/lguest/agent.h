/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * include/lguest/agent.h: the guest agent's protocol (a userspace ABI).
 *
 * lguest-agent runs inside a guest and runs commands for the host: "exec"
 * in a lab.  It talks over a channel (lguest --channel=PATH; devices.h),
 * which needs no network: the guest's end is /dev/lgchan0, the host's a unix
 * socket the launcher listens on.  The host side (lguest-netd, or the test
 * tool agent-exec through lib/agent_client.h) connects to that socket and
 * runs any number of commands at once over the one connection, each a
 * *session* with an id the host chooses.
 *
 * Everything is a frame: a 12-byte header, little-endian, then the payload.
 *
 *	0  __le16 magic		LGUEST_AGENT_MAGIC ("LA" on the wire)
 *	2  __u8   version	LGUEST_AGENT_VERSION
 *	3  __u8   type		enum lguest_agent_type
 *	4  __le32 session	the session the frame is about; 0: none
 *	8  __le32 length	payload bytes, 0..LGUEST_AGENT_MAX_PAYLOAD
 *
 * A header with another magic or version, or a longer length, is a protocol
 * error: the stream cannot be followed any more, so the agent answers
 * ERROR (session 0) and closes its end, which resets the channel (the
 * launcher closes the host's connection).  Other errors are about one frame
 * (an unknown type, a payload of the wrong size for its type, an EXEC it
 * cannot parse, a session id in use): ERROR with that frame's session, and
 * the stream goes on.  A frame for a session that does not exist (STDIN,
 * SIGNAL, OUTPUT_ACK after the session's EXIT) is ignored: the two sides
 * cross.
 *
 * The conversation:
 *   HELLO (host to guest, no payload) starts it: the agent kills every
 *	session it has (what an old connection left) and answers HELLO with a
 *	struct lguest_agent_hello and its hostname.  Frames of the sessions it
 *	killed may come before the answer: a host skips what precedes it.  A
 *	host sends HELLO first; the agent may not be up yet (the guest is
 *	booting): the HELLO waits in the channel, and the answer comes when the
 *	agent starts.
 *   EXEC (host to guest): start a command in the new session `session'
 *	(nonzero, not in use).  Payload: a struct lguest_agent_exec, then argc
 *	strings (argv), envc strings ("NAME=VALUE", added to the agent's
 *	environment), then, with LGUEST_AGENT_EXEC_CWD, the working directory;
 *	each string ends with a NUL, and the last one ends the payload.  The
 *	command runs in a session and process group of its own, its stdout and
 *	stderr are pipes to the agent, and its stdin is /dev/null unless
 *	LGUEST_AGENT_EXEC_STDIN asks for a pipe fed by STDIN frames.  argv[0]
 *	is looked for in PATH.  A command that cannot be run ends as a shell's
 *	would: a message on STDERR, then EXIT 127 (not found) or 126 (found,
 *	but it cannot be executed); when the agent cannot even try (more than
 *	max_sessions at once, no memory, no processes, a working directory it
 *	cannot enter), EXIT 125.
 *   STDIN (host to guest): bytes for the command's stdin; length 0 is the
 *	end of it (the pipe is closed once what came before is written).  For
 *	a session whose EXEC did not ask for stdin, or after the end, an ERROR.
 *	Bytes for a command that has closed its stdin are dropped (and
 *	acknowledged).
 *   SIGNAL (host to guest): struct lguest_agent_signal; the agent sends the
 *	signal to the session's process group.
 *   STDOUT, STDERR (guest to host): the command's output, never empty.
 *   EXIT (guest to host): struct lguest_agent_exit, after every byte of the
 *	session's STDOUT and STDERR.  The session is over, its id free again.
 *	The agent does not wait for the command's children: once the command
 *	has exited, what is in its pipes is sent and the pipes are closed (a
 *	daemon it started should not write to them).
 *   ERROR (guest to host): struct lguest_agent_error (the type of the frame
 *	that caused it), then a message (text, no NUL).  With a session id,
 *	that frame was ignored; if it was an EXEC, the session never started
 *	(no EXIT follows).
 *
 * Flow control, per session, so that one command that does not read its
 * input, or whose output nobody reads, holds up no other: each direction
 * has a window, announced in HELLO (stdin_window, output_window bytes).
 *   The host may have at most stdin_window bytes of a session's STDIN
 *	payload that the agent has not acknowledged; STDIN_ACK (guest to host,
 *	struct lguest_agent_ack) says that many more bytes were written to the
 *	command, so the host may send that many more.  STDIN beyond the window
 *	is an ERROR, and dropped.
 *   The agent sends at most output_window bytes of a session's STDOUT and
 *	STDERR payload (together) that the host has not acknowledged; the host
 *	sends OUTPUT_ACK (host to guest) as it consumes them.  Until it does,
 *	the agent stops reading the command's pipes, and the command blocks.
 * Besides, the agent stops reading every command's pipes while the channel
 * itself does not take what it writes: nothing is buffered without bound.
 *
 * A reset of the channel (the host's connection ended, or a new one) ends
 * every session: the agent kills their process groups (SIGKILL) and starts
 * clean, exactly as for HELLO.
 */
#ifndef _LGUEST_AGENT_H
#define _LGUEST_AGENT_H

#include <linux/types.h>

#define LGUEST_AGENT_MAGIC		0x414c	/* 'L', 'A' */
#define LGUEST_AGENT_VERSION		1
#define LGUEST_AGENT_HEADER_SIZE	12
#define LGUEST_AGENT_MAX_PAYLOAD	65536

enum lguest_agent_type {
	/* host to guest */
	LGUEST_AGENT_HELLO = 1,		/* both ways: no payload / struct lguest_agent_hello */
	LGUEST_AGENT_EXEC = 2,		/* struct lguest_agent_exec and strings */
	LGUEST_AGENT_STDIN = 3,		/* bytes; none: end of input */
	LGUEST_AGENT_SIGNAL = 4,	/* struct lguest_agent_signal */
	LGUEST_AGENT_OUTPUT_ACK = 5,	/* struct lguest_agent_ack */
	/* guest to host */
	LGUEST_AGENT_STDOUT = 16,	/* bytes */
	LGUEST_AGENT_STDERR = 17,	/* bytes */
	LGUEST_AGENT_EXIT = 18,		/* struct lguest_agent_exit */
	LGUEST_AGENT_ERROR = 19,	/* struct lguest_agent_error, a message */
	LGUEST_AGENT_STDIN_ACK = 20,	/* struct lguest_agent_ack */
};

struct lguest_agent_header {
	__le16 magic;
	__u8 version;
	__u8 type;
	__le32 session;
	__le32 length;
};

/* HELLO's answer; the guest's hostname follows (the rest of the payload). */
struct lguest_agent_hello {
	__le32 max_sessions;	/* sessions at once */
	__le32 stdin_window;	/* bytes of STDIN per session, unacknowledged */
	__le32 output_window;	/* bytes of STDOUT and STDERR per session */
	__le32 reserved;	/* 0 */
};

#define LGUEST_AGENT_EXEC_STDIN	1	/* stdin is a pipe fed by STDIN frames */
#define LGUEST_AGENT_EXEC_CWD	2	/* a working directory follows the env */

struct lguest_agent_exec {
	__le32 flags;		/* LGUEST_AGENT_EXEC_* */
	__le16 argc;		/* 1 or more */
	__le16 envc;
};

struct lguest_agent_signal {
	__le32 signal;		/* 1..64 */
};

struct lguest_agent_ack {
	__le32 bytes;
};

/* ERROR's fixed part; the message follows. */
struct lguest_agent_error {
	__u8 type;		/* of the frame at fault; 0: a header */
	__u8 reserved[3];	/* 0 */
};

/* How the command ended: code is 128 + signal when a signal killed it. */
struct lguest_agent_exit {
	__le32 code;		/* 0..255 */
	__le32 signal;		/* 0: it exited */
};

#endif /* _LGUEST_AGENT_H */
