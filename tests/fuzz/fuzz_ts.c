/* fuzz_ts.c — a TSi/TSr payload body → struct ike_ts_list. Accepted lists must satisfy
 * the invariants the decoder promises (count bound, start <= end, families). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ike_pld.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ike_ts_list l;
	if (ike_pld_parse_ts(&l, data, size) != 0)
		return 0;
	if (l.n + l.n_unknown == 0 || l.n + l.n_unknown > IKE_MAX_TS)
		abort();
	for (unsigned i = 0; i < l.n; i++) {
		const struct ike_ts *t = &l.ts[i];
		size_t alen = t->type == IKE_TS_IPV4_ADDR_RANGE ? 4 : 16;
		int fam = alen == 4 ? AF_INET : AF_INET6;
		if (t->start.family != fam || t->end.family != fam ||
		    memcmp(t->start.b, t->end.b, alen) > 0)
			abort();
	}
	return 0;
}
