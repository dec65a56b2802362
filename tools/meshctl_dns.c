/* meshctl_dns.c — the DNSSEC-mode commands of meshctl (Libreswan's `ipsec showhostkey
 * --ipseckey` and `ipsec newhostkey`), without the daemon:
 *
 *   meshctl showhostkey --ipseckey [--reverse ADDR | --owner NAME] [--gateway ADDR]
 *                       [--precedence N] [--nssdir DIR] [--nickname NAME] [--json]
 *   meshctl newhostkey [--rsa BITS | --ecdsa] [--nssdir DIR] [--nickname NAME]
 *
 * showhostkey prints one zone-file line for the key of the certificate (or raw key) named
 * --nickname (default "node"): RSA as algorithm 2 (RFC 3110), ECDSA P-256/P-384 as 3. The
 * owner is the reverse name of --reverse, or --owner, or (like Libreswan) this host's name. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cert_hostkey.h"
#include "conf.h"
#include "ipseckey.h"
#include "log.h"
#include "meshctl_dns.h"

enum { DNS_EXIT_OK = 0, DNS_EXIT_FAIL = 1, DNS_EXIT_USAGE = 2 };

static int usage(void)
{
	fprintf(stderr,
		"usage: meshctl showhostkey --ipseckey [--reverse ADDR | --owner NAME] "
		"[--gateway ADDR]\n"
		"                           [--precedence N] [--nssdir DIR] [--nickname NAME] "
		"[--json]\n"
		"       meshctl newhostkey [--rsa BITS | --ecdsa] [--nssdir DIR] [--nickname NAME]\n"
		"(default DIR %s, NAME node; newhostkey default --rsa 3072)\n",
		CONF_DEFAULT_NSSDIR);
	return DNS_EXIT_USAGE;
}

static const char *errtext(int r)
{
	switch (r) {
	case -EBUSY: return "NSS is already initialised in this process";
	case -ENOENT: return "no such certificate or key, or no NSS database there";
	case -EACCES: return "the NSS database has a password (meshd needs an empty one)";
	case -EEXIST: return "that nickname is taken";
	default: return strerror(-r);
	}
}

static int owner_name(const char *reverse, const char *owner, char *out, size_t cap)
{
	char host[256];
	struct addr a;

	if (reverse != NULL) {
		if (!addr_parse(reverse, &a))
			return -EINVAL;
		return ipseckey_reverse_name(&a, out, cap);
	}
	if (owner == NULL) {
		if (gethostname(host, sizeof(host) - 1) != 0)
			return -errno;
		host[sizeof(host) - 1] = '\0';
		owner = host;
	}
	return ipseckey_fqdn_name(owner, out, cap);
}

static int showhostkey(int argc, char **argv, bool json, struct log *log)
{
	const char *nssdir = CONF_DEFAULT_NSSDIR, *nick = "node", *reverse = NULL, *owner = NULL;
	char name[IPSECKEY_NAME_MAX];
	struct addr gw = { 0 };
	unsigned long prec = 10;
	bool ipseckey = false;
	struct buf spki, key, line;
	uint8_t alg;
	int r;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		char *end;
		if (strcmp(a, "--ipseckey") == 0) {
			ipseckey = true;
			continue;
		}
		if (strcmp(a, "--json") == 0) {
			json = true;
			continue;
		}
		if (v == NULL)
			return usage();
		i++;
		if (strcmp(a, "--reverse") == 0)
			reverse = v;
		else if (strcmp(a, "--owner") == 0)
			owner = v;
		else if (strcmp(a, "--nssdir") == 0)
			nssdir = v;
		else if (strcmp(a, "--nickname") == 0)
			nick = v;
		else if (strcmp(a, "--gateway") == 0) {
			if (!addr_parse(v, &gw))
				return usage();
		} else if (strcmp(a, "--precedence") == 0) {
			prec = strtoul(v, &end, 10);
			if (*v == '\0' || *end != '\0' || prec > 255)
				return usage();
		} else {
			return usage();
		}
	}
	if (!ipseckey || (reverse != NULL && owner != NULL))
		return usage();
	if (owner_name(reverse, owner, name, sizeof(name)) != 0) {
		fprintf(stderr, "meshctl showhostkey: not a usable owner name\n");
		return DNS_EXIT_USAGE;
	}
	r = cert_hostkey_spki(nssdir, nick, &spki, log);
	if (r != 0) {
		fprintf(stderr, "meshctl showhostkey: %s: %s\n", nick, errtext(r));
		return DNS_EXIT_FAIL;
	}
	r = ipseckey_from_spki(spki.p, spki.len, &alg, &key);
	buf_free(&spki);
	if (r != 0) {
		fprintf(stderr, "meshctl showhostkey: %s: the key cannot be published in an "
			"IPSECKEY record (RSA, ECDSA P-256/P-384 or EdDSA)\n", nick);
		return DNS_EXIT_FAIL;
	}
	r = ipseckey_record_str(name, (uint8_t)prec, &gw, alg, key.p, key.len, &line);
	buf_free(&key);
	if (r != 0)
		return DNS_EXIT_FAIL;
	if (json) {
		/* every field is plain: a checked name, numbers, an address, base64 */
		char *l = (char *)line.p;
		l[line.len - 1] = '\0';                   /* no newline in JSON */
		char ownerf[IPSECKEY_NAME_MAX], gws[ADDR_STRLEN], b64[16384];
		unsigned p, gt, al;
		if (sscanf(l, "%1023s IN IPSECKEY %u %u %u %45s %16383s", ownerf, &p, &gt, &al, gws,
			   b64) != 6) {
			buf_free(&line);
			return DNS_EXIT_FAIL;
		}
		printf("{\"owner\":\"%s\",\"precedence\":%u,\"gateway_type\":%u,\"algorithm\":%u,"
		       "\"gateway\":\"%s\",\"key\":\"%s\",\"record\":\"%s\"}\n", ownerf, p, gt, al,
		       gws, b64, l);
	} else {
		fputs((char *)line.p, stdout);
	}
	buf_free(&line);
	return DNS_EXIT_OK;
}

