/* ctl_proto.h — the control-socket protocol between meshctl and meshd.
 *
 * Request: the command's arguments, each terminated by a NUL byte, at most
 * CTL_MAX_REQUEST bytes and CTL_MAX_ARGS arguments; the client then shuts down its
 * writing side. Response: one line "status N\n" (N is the exit status meshctl should
 * return, 0..125) followed by the output text; the server closes the connection. */
#ifndef MESHD_CTL_PROTO_H
#define MESHD_CTL_PROTO_H

#include <stddef.h>

#define CTL_MAX_REQUEST 4096
#define CTL_MAX_ARGS 32

/* Split a request in place into argv (pointers into buf). Every argument must be
 * non-empty printable text. Returns argc >= 1, or -EINVAL / -E2BIG. */
int ctl_parse_request(char *buf, size_t len, char *argv[CTL_MAX_ARGS]);
/* Build a request from argv into buf; returns its length or -E2BIG / -EINVAL. */
int ctl_build_request(int argc, char *const argv[], char *buf, size_t cap);
/* Parse the "status N\n" header of a response: returns N and sets *body_off, or
 * -EBADMSG. */
int ctl_parse_status(const char *buf, size_t len, size_t *body_off);

#endif
