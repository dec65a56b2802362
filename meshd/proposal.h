/* proposal.h — IKE and ESP proposals: ike=/esp= strings to proposal lists, strict
 * selection as responder, checking the responder's choice as initiator, and text for the
 * logs that names both sides' lists (DESIGN.md 2.4). */
#ifndef MESHD_PROPOSAL_H
#define MESHD_PROPOSAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ike_pld.h"

/* One negotiated (or offered) suite. For ESP, dh is 0 unless PFS in CREATE_CHILD_SA. */
struct suite {
	uint16_t encr, encr_bits;     /* IKE ENCR id and key length */
	uint16_t prf;                 /* IKE only */
	uint16_t integ;               /* 0 (NONE) for AEAD */
	uint16_t dh;                  /* IKE: the KE group */
	bool esn;                     /* ESP only */
};

/* A configured proposal list, ready to emit as an SA payload. */
struct proposals {
	uint8_t proto;                /* IKE_PROTO_IKE or IKE_PROTO_ESP */
	struct ike_sa_pld sa;         /* with SPI fields empty (filled when emitting) */
	char err[512];                /* proposals_parse's *why points here */
};

/* Parse ike= (proto IKE) or esp= (proto ESP) strings; NULL = the DESIGN.md defaults:
 * IKE AES-GCM-16-256/128, AES-CBC-256/128 + HMAC-SHA2; PRF SHA2-512/256; DH X25519,
 * ECP-256, ECP-384, MODP-2048, MODP-3072. ESP AES-GCM-16-256/128, AES-CBC +
 * HMAC-SHA2-256-128/512-256; ESN yes+no. Returns 0 or -EINVAL with *why set. */
int proposals_parse(uint8_t proto, const char *spec, struct proposals *out, const char **why);
/* ESP: offer/accept ESN YES+NO (esn, the default after parsing; we prefer YES) or NO
 * only. No effect on IKE lists. */
void proposals_set_esn(struct proposals *p, bool esn);
/* Drop every DH transform (the Child SA of IKE_AUTH carries none, RFC 7296 §1.2). */
void proposals_strip_dh(struct proposals *p);
/* Add DH transform dh to every proposal that has none (CREATE_CHILD_SA with PFS: the IKE
 * SA's group, as Libreswan does when esp= names none). 0 or -E2BIG. */
int proposals_add_dh(struct proposals *p, uint16_t dh);
/* The first DH group of the list (the KE guess), or 0. */
uint16_t proposals_first_dh(const struct proposals *p);
/* Does the list allow this DH group? */
bool proposals_has_dh(const struct proposals *p, uint16_t dh);

/* Responder: choose from the peer's offer what our list allows (strict: nothing outside
 * it). ke_group is the group of the peer's KE payload (IKE only, 0 otherwise): the chosen
 * proposal must contain it, else *want_dh is set to our preferred group that the offer
 * contains (-> INVALID_KE_PAYLOAD). Returns 0 with *chosen and *num (the peer's proposal
 * number), -ENOENT for no overlap (NO_PROPOSAL_CHOSEN), -EAGAIN for INVALID_KE. */
int proposals_select(const struct proposals *ours, const struct ike_sa_pld *offer,
		     uint16_t ke_group, struct suite *chosen, uint8_t *num, uint16_t *want_dh);
/* Initiator: check that the responder's single-proposal answer is something we offered,
 * exactly one transform of each type. 0 or -EINVAL. */
int proposals_accept(const struct proposals *ours, const struct ike_sa_pld *answer,
		     struct suite *chosen);
/* The answer to emit as responder: one proposal holding exactly the chosen suite. */
void proposals_answer(const struct suite *chosen, uint8_t proto, uint8_t num,
		      struct ike_sa_pld *out);

/* Human text of a list or an offer, e.g.
 * "AES_GCM_16_256-PRF_HMAC_SHA2_512-X25519+ECP_256, AES_CBC_256-HMAC_SHA2_256_128-..."
 * for logs ("no proposal chosen: ours [...] theirs [...]"). Returns buf. */
const char *proposals_str(const struct ike_sa_pld *sa, uint8_t proto, char *buf, size_t n);
const char *suite_str(const struct suite *s, uint8_t proto, char *buf, size_t n);

#endif
