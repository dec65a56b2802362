/* fuzz_policyfile.c — group-file parser on arbitrary bytes, then the whole finishing
 * path (sort, duplicates, tries) and a few lookups over what was accepted. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag d = { 0 };
	struct policy_set *s = policy_new();
	if (!s)
		return 0;
	/* two groups of different classes, so cross-group duplicates are exercised too:
	 * the second half of the input goes to the second group */
	int g0 = policy_add_group(s, "private", "fuzz/private", GC_OE_DROP, 0);
	int g1 = policy_add_group(s, "clear", "fuzz/clear", GC_CLEAR, 1);
	if (g0 < 0 || g1 < 0)
		goto done;
	const char *text = (const char *)data;
	size_t half = size / 2;
	size_t n0 = policy_parse_buf(s, (unsigned)g0, "fuzz/private", text, half, &d);
	size_t n1 = policy_parse_buf(s, (unsigned)g1, "fuzz/clear", text + half, size - half, &d);
	if (n0 + n1 > s->n_entries)
		abort();

	struct addr host;
	memset(&host, 0, sizeof(host));
	host.family = AF_INET;
	host.b[0] = 10;
	host.b[3] = 1;
	struct host_addrs ha = { &host, 1 };
	if (policy_finish(s, &ha, true, &d) != 0)
		goto done;
	uint32_t next = 1;
	policy_assign_reqids(s, NULL, &next);

	/* every accepted entry classifies to something that contains it, and its own
	 * reqid finds it again */
	for (size_t i = 0; i < s->n_entries; i++) {
		const struct pol_entry *e = &s->entries[i];
		const struct pol_entry *c = policy_classify(s, &e->pfx.a, e->proto, e->lport,
							    e->rport);
		if (!c || !prefix_contains(&c->pfx, &e->pfx.a))
			abort();
		if (policy_by_reqid(s, e->reqid) != e)
			abort();
		(void)policy_classify_oe(s, &e->pfx.a);
		char buf[POL_ENTRY_STRLEN];
		policy_entry_str(e, buf);
	}
done:
	policy_free(s);
	return 0;
}
