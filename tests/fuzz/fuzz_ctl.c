/* fuzz_ctl.c — control-socket request framing and the response header parser. */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	char *argv[CTL_MAX_ARGS];
	int argc = ctl_parse_request(buf, size, argv);
	if (argc > 0) {
		/* what parses must rebuild to the same bytes */
		char out[CTL_MAX_REQUEST];
		int n = ctl_build_request(argc, argv, out, sizeof(out));
		if (n != (int)size || memcmp(out, data, size) != 0)
			abort();
	}
	size_t off;
	memcpy(buf, data, size);
	int st = ctl_parse_status(buf, size, &off);
	if (st >= 0 && off > size)
		abort();
	free(buf);
	return 0;
}
