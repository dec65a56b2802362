/* ike_rekey.c — lifetimes of established SAs: when Child SAs and IKE SAs are rekeyed
 * (x_create.c does the exchange), when they expire, the kernel's EXPIRE messages, and the
 * idle rule of opportunistic IPsec (libreswan-oe.md §5.2, DESIGN.md §2.4).
 *
 * Timing (RFC 7296 §2.8; Libreswan's rule): an SA of lifetime L (salifetime= for Child
 * SAs, ikelifetime= for IKE SAs) is rekeyed at L - margin', where the side that
 * initiated the exchange that made it takes margin' = rekeymargin × (100 + rand(0..
 * rekeyfuzz)) / 100 and the other side rekeymargin / 2, so the initiator normally goes
 * first and the two rarely collide (x_create.c sorts out those that do). At L it is
 * gone: the kernel removes an ESP SA at its hard lifetime, and our expiry timer deletes
 * what is left. The kernel's soft lifetime of an ESP SA is our rekey moment, so its soft
 * EXPIRE and our timer start the same, single rekey, whichever comes first; a hard
 * EXPIRE is an expiry. rekey=no: no rekey, SAs just expire.
 *
 * Idle rule: at rekey time (Child or IKE SA), if the newest Child SA of the IKE SA has
 * received nothing for at least rekeymargin, the whole IKE SA is deleted instead of
 * rekeyed ("expire unused IKE SA #N"); the group's trap shows through again and the next
 * packet negotiates anew. "Received nothing" is read from the inbound SA's byte counter,
 * sampled rekeymargin before the rekey moment and at it (the kernel's use_time is the
 * time of first use only). */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ctx.h"
#include "exchange.h"
#include "ike_emit.h"
#include "oe.h"

#define RETRY_MS 1000

static uint64_t margin_ms(const struct ike_sa *sa, uint64_t life_ms)
{
	uint64_t m = (uint64_t)sa->conf.rekeymargin_s * 1000;
	return m < life_ms ? m : life_ms / 2;
}

static uint64_t rekey_after(const struct ike_sa *sa, uint64_t life_ms, bool initiator)
{
	uint64_t m = margin_ms(sa, life_ms);
	if (!sa->conf.rekey || !m)
		return 0;
	if (initiator) {
		uint32_t r = 0;
		if (crypto_random(&r, sizeof(r)) < 0)
			r = 0;
		m = m * (100 + r % (sa->conf.rekeyfuzz_pct + 1)) / 100;
	} else {
		m /= 2;
	}
	/* a fuzzed margin beyond the lifetime would rekey at once, over and over */
	if (m > life_ms * 9 / 10)
		m = life_ms * 9 / 10;
	return life_ms - m;
}

static uint64_t sa_life_ms(const struct ike_sa *sa)
{
	return (uint64_t)(sa->conf.salifetime_s ? sa->conf.salifetime_s : 28800) * 1000;
}

static uint64_t ike_life_ms(const struct ike_sa *sa)
{
	return (uint64_t)(sa->conf.ikelifetime_s ? sa->conf.ikelifetime_s : 28800) * 1000;
}

uint64_t rekey_child_after_ms(struct ike *ike, const struct ike_sa *sa, bool initiator)
{
	(void)ike;
	return rekey_after(sa, sa_life_ms(sa), initiator);
}

void rekey_child_arm(struct ike *ike, struct ike_sa *sa, struct child_sa *c)
{
	uint64_t life = sa_life_ms(sa), margin = (uint64_t)sa->conf.rekeymargin_s * 1000;
	rekey_child_disarm(ike, c);
	c->expire_timer = ike_timer_arm(ike, c->serial, T_CHILD_EXPIRE, life);
	if (!c->rekey_after_ms)
		return;
	c->rekey_timer = ike_timer_arm(ike, c->serial, T_CHILD_REKEY, c->rekey_after_ms);
	if (c->rekey_after_ms > margin)
		c->sample_timer = ike_timer_arm(ike, c->serial, T_CHILD_SAMPLE,
						c->rekey_after_ms - margin);
}

