/* json.h — a minimal JSON writer onto a FILE* (the control module's --json output). */
#ifndef MESHD_JSON_H
#define MESHD_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* Write s as a JSON string literal (with quotes), escaping what must be. */
void json_str(FILE *f, const char *s);
/* "key": — with a leading comma unless *first (which is then cleared). */
void json_key(FILE *f, bool *first, const char *key);
void json_kv_str(FILE *f, bool *first, const char *key, const char *v);
void json_kv_u64(FILE *f, bool *first, const char *key, uint64_t v);
void json_kv_bool(FILE *f, bool *first, const char *key, bool v);

#endif
