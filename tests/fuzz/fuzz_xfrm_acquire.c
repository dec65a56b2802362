/* fuzz_xfrm_acquire.c — the XFRM event parsers on arbitrary bytes: one netlink message
 * (header included) as the kernel multicasts it. Seeds in corpus/xfrm_acquire/ are real
 * ACQUIREs captured by tests/netlink/test_xfrm plus truncated and corrupted variants. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "kernel_xfrm.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size aligned copy (the daemon's receive buffer is aligned), so an overread
	 * is caught by ASan. */
	uint8_t *buf = malloc(size ? size : 1);
	struct kacquire acq;
	struct kpolicy pol;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	if (xfrm_parse_acquire(buf, size, &acq) == 0) {
		/* what the parser promises on success: host selectors of one family */
		if (acq.sel.src.a.family != acq.sel.dst.a.family ||
		    acq.sel.src.len != addr_bits(acq.sel.src.a.family) ||
		    acq.sel.dst.len != acq.sel.src.len)
			abort();
	}
	if (xfrm_parse_policy(buf, size, &pol) == 0 &&
	    (pol.sel.src.len > addr_bits(pol.sel.src.a.family) || (unsigned)pol.dir > KDIR_FWD))
		abort();
	free(buf);
	return 0;
}
