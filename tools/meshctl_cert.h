/* meshctl_cert.h — the offline certificate commands of meshctl: initnss, import, listcerts. */
#ifndef MESHD_MESHCTL_CERT_H
#define MESHD_MESHCTL_CERT_H

#include <stdbool.h>

/* argv[0] is the command name ("initnss", "import" or "listcerts"); json is meshctl's
 * global --json (listcerts also accepts its own). Returns the exit status: 0 success,
 * 1 failure (message on stderr), 2 usage. */
int meshctl_cert_command(int argc, char **argv, bool json);

#endif
