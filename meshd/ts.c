/* ts.c — OE host-to-host traffic selectors: building, responder narrowing, the
 * initiator's check of the answer, conversion to a kernel selector (RFC 7296 §2.9,
 * §3.13; libreswan-oe.md §5.5). */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "ts.h"

#define PORT_ANY_S 0
#define PORT_ANY_E 65535

static bool is_opaque(const struct ike_ts *t)
{
	return t->sport == 65535 && t->eport == 0;
}

static bool ports_any(const struct ike_ts *t)
{
	return t->sport == PORT_ANY_S && t->eport == PORT_ANY_E;
}

static uint8_t ts_type(int family)
{
	return family == AF_INET6 ? IKE_TS_IPV6_ADDR_RANGE : IKE_TS_IPV4_ADDR_RANGE;
}

static bool type_ok(const struct ike_ts *t)
{
	int fam = t->type == IKE_TS_IPV4_ADDR_RANGE ? AF_INET :
		  t->type == IKE_TS_IPV6_ADDR_RANGE ? AF_INET6 : 0;
	return fam && t->start.family == fam && t->end.family == fam;
}

static bool range_has(const struct ike_ts *t, const struct addr *a)
{
	return type_ok(t) && a->family == t->start.family && addr_cmp(&t->start, a) <= 0 &&
	       addr_cmp(a, &t->end) <= 0;
}

static void host_ts(const struct ts_end *e, struct ike_ts *t)
{
	memset(t, 0, sizeof(*t));
	t->type = ts_type(e->addr.family);
	t->proto = e->proto;
	t->start = t->end = e->addr;
	t->sport = e->port ? e->port : PORT_ANY_S;
	t->eport = e->port ? e->port : PORT_ANY_E;
}

static bool end_ok(const struct ts_end *e)
{
	return e->addr.family == AF_INET || e->addr.family == AF_INET6;
}

int ts_build(const struct ts_end *local, const struct ts_end *peer,
	     struct ike_ts_list *tsi, struct ike_ts_list *tsr)
{
	if (!end_ok(local) || local->addr.family != peer->addr.family ||
	    local->proto != peer->proto)
		return -EINVAL;
	memset(tsi, 0, sizeof(*tsi));
	memset(tsr, 0, sizeof(*tsr));
	tsi->n = tsr->n = 1;
	host_ts(local, &tsi->ts[0]);
	host_ts(peer, &tsr->ts[0]);
	return 0;
}

bool ts_contains(const struct ike_ts *a, const struct ike_ts *b)
{
	if (!type_ok(a) || !type_ok(b) || a->type != b->type)
		return false;
	if (addr_cmp(&a->start, &b->start) > 0 || addr_cmp(&b->end, &a->end) > 0)
		return false;
	if (a->proto != 0 && a->proto != b->proto)
		return false;
	if (ports_any(a))
		return true;
	if (is_opaque(a) || is_opaque(b))
		return is_opaque(a) && is_opaque(b);
	return a->sport <= b->sport && b->eport <= a->eport && b->sport <= b->eport;
}

/* Narrow one received selector t to host e (allowed protocol e->proto, port e->port).
 * The protocol may still be 0 (any) if both allow any. */
static bool narrow_one(const struct ike_ts *t, const struct ts_end *e, struct ike_ts *out)
{
	uint16_t as = e->port ? e->port : PORT_ANY_S, ae = e->port ? e->port : PORT_ANY_E;
	if (!range_has(t, &e->addr))
		return false;
	if (e->proto && t->proto && e->proto != t->proto)
		return false;
	*out = *t;
	out->start = out->end = e->addr;
	out->proto = e->proto ? e->proto : t->proto;
	if (is_opaque(t)) {
		/* "ports not available" is acceptable only where we allow any port */
		return e->port == 0;
	}
	if (t->sport > t->eport)
		return false;
	out->sport = t->sport > as ? t->sport : as;
	out->eport = t->eport < ae ? t->eport : ae;
	if (out->sport > out->eport)
		return false;
	/* ports without a protocol mean nothing to the kernel */
	return out->proto != 0 || ports_any(out);
}

/* Both sides of one SA selector carry one protocol: align them (any -> the other). */
static bool align_proto(struct ts_pair *p)
{
	if (p->i.proto == p->r.proto)
		return true;
	if (p->i.proto && p->r.proto)
		return false;
	if (!p->i.proto) {
		if (!ports_any(&p->i))
			return false;
		p->i.proto = p->r.proto;
	} else {
		if (!ports_any(&p->r))
			return false;
		p->r.proto = p->i.proto;
	}
	return true;
}

/* Index order for a received list: with more than one selector the first may be the
 * packet selector (RFC 7296 §2.9), so try it last — it is the narrowest. */
static unsigned order(unsigned k, unsigned n)
{
	return n > 1 ? (k + 1) % n : k;
}

