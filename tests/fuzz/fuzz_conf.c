/* fuzz_conf.c — meshd.conf parser on arbitrary bytes.
 *
 * The text is loaded under the name "<fuzz>": a name starting with '<' has no directory,
 * so conf_load_buf reports every include as an error instead of reading files (see
 * conf.h), and the fuzzer never touches the file system. A conf that loads is walked
 * through the model helpers so their reads are checked too. */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct diag d = { 0 };
	struct conf *c = conf_load_buf("<fuzz>", (const char *)data, size, &d);
	if (c) {
		for (size_t i = 0; i < c->n_conns; i++) {
			const struct conf_conn *cc = &c->conns[i];
			(void)group_class_name(conf_conn_class(cc));
			if (conf_find_conn(c, cc->name) != cc)
				__builtin_trap();
		}
		if (d.n_err)
			__builtin_trap();
	}
	conf_free(c);
	return 0;
}
