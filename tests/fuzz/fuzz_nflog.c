/* fuzz_nflog.c — the NFLOG parser of the inbound trigger (nft_log.c) on arbitrary bytes:
 * one datagram as the kernel sends it (one or more netlink messages). Seeds in
 * corpus/nflog/ are NFULNL_MSG_PACKET messages as nfnetlink_log builds them (IPv4 with
 * and without options, a fragment, IPv6, a multi-part batch ending in NLMSG_DONE) and
 * truncated or inconsistent variants; tests/unit/test_nft_log checks what they parse to. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nft_log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(const struct nft_log_pkt *p, void *arg)
{
	size_t *n = arg;
	/* what the parser promises: two addresses of one family, ports only for port
	 * protocols */
	if ((p->src.family != AF_INET && p->src.family != AF_INET6) ||
	    p->dst.family != p->src.family || (!p->ports && (p->sport || p->dport)))
		abort();
	(*n)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* an exact-size aligned copy (the daemon's receive buffer is aligned), so an overread
	 * is caught by ASan */
	uint8_t *buf = malloc(size ? size : 1);
	size_t seen = 0, bad = 0;
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (nft_log_parse(buf, size, check, &seen, &bad) != seen)
		abort();
	free(buf);
	return 0;
}