void rekey_child_disarm(struct ike *ike, struct child_sa *c)
{
	ike_timer_cancel(ike, &c->rekey_timer);
	ike_timer_cancel(ike, &c->expire_timer);
	ike_timer_cancel(ike, &c->sample_timer);
}

void rekey_ike_arm(struct ike *ike, struct ike_sa *sa)
{
	uint64_t life = ike_life_ms(sa), margin = (uint64_t)sa->conf.rekeymargin_s * 1000;
	uint64_t after = rekey_after(sa, life, sa->initiator);
	ike_timer_cancel(ike, &sa->expire_timer);
	ike_timer_cancel(ike, &sa->rekey_timer);
	ike_timer_cancel(ike, &sa->sample_timer);
	sa->expire_timer = ike_timer_arm(ike, sa->serial, T_IKE_EXPIRE, life);
	if (!after)
		return;
	sa->rekey_timer = ike_timer_arm(ike, sa->serial, T_IKE_REKEY, after);
	if (after > margin)
		sa->sample_timer = ike_timer_arm(ike, sa->serial, T_IKE_SAMPLE, after - margin);
}

void rekey_ike_disarm(struct ike *ike, struct ike_sa *sa)
{
	ike_timer_cancel(ike, &sa->rekey_timer);
	ike_timer_cancel(ike, &sa->sample_timer);
	x_create_forget(ike, sa);
}

void rekey_retry(struct ike *ike, uint32_t serial, bool ike_sa, uint64_t after_ms)
{
	if (ike_sa) {
		struct ike_sa *sa = sa_ike_by_serial(ike->sas, serial);
		if (sa) {
			ike_timer_cancel(ike, &sa->rekey_timer);
			sa->rekey_timer = ike_timer_arm(ike, serial, T_IKE_REKEY, after_ms);
		}
		return;
	}
	struct child_sa *c = sa_child_by_serial(ike->sas, serial);
	if (c) {
		ike_timer_cancel(ike, &c->rekey_timer);
		c->rekey_timer = ike_timer_arm(ike, serial, T_CHILD_REKEY, after_ms);
	}
}

/* ---- the idle rule ---- */

static void sample(struct ike *ike, struct child_sa *c)
{
	uint64_t b = child_in_bytes(ike, c);
	if (b != c->idle_bytes) {
		c->idle_bytes = b;
		c->idle_since_ms = ike_now_ms(ike);
	}
}

static struct child_sa *newest_child(struct ike *ike, const struct ike_sa *sa)
{
	struct child_sa *c, *best = NULL;
	for (size_t i = 0; (c = sa_child_at(ike->sas, i)); i++)
		if (c->ike_serial == sa->serial && !c->replaced_by && !c->deleting && c->sa_in)
			best = c;
	return best;
}

/* Delete sa (and its Child SAs) now: D(IKE) when established, else locally. */
static void delete_ike(struct ike *ike, struct ike_sa *sa, const char *why)
{
	if (sa->state == IKES_ESTABLISHED)
		(void)exchange_initiate(ike, sa, &xchg_info);
	else
		exchange_kill(ike, sa, why);
}

/* The idle rule; true when sa was deleted. */
static bool expire_if_idle(struct ike *ike, struct ike_sa *sa)
{
	uint64_t margin = (uint64_t)sa->conf.rekeymargin_s * 1000;
	struct child_sa *c = newest_child(ike, sa);
	if (!margin || !c)
		return false;
	sample(ike, c);
	uint64_t idle = ike_now_ms(ike) - c->idle_since_ms;
	if (idle < margin)
		return false;
	char ps[ADDR_STRLEN];
	sa_log(ike, sa, LOG_LVL_INFO, "expire unused IKE SA #%u: Child SA #%u received nothing "
	       "for %" PRIu64 " s (rekeymargin %u s); the next packet negotiates again",
	       sa->serial, c->serial, idle / 1000, sa->conf.rekeymargin_s);
	oe_note(ike->ctx, &sa->peer, "IKE SA #%u with %s expired unused: nothing received for "
		"%" PRIu64 " s", sa->serial, addr_str(&sa->peer, ps), idle / 1000);
	delete_ike(ike, sa, "expired unused");
	return true;
}

