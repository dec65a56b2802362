/* ctl_proto.c — framing of control requests and responses (both ends use it). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "ctl_proto.h"

int ctl_parse_request(char *buf, size_t len, char *argv[CTL_MAX_ARGS])
{
	if (len == 0 || len > CTL_MAX_REQUEST || buf[len - 1] != '\0')
		return -EINVAL;
	int argc = 0;
	size_t start = 0;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];
		if (c == '\0') {
			if (i == start)
				return -EINVAL;           /* empty argument */
			if (argc == CTL_MAX_ARGS)
				return -E2BIG;
			argv[argc++] = buf + start;
			start = i + 1;
		} else if (c < 0x20 || c == 0x7f) {
			return -EINVAL;                   /* control characters */
		}
	}
	return argc;
}

int ctl_build_request(int argc, char *const argv[], char *buf, size_t cap)
{
	size_t off = 0;
	if (argc < 1 || argc > CTL_MAX_ARGS)
		return -EINVAL;
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (n == 0)
			return -EINVAL;
		if (off + n + 1 > cap || off + n + 1 > CTL_MAX_REQUEST)
			return -E2BIG;
		memcpy(buf + off, argv[i], n + 1);
		off += n + 1;
	}
	return (int)off;
}

int ctl_parse_status(const char *buf, size_t len, size_t *body_off)
{
	static const char tag[] = "status ";
	size_t t = sizeof(tag) - 1;
	if (len < t + 2 || memcmp(buf, tag, t) != 0)
		return -EBADMSG;
	int n = 0;
	size_t i = t;
	for (; i < len && i < t + 3 && buf[i] >= '0' && buf[i] <= '9'; i++)
		n = n * 10 + (buf[i] - '0');
	if (i == t || i >= len || buf[i] != '\n' || n > 125)
		return -EBADMSG;
	*body_off = i + 1;
	return n;
}
