/* addr.h — IPv4/IPv6 addresses and prefixes, numeric only (no DNS). */
#ifndef MESHD_ADDR_H
#define MESHD_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* An address in network byte order; IPv4 uses the first 4 bytes, the rest are 0. */
struct addr {
	uint8_t family;          /* AF_INET or AF_INET6; 0 = unset */
	uint8_t b[16];
};

struct prefix {
	struct addr a;           /* host bits are always zero */
	uint8_t len;             /* 0..32 or 0..128 */
};

/* Longest textual forms, with NUL: "ffff:...:255.255.255.255/128". */
#define ADDR_STRLEN 46
#define PREFIX_STRLEN 50

static inline unsigned addr_bits(int family) { return family == AF_INET6 ? 128 : 32; }
static inline size_t addr_len(int family) { return family == AF_INET6 ? 16 : 4; }

/* Parse a numeric address. Returns false on anything else. */
bool addr_parse(const char *s, struct addr *out);
/* Parse "A", "A/len". A bare address becomes a host prefix. Non-zero host bits are an
 * error unless zero_host is set, in which case they are cleared and *had_host_bits is set. */
bool prefix_parse(const char *s, struct prefix *out, bool zero_host, bool *had_host_bits);
/* Format into buf (ADDR_STRLEN / PREFIX_STRLEN bytes); returns buf. */
const char *addr_str(const struct addr *a, char *buf);
const char *prefix_str(const struct prefix *p, char *buf);

bool addr_eq(const struct addr *x, const struct addr *y);
int addr_cmp(const struct addr *x, const struct addr *y);
int prefix_cmp(const struct prefix *x, const struct prefix *y);
/* Is a inside p (same family, first p->len bits equal)? */
bool prefix_contains(const struct prefix *p, const struct addr *a);
/* Bit i (0 = most significant) of an address. */
static inline unsigned addr_bit(const struct addr *a, unsigned i)
{
	return (a->b[i >> 3] >> (7 - (i & 7))) & 1;
}
void prefix_host(const struct addr *a, struct prefix *out);   /* a/32 or a/128 */
void prefix_mask(struct prefix *p);                          /* clear host bits */

/* sockaddr conversions (port in host order). */
void addr_from_sockaddr(const struct sockaddr *sa, struct addr *out, uint16_t *port);
socklen_t addr_to_sockaddr(const struct addr *a, uint16_t port, struct sockaddr_storage *out);

#endif