/* ---- rekey and expiry ---- */

static void child_rekey_due(struct ike *ike, struct child_sa *c, const char *what)
{
	if (c->replaced_by || c->deleting)
		return;
	struct ike_sa *sa = sa_ike_by_serial(ike->sas, c->ike_serial);
	if (!sa)
		return;
	if (sa->rk) {
		/* an exchange of ours is under way; a rekey of c itself is not repeated */
		if (!x_create_rekeying(sa, c->serial))
			rekey_retry(ike, c->serial, false, RETRY_MS);
		return;
	}
	if (sa->state != IKES_ESTABLISHED || !sa->conf.rekey || expire_if_idle(ike, sa))
		return;
	sa_log(ike, sa, LOG_LVL_DEBUG, "Child SA #%u: %s", c->serial, what);
	int r = x_create_rekey_child(ike, sa, c);
	if (r == -EBUSY)
		rekey_retry(ike, c->serial, false, RETRY_MS);
}

static size_t current_children(struct ike *ike, const struct ike_sa *sa,
			       const struct child_sa *except)
{
	struct child_sa *c;
	size_t n = 0;
	for (size_t i = 0; (c = sa_child_at(ike->sas, i)); i++)
		n += c != except && c->ike_serial == sa->serial && !c->replaced_by && !c->deleting;
	return n;
}

/* c reached the end of its lifetime (our timer, or the kernel's hard EXPIRE). One that
 * was replaced just goes; the current one takes its IKE SA along when it was the last
 * (an OE IKE SA has no other use). */
static void child_expired(struct ike *ike, struct child_sa *c, const char *what)
{
	struct ike_sa *sa = sa_ike_by_serial(ike->sas, c->ike_serial);
	if (!sa || c->replaced_by || c->deleting || current_children(ike, sa, c)) {
		if (sa)
			sa_log(ike, sa, LOG_LVL_INFO, "Child SA #%u expired (%s)", c->serial, what);
		if (sa && sa->state == IKES_ESTABLISHED && !sa->req_out && !c->deleting &&
		    rekey_delete_child(ike, sa, c) == 0)
			return;
		child_uninstall(ike, c);
		sa_child_free(ike->sas, c);
		return;
	}
	sa_log(ike, sa, LOG_LVL_INFO, "Child SA #%u expired (%s): deleting IKE SA #%u",
	       c->serial, what, sa->serial);
	delete_ike(ike, sa, "Child SA expired");
}

static void ike_rekey_due(struct ike *ike, struct ike_sa *sa)
{
	if (sa->replaced_by || sa->state != IKES_ESTABLISHED || !sa->conf.rekey)
		return;
	if (expire_if_idle(ike, sa))
		return;
	if (sa->rk || sa->req_out || sa->del_seq) {
		rekey_retry(ike, sa->serial, true, RETRY_MS);
		return;
	}
	if (x_create_rekey_ike(ike, sa) == -EBUSY)
		rekey_retry(ike, sa->serial, true, RETRY_MS);
}

