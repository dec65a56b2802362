/* meshctl_dns.h — meshctl showhostkey / newhostkey: this node's key as an IPSECKEY record
 * for DNSSEC mode, and raw host keys in NSS for nodes without a certificate. */
#ifndef MESHD_MESHCTL_DNS_H
#define MESHD_MESHCTL_DNS_H

#include <stdbool.h>

/* argv[0] is "showhostkey" or "newhostkey"; json is meshctl's global --json. Returns the
 * exit status: 0 success, 1 failure (message on stderr), 2 usage. */
int meshctl_dns_command(int argc, char **argv, bool json);

#endif