int ts_narrow(const struct ike_ts_list *tsi, const struct ike_ts_list *tsr,
	      const struct ts_end *peer, const struct ts_end *local, struct ts_pair *out)
{
	unsigned ni = tsi->n < IKE_MAX_TS ? tsi->n : IKE_MAX_TS;
	unsigned nr = tsr->n < IKE_MAX_TS ? tsr->n : IKE_MAX_TS;
	if (!end_ok(peer) || peer->addr.family != local->addr.family)
		return -EINVAL;
	for (unsigned a = 0; a < ni; a++)
		for (unsigned b = 0; b < nr; b++) {
			struct ts_pair p;
			if (!narrow_one(&tsi->ts[order(a, ni)], peer, &p.i) ||
			    !narrow_one(&tsr->ts[order(b, nr)], local, &p.r) || !align_proto(&p))
				continue;
			*out = p;
			return 0;
		}
	return -ENOENT;
}

void ts_answer(const struct ts_pair *p, struct ike_ts_list *tsi, struct ike_ts_list *tsr)
{
	memset(tsi, 0, sizeof(*tsi));
	memset(tsr, 0, sizeof(*tsr));
	tsi->n = tsr->n = 1;
	tsi->ts[0] = p->i;
	tsr->ts[0] = p->r;
}

static bool within(const struct ike_ts_list *sent, const struct ike_ts *t)
{
	for (unsigned k = 0; k < sent->n && k < IKE_MAX_TS; k++)
		if (ts_contains(&sent->ts[k], t))
			return true;
	return false;
}

int ts_check_answer(const struct ike_ts_list *sent_i, const struct ike_ts_list *sent_r,
		    const struct ike_ts_list *ans_i, const struct ike_ts_list *ans_r,
		    const struct addr *local, const struct addr *peer, struct ts_pair *out)
{
	if (ans_i->n != 1 || ans_r->n != 1)
		return -EINVAL;
	if (!within(sent_i, &ans_i->ts[0]) || !within(sent_r, &ans_r->ts[0]))
		return -EINVAL;
	if (!range_has(&ans_i->ts[0], local) || !range_has(&ans_r->ts[0], peer))
		return -EINVAL;
	out->i = ans_i->ts[0];
	out->r = ans_r->ts[0];
	return 0;
}

/* An address range as one prefix, or false. */
static bool range_prefix(const struct ike_ts *t, struct prefix *out)
{
	unsigned bits = addr_bits(t->start.family);
	for (unsigned len = 0; len <= bits; len++) {
		struct prefix p = { .a = t->start, .len = (uint8_t)len };
		struct addr last = t->start;
		prefix_mask(&p);
		if (!addr_eq(&p.a, &t->start))
			continue;
		for (unsigned b = len; b < bits; b++)
			last.b[b >> 3] |= (uint8_t)(0x80 >> (b & 7));
		if (addr_eq(&last, &t->end)) {
			*out = p;
			return true;
		}
	}
	return false;
}

/* One port of a ksel: 0 = any. */
static bool one_port(const struct ike_ts *t, uint16_t *port, bool *specific)
{
	*specific = false;
	*port = 0;
	if (is_opaque(t) || ports_any(t))
		return true;
	if (t->sport != t->eport)
		return false;
	*port = t->sport;
	*specific = true;
	return true;
}

int ts_to_ksel(const struct ts_pair *p, bool we_initiated, struct ksel *out)
{
	const struct ike_ts *src = we_initiated ? &p->i : &p->r;
	const struct ike_ts *dst = we_initiated ? &p->r : &p->i;
	bool ss, ds;
	memset(out, 0, sizeof(*out));
	if (!type_ok(src) || src->type != dst->type || !type_ok(dst))
		return -EINVAL;
	if (!range_prefix(src, &out->src) || !range_prefix(dst, &out->dst))
		return -EINVAL;
	if (src->proto && dst->proto && src->proto != dst->proto)
		return -EINVAL;
	out->proto = src->proto ? src->proto : dst->proto;
	if (!one_port(src, &out->sport, &ss) || !one_port(dst, &out->dport, &ds))
		return -EINVAL;
	if (out->proto == 0 && (ss || ds))
		return -EINVAL;
	if (out->proto == IPPROTO_ICMP || out->proto == IPPROTO_ICMPV6) {
		/* RFC 7296 §3.13.1: type << 8 | code; XFRM: sport = type, dport = code. */
		uint16_t v = ds ? out->dport : out->sport;
		if (ss && ds && out->sport != out->dport)
			return -EINVAL;
		out->sport = (ss || ds) ? v >> 8 : 0;
		out->dport = (ss || ds) ? v & 0xff : 0;
	}
	return 0;
}

const char *ts_str(const struct ike_ts *t, char *buf)
{
	char a[ADDR_STRLEN], b[ADDR_STRLEN];
	if (!type_ok(t)) {
		snprintf(buf, TS_STRLEN, "(TS type %u)", t->type);
		return buf;
	}
	addr_str(&t->start, a);
	addr_str(&t->end, b);
	if (is_opaque(t))
		snprintf(buf, TS_STRLEN, "%s-%s:%u/OPAQUE", a, b, t->proto);
	else
		snprintf(buf, TS_STRLEN, "%s-%s:%u/%u-%u", a, b, t->proto, t->sport, t->eport);
	return buf;
}
