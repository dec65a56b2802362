/* fuzz_proposal.c — an SA payload body → ike_pld (as a one-payload chain) →
 * proposals_select against the default IKE and ESP lists, with the KE group taken from
 * the first input byte. Checks: never crashes; a chosen suite is in both lists (our list
 * accepts the single-proposal answer built from it, and it is a transform set of the
 * peer's proposal it names); INVALID_KE suggests a group we allow. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ike_pld.h"
#include "proposal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool has(const struct ike_proposal *pr, uint8_t type, uint16_t id, uint16_t kl)
{
	for (unsigned i = 0; i < pr->n_xf; i++)
		if (pr->xf[i].type == type && pr->xf[i].id == id && pr->xf[i].key_len == kl)
			return true;
	return false;
}

static bool in_prop(const struct ike_proposal *pp, uint8_t proto, const struct suite *s,
		    uint16_t ke)
{
	if (pp->proto != proto || !has(pp, IKE_XF_ENCR, s->encr, s->encr_bits))
		return false;
	if (proto == IKE_PROTO_IKE && (!has(pp, IKE_XF_PRF, s->prf, 0) ||
				       !has(pp, IKE_XF_DH, s->dh, 0) || (ke && s->dh != ke)))
		return false;
	if (s->integ && !has(pp, IKE_XF_INTEG, s->integ, 0))
		return false;
	return proto != IKE_PROTO_ESP ||
	       has(pp, IKE_XF_ESN, s->esn ? IKE_ESN_YES : IKE_ESN_NO, 0);
}

static bool in_offer(const struct ike_sa_pld *offer, uint8_t num, uint8_t proto,
		     const struct suite *s, uint16_t ke)
{
	for (unsigned i = 0; i < offer->n_prop; i++)
		if (offer->prop[i].num == num && in_prop(&offer->prop[i], proto, s, ke))
			return true;
	return false;
}

static void check(const struct proposals *ours, const struct ike_sa_pld *offer, uint16_t ke)
{
	struct suite s, back;
	uint8_t num = 0;
	uint16_t want = 0;
	struct ike_sa_pld ans;
	int r = proposals_select(ours, offer, ke, &s, &num, &want);
	char buf[256];
	(void)proposals_str(offer, ours->proto, buf, sizeof(buf));
	if (r == -EAGAIN) {
		if (!proposals_has_dh(ours, want) || want == ke)
			abort();
		return;
	}
	if (r == -ENOENT)
		return;
	if (r != 0)
		abort();
	(void)suite_str(&s, ours->proto, buf, sizeof(buf));
	/* in our list */
	proposals_answer(&s, ours->proto, num, &ans);
	/* ... and in a peer's proposal numbered num (numbers may repeat in bad input) */
	if (!in_offer(offer, num, ours->proto, &s, ke))
		abort();
	/* the defaults list each cipher once, so the answer maps back to one of ours */
	for (unsigned j = 0; j < ours->sa.n_prop; j++) {
		ans.prop[0].num = ours->sa.prop[j].num;
		if (proposals_accept(ours, &ans, &back) == 0 && memcmp(&back, &s, sizeof(s)) == 0)
			return;
	}
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ike_digest d;
	static uint8_t buf[4 + 65535];
	struct proposals ike, esp;
	uint16_t ke;
	if (size < 1 || size - 1 > 65535 - 4)
		return 0;
	ke = data[0] & 0x3f;   /* KE group 0..63 */
	buf[0] = 0;            /* no next payload */
	buf[1] = 0;
	buf[2] = (uint8_t)((size - 1 + 4) >> 8);
	buf[3] = (uint8_t)(size - 1 + 4);
	memcpy(buf + 4, data + 1, size - 1);
	memset(&d, 0, sizeof(d));
	if (ike_pld_parse_inner(&d, IKE_PL_SA, buf, size - 1 + 4) != 0)
		return 0;
	if (proposals_parse(IKE_PROTO_IKE, NULL, &ike, NULL) != 0 ||
	    proposals_parse(IKE_PROTO_ESP, NULL, &esp, NULL) != 0)
		abort();
	check(&ike, &d.sa, ke);
	check(&esp, &d.sa, 0);
	return 0;
}
