/* addr.c — numeric IPv4/IPv6 addresses and prefixes. */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>

#include "addr.h"

bool addr_parse(const char *s, struct addr *out)
{
	memset(out, 0, sizeof(*out));
	if (strchr(s, ':')) {
		if (inet_pton(AF_INET6, s, out->b) != 1)
			return false;
		out->family = AF_INET6;
		return true;
	}
	/* inet_pton(AF_INET) accepts only dotted quads, which is what we want. */
	if (inet_pton(AF_INET, s, out->b) != 1)
		return false;
	out->family = AF_INET;
	return true;
}

void prefix_mask(struct prefix *p)
{
	for (unsigned i = 0; i < 16; i++) {
		unsigned lo = i * 8;
		if (lo >= p->len)
			p->a.b[i] = 0;
		else if (p->len < lo + 8)
			p->a.b[i] &= (uint8_t)(0xff << (8 - (p->len - lo)));
	}
}

bool prefix_parse(const char *s, struct prefix *out, bool zero_host, bool *had_host_bits)
{
	char tmp[PREFIX_STRLEN + 8];
	size_t n = strlen(s);
	if (had_host_bits)
		*had_host_bits = false;
	if (n == 0 || n >= sizeof(tmp))
		return false;
	memcpy(tmp, s, n + 1);
	char *slash = strchr(tmp, '/');
	long len = -1;
	if (slash) {
		*slash = '\0';
		const char *l = slash + 1;
		if (*l < '0' || *l > '9' || strlen(l) > 3)
			return false;
		char *end;
		len = strtol(l, &end, 10);
		if (*end != '\0')
			return false;
		/* no leading zeros such as "/024": ambiguous in some tools */
		if (l[0] == '0' && l[1] != '\0')
			return false;
	}
	if (!addr_parse(tmp, &out->a))
		return false;
	unsigned bits = addr_bits(out->a.family);
	if (len < 0)
		len = bits;
	if (len > (long)bits)
		return false;
	out->len = (uint8_t)len;
	struct prefix m = *out;
	prefix_mask(&m);
	if (!addr_eq(&m.a, &out->a)) {
		if (!zero_host)
			return false;
		if (had_host_bits)
			*had_host_bits = true;
		*out = m;
	}
	return true;
}

const char *addr_str(const struct addr *a, char *buf)
{
	if (a->family != AF_INET && a->family != AF_INET6) {
		snprintf(buf, ADDR_STRLEN, "<unset>");
		return buf;
	}
	if (!inet_ntop(a->family, a->b, buf, ADDR_STRLEN))
		snprintf(buf, ADDR_STRLEN, "<bad>");
	return buf;
}

const char *prefix_str(const struct prefix *p, char *buf)
{
	char a[ADDR_STRLEN];
	snprintf(buf, PREFIX_STRLEN, "%s/%u", addr_str(&p->a, a), p->len);
	return buf;
}

bool addr_eq(const struct addr *x, const struct addr *y)
{
	return x->family == y->family && memcmp(x->b, y->b, addr_len(x->family)) == 0;
}

int addr_cmp(const struct addr *x, const struct addr *y)
{
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	return memcmp(x->b, y->b, 16);
}

int prefix_cmp(const struct prefix *x, const struct prefix *y)
{
	int r = addr_cmp(&x->a, &y->a);
	if (r)
		return r;
	return (x->len > y->len) - (x->len < y->len);
}

bool prefix_contains(const struct prefix *p, const struct addr *a)
{
	if (p->a.family != a->family)
		return false;
	unsigned full = p->len / 8, rest = p->len % 8;
	if (memcmp(p->a.b, a->b, full) != 0)
		return false;
	if (rest == 0)
		return true;
	uint8_t m = (uint8_t)(0xff << (8 - rest));
	return (p->a.b[full] & m) == (a->b[full] & m);
}

void prefix_host(const struct addr *a, struct prefix *out)
{
	out->a = *a;
	out->len = (uint8_t)addr_bits(a->family);
}

void addr_from_sockaddr(const struct sockaddr *sa, struct addr *out, uint16_t *port)
{
	memset(out, 0, sizeof(*out));
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		out->family = AF_INET;
		memcpy(out->b, &in->sin_addr, 4);
		if (port)
			*port = ntohs(in->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		out->family = AF_INET6;
		memcpy(out->b, &in6->sin6_addr, 16);
		if (port)
			*port = ntohs(in6->sin6_port);
	}
}

socklen_t addr_to_sockaddr(const struct addr *a, uint16_t port, struct sockaddr_storage *out)
{
	memset(out, 0, sizeof(*out));
	if (a->family == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons(port);
		memcpy(&in6->sin6_addr, a->b, 16);
		return sizeof(*in6);
	}
	struct sockaddr_in *in = (struct sockaddr_in *)out;
	in->sin_family = AF_INET;
	in->sin_port = htons(port);
	memcpy(&in->sin_addr, a->b, 4);
	return sizeof(*in);
}