static int newhostkey(int argc, char **argv, struct log *log)
{
	const char *nssdir = CONF_DEFAULT_NSSDIR, *nick = "node";
	enum cert_key_type type = CERT_KEY_RSA;
	unsigned long bits = 3072;
	char *end;
	int r;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--ecdsa") == 0) {
			type = CERT_KEY_ECDSA;
			continue;
		}
		if (v == NULL)
			return usage();
		i++;
		if (strcmp(a, "--rsa") == 0) {
			type = CERT_KEY_RSA;
			bits = strtoul(v, &end, 10);
			if (*v == '\0' || *end != '\0' || bits < 2048 || bits > 8192)
				return usage();
		} else if (strcmp(a, "--nssdir") == 0) {
			nssdir = v;
		} else if (strcmp(a, "--nickname") == 0) {
			nick = v;
		} else {
			return usage();
		}
	}
	r = cert_hostkey_new(nssdir, nick, type, (unsigned)bits, NULL, log);
	if (r != 0) {
		fprintf(stderr, "meshctl newhostkey: %s: %s\n", nick, errtext(r));
		return DNS_EXIT_FAIL;
	}
	if (type == CERT_KEY_RSA)
		printf("generated an RSA %lu-bit key pair '%s' in %s\n", bits, nick, nssdir);
	else
		printf("generated an ECDSA P-256 key pair '%s' in %s\n", nick, nssdir);
	printf("publish it with: meshctl showhostkey --ipseckey --nickname %s --nssdir %s\n", nick,
	       nssdir);
	return DNS_EXIT_OK;
}

int meshctl_dns_command(int argc, char **argv, bool json)
{
	struct log log;
	int r;

	log_init(&log, LOG_SINK_STDERR, false, "meshctl");
	if (argc > 0 && strcmp(argv[0], "showhostkey") == 0)
		r = showhostkey(argc, argv, json, &log);
	else if (argc > 0 && strcmp(argv[0], "newhostkey") == 0)
		r = newhostkey(argc, argv, &log);
	else
		r = usage();
	log_fini(&log);
	return r;
}
