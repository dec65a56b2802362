/* fuzz_xfrm_expire.c — xfrm_parse_expire on arbitrary bytes: one netlink message (header
 * included) as the kernel multicasts it to XFRMNLGRP_EXPIRE. Seeds in corpus/xfrm_expire/
 * are hand-built soft and hard EXPIREs (IPv4, IPv6, with the XFRMA_MARK attribute the
 * kernel appends) plus truncated, length-lying and wrong-family variants. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "kernel_xfrm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so an overread is caught by ASan. */
	uint8_t *buf = malloc(size ? size : 1);
	struct kexpire exp;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (xfrm_parse_expire(buf, size, &exp) == 0) {
		/* what the parser promises on success: an IPv4 or IPv6 destination */
		if (exp.dst.family != AF_INET && exp.dst.family != AF_INET6)
			abort();
	}
	/* an EXPIRE is neither an ACQUIRE nor a policy, and vice versa: no crash either way */
	struct kacquire acq;
	struct kpolicy pol;
	(void)xfrm_parse_acquire(buf, size, &acq);
	(void)xfrm_parse_policy(buf, size, &pol);
	free(buf);
	return 0;
}
