/* fuzz_ts_narrow.c — input = two TS payload bodies (a 2-byte big-endian length of the
 * first, then the first, then the second) → ike_pld_parse_ts → ts_narrow against fixed
 * host pairs (IPv4 any, IPv4 TCP port 22, IPv6 any). Checks: never crashes; a narrowed
 * pair lies within some received selector, holds exactly the host pair, is accepted by
 * ts_check_answer as the initiator would, and converts to a ksel. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ts.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool within(const struct ike_ts_list *l, const struct ike_ts *t)
{
	for (unsigned k = 0; k < l->n; k++)
		if (ts_contains(&l->ts[k], t))
			return true;
	return false;
}

static void one(const struct ike_ts_list *i, const struct ike_ts_list *r, const char *pa,
		const char *la, uint8_t proto, uint16_t lport)
{
	struct ts_end peer = { .proto = proto }, us = { .proto = proto, .port = lport };
	struct ts_pair p, chk;
	struct ike_ts_list ai, ar;
	struct ksel k;
	char buf[TS_STRLEN];
	if (!addr_parse(pa, &peer.addr) || !addr_parse(la, &us.addr))
		abort();
	if (ts_narrow(i, r, &peer, &us, &p) != 0)
		return;
	(void)ts_str(&p.i, buf);
	if (!within(i, &p.i) || !within(r, &p.r))
		abort();
	if (!addr_eq(&p.i.start, &peer.addr) || !addr_eq(&p.i.end, &peer.addr) ||
	    !addr_eq(&p.r.start, &us.addr) || !addr_eq(&p.r.end, &us.addr))
		abort();
	if (p.i.proto != p.r.proto || (proto && p.i.proto != proto))
		abort();
	ts_answer(&p, &ai, &ar);
	if (ts_check_answer(i, r, &ai, &ar, &peer.addr, &us.addr, &chk) != 0)
		abort();
	/* host pair and a port that is any, one port or a range: ksel may refuse ranges */
	if (ts_to_ksel(&p, false, &k) == 0 && (k.src.len != addr_bits(us.addr.family) ||
					       k.dst.len != addr_bits(peer.addr.family)))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ike_ts_list i, r;
	size_t n1;
	if (size < 2)
		return 0;
	n1 = (size_t)data[0] << 8 | data[1];
	if (n1 > size - 2)
		return 0;
	if (ike_pld_parse_ts(&i, data + 2, n1) != 0 ||
	    ike_pld_parse_ts(&r, data + 2 + n1, size - 2 - n1) != 0)
		return 0;
	one(&i, &r, "192.0.2.1", "198.51.100.7", 0, 0);
	one(&i, &r, "192.0.2.1", "198.51.100.7", 6, 22);
	one(&i, &r, "2001:db8::1", "2001:db8:1::7", 0, 0);
	return 0;
}
