/* x_info.c — INFORMATIONAL (RFC 7296 §1.4, §3.11): Delete of the IKE SA or of Child SAs,
 * and liveness checks (an empty request).
 *
 *   HDR, SK {D(IKE)}                 -->   <-- HDR, SK {}
 *   HDR, SK {D(ESP, SPI...)}         -->   <-- HDR, SK {D(ESP, our SPIs)}
 *   HDR, SK {}                       -->   <-- HDR, SK {}
 *   (we send the empty request with dpddelay=: ike_live.c)
 *
 * Deleting removes the Child SAs' kernel state at once (the group's trap shows through
 * again, so the next packet negotiates anew); the IKE SA waits for the answer in
 * DELETING and is freed then (or when the retransmits run out). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ctx.h"
#include "exchange.h"
#include "ike_emit.h"

static bool deletes_ike(const struct ike_digest *d)
{
	for (unsigned i = 0; i < d->n_del; i++)
		if (d->del[i].proto == IKE_PROTO_IKE)
			return true;
	return false;
}

static bool deletes_child_only(const struct ike_digest *d)
{
	return d->n_del > 0 && !deletes_ike(d);
}

static int answer(struct xctx *x, const struct ike_delete *del)
{
	struct msg_out m;
	struct buf out = { 0 };
	int r = msg_start(x->sa, &m, IKE_XCHG_INFORMATIONAL, true, x->d->hdr.msgid, true);
	if (r == 0 && del)
		ike_emit_delete(&m.e, del);
	if (r < 0 || (r = msg_seal(x->sa, &m, &out)) < 0) {
		msg_abort(&m);
		return r;
	}
	return msg_send_response(x->ike, x->sa, &out, x->d->msg, x->d->msg_len);
}

/* HDR, SK {D(IKE)} --> */
static enum verdict initiate_delete(struct xctx *x)
{
	struct ike_sa *sa = x->sa;
	struct msg_out m;
	struct buf out = { 0 };
	child_remove_all(x->ike, sa->serial);
	struct ike_delete del = { .proto = IKE_PROTO_IKE };
	int r = msg_start(sa, &m, IKE_XCHG_INFORMATIONAL, false, sa->msgid_next, true);
	if (r == 0)
		ike_emit_delete(&m.e, &del);
	if (r < 0 || msg_seal(sa, &m, &out) < 0) {
		msg_abort(&m);
		x_why(x, "cannot build the Delete");
		return V_FAIL;
	}
	sa_log(x->ike, sa, LOG_LVL_INFO, "deleting IKE SA #%u and its Child SAs", sa->serial);
	msg_send_request(x->ike, sa, &out);
	return V_OK;
}

/* <-- HDR, SK {...}: the answer to our Delete */
static enum verdict delete_done(struct xctx *x)
{
	return V_OK;
}

/* HDR, SK {D(IKE)} -->  <-- HDR, SK {} */
static enum verdict peer_deletes_ike(struct xctx *x)
{
	sa_log(x->ike, x->sa, LOG_LVL_INFO, "peer deleted IKE SA #%u", x->sa->serial);
	child_remove_all(x->ike, x->sa->serial);
	if (answer(x, NULL) < 0)
		return V_BUG;
	return V_OK;
}