void rekey_timer(struct ike *ike, uint32_t serial, enum ike_timer kind)
{
	struct child_sa *c = NULL;
	struct ike_sa *sa = NULL;
	if (kind == T_IKE_REKEY || kind == T_IKE_SAMPLE) {
		if (!(sa = sa_ike_by_serial(ike->sas, serial)))
			return;
	} else if (!(c = sa_child_by_serial(ike->sas, serial))) {
		return;
	}
	switch (kind) {
	case T_IKE_REKEY:
		sa->rekey_timer = 0;
		ike_rekey_due(ike, sa);
		break;
	case T_IKE_SAMPLE:
		sa->sample_timer = 0;
		for (size_t i = 0; (c = sa_child_at(ike->sas, i)); i++)
			if (c->ike_serial == sa->serial)
				sample(ike, c);
		break;
	case T_CHILD_REKEY:
		c->rekey_timer = 0;
		child_rekey_due(ike, c, "rekey time");
		break;
	case T_CHILD_EXPIRE:
		c->expire_timer = 0;
		child_expired(ike, c, "salifetime reached");
		break;
	case T_CHILD_SAMPLE:
		c->sample_timer = 0;
		sample(ike, c);
		break;
	default:
		break;
	}
}

void ike_expire(struct ike *ike, const struct kexpire *exp)
{
	struct child_sa *c;
	if (exp->proto != IKE_PROTO_ESP)
		return;
	for (size_t i = 0; (c = sa_child_at(ike->sas, i)); i++) {
		bool in = c->spi_in == exp->spi && addr_eq(&c->local, &exp->dst);
		bool out = c->spi_out == exp->spi && addr_eq(&c->peer, &exp->dst);
		if (!in && !out)
			continue;
		if (!exp->hard) {
			child_rekey_due(ike, c, "kernel soft EXPIRE");
			return;
		}
		/* the kernel removed that SA already */
		if (in)
			c->sa_in = false;
		else
			c->sa_out = false;
		child_expired(ike, c, "kernel hard EXPIRE");
		return;
	}
}

/* ---- deleting a Child SA: HDR, SK {D(ESP, SPI)} -->  <-- HDR, SK {[D(ESP, SPI)]} ---- */

int rekey_delete_child(struct ike *ike, struct ike_sa *sa, struct child_sa *c)
{
	struct msg_out m;
	struct buf out = { 0 };
	uint8_t spi[4] = { (uint8_t)(c->spi_in >> 24), (uint8_t)(c->spi_in >> 16),
			   (uint8_t)(c->spi_in >> 8), (uint8_t)c->spi_in };
	struct ike_delete del = { .proto = IKE_PROTO_ESP, .spi_size = 4, .n_spi = 1,
				  .spis = { spi, 4 } };
	if (sa->req_out || sa->del_seq)
		return -EBUSY;
	int r = msg_start(sa, &m, IKE_XCHG_INFORMATIONAL, false, sa->msgid_next, true);
	if (r == 0)
		r = ike_emit_delete(&m.e, &del);
	if (r < 0 || (r = msg_seal(sa, &m, &out)) < 0) {
		msg_abort(&m);
		return r;
	}
	sa_log(ike, sa, LOG_LVL_INFO, "deleting Child SA #%u {0x%08x}%s", c->serial, c->spi_in,
	       c->replaced_by ? " (rekeyed)" : "");
	c->deleting = true;
	ike_timer_cancel(ike, &c->rekey_timer);
	/* it sends no more: the next newest outbound SA of the reqid takes over */
	if (c->sa_out) {
		struct kernel *k = &ike->ctx->kern;
		(void)k->ops->sa_del(k, &c->peer, c->spi_out);
		c->sa_out = false;
	}
	msg_send_request(ike, sa, &out);
	sa->del_seq = sa->req_seq;
	return 0;
}

void rekey_delete_answered(struct ike *ike, struct ike_sa *sa)
{
	if (!sa->del_seq || sa->del_seq != sa->req_seq)
		return;
	sa->del_seq = 0;
	struct child_sa *c;
	for (size_t i = 0; (c = sa_child_at(ike->sas, i));) {
		if (c->ike_serial != sa->serial || !c->deleting) {
			i++;
			continue;
		}
		child_uninstall(ike, c);
		sa_child_free(ike->sas, c);
	}
}