/* HDR, SK {D(ESP, SPI...)} -->  <-- HDR, SK {D(ESP, our SPIs)} */
static enum verdict peer_deletes_child(struct xctx *x)
{
	const struct ike_digest *d = x->d;
	uint8_t spis[4 * IKE_MAX_DELETES];
	uint16_t n = 0;
	for (unsigned i = 0; i < d->n_del; i++) {
		const struct ike_delete *del = &d->del[i];
		if (del->proto != IKE_PROTO_ESP || del->spi_size != 4)
			continue;
		for (unsigned j = 0; j < del->n_spi; j++) {
			const uint8_t *p = del->spis.p + 4 * j;
			uint32_t spi = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
				       (uint32_t)p[2] << 8 | p[3];
			struct child_sa *c;
			for (c = sa_child_peer_next(x->ike->sas, &x->sa->peer, 0); c;
			     c = sa_child_peer_next(x->ike->sas, &x->sa->peer, c->serial)) {
				if (c->ike_serial != x->sa->serial || c->spi_out != spi)
					continue;
				if (n < IKE_MAX_DELETES) {
					memcpy(spis + 4 * n, (uint8_t[4]){ (uint8_t)(c->spi_in >> 24),
						(uint8_t)(c->spi_in >> 16), (uint8_t)(c->spi_in >> 8),
						(uint8_t)c->spi_in }, 4);
					n++;
				}
				sa_log(x->ike, x->sa, LOG_LVL_INFO, "peer deleted Child SA #%u",
				       c->serial);
				child_uninstall(x->ike, c);
				sa_child_free(x->ike->sas, c);
				break;
			}
		}
	}
	struct ike_delete ours = { .proto = IKE_PROTO_ESP, .spi_size = 4, .n_spi = n,
				   .spis = { spis, 4u * n } };
	if (answer(x, n ? &ours : NULL) < 0)
		return V_BUG;
	return V_OK;
}

/* <-- HDR, SK {[D(ESP)]}: the answer to our Delete of a Child SA (ike_rekey.c) or to our
 * liveness check (ike_live.c; one request is outstanding at a time) */
static enum verdict child_delete_done(struct xctx *x)
{
	x->sa->dpd_seq = 0;
	rekey_delete_answered(x->ike, x->sa);
	return V_OK;
}

/* HDR, SK {} -->  <-- HDR, SK {} (liveness) */
static enum verdict liveness(struct xctx *x)
{
	return answer(x, NULL) < 0 ? V_BUG : V_OK;
}

static const struct ike_transition rows[] = {
	/* HDR, SK {D(IKE)} --> */
	{ .story = "delete IKE SA", .from = IKES_BIT(IKES_ESTABLISHED),
	  .xchg = IKE_XCHG_INFORMATIONAL, .role = ROLE_INITIATE, .to = IKES_DELETING,
	  .handler = initiate_delete },
	/* <-- HDR, SK {[D]} */
	{ .story = "IKE SA deleted", .from = IKES_BIT(IKES_DELETING),
	  .xchg = IKE_XCHG_INFORMATIONAL, .role = ROLE_RESPONSE, .req = PL(SK),
	  .sk_opt = PL(DELETE), .to = IKES_DEAD, .handler = delete_done },
	/* HDR, SK {D(IKE)} --> */
	{ .story = "peer deletes the IKE SA", .from = IKES_BIT(IKES_ESTABLISHED) | IKES_BIT(IKES_DELETING),
	  .xchg = IKE_XCHG_INFORMATIONAL, .role = ROLE_REQUEST, .req = PL(SK),
	  .sk_req = PL(DELETE), .when = deletes_ike, .to = IKES_DEAD,
	  .handler = peer_deletes_ike },
	/* HDR, SK {D(ESP)} --> */
	{ .story = "peer deletes Child SAs", .from = IKES_BIT(IKES_ESTABLISHED),
	  .xchg = IKE_XCHG_INFORMATIONAL, .role = ROLE_REQUEST, .req = PL(SK),
	  .sk_req = PL(DELETE), .when = deletes_child_only, .to = IKES_ESTABLISHED,
	  .handler = peer_deletes_child },
	/* <-- HDR, SK {[D(ESP)]} */
	{ .story = "Child SA Delete or liveness check answered", .from = IKES_BIT(IKES_ESTABLISHED),
	  .xchg = IKE_XCHG_INFORMATIONAL, .role = ROLE_RESPONSE, .req = PL(SK),
	  .sk_opt = PL(DELETE), .to = IKES_ESTABLISHED, .handler = child_delete_done },
	/* HDR, SK {} --> */
	{ .story = "answer a liveness check", .from = IKES_BIT(IKES_ESTABLISHED),
	  .xchg = IKE_XCHG_INFORMATIONAL, .role = ROLE_REQUEST, .req = PL(SK),
	  .to = IKES_ESTABLISHED, .handler = liveness },
};

const struct ike_exchange xchg_info = { "INFORMATIONAL", rows, ARRAY_LEN(rows) };
