/* meshctl_cert.c — meshctl initnss / import / listcerts: NSS database administration without
 * the daemon (Libreswan's `ipsec initnss`, `ipsec import`, `ipsec listcerts`).
 *
 *   meshctl initnss [--nssdir DIR]
 *   meshctl import FILE.p12 [--nssdir DIR] [--password-file F | --password PW]
 *   meshctl listcerts [--nssdir DIR] [--config FILE] [--json]
 *
 * listcerts marks certificates expiring within cert-expiry-warning= of FILE (default
 * meshd.conf's, else 14 days).
 * The import password: --password, else the first line of --password-file, else the
 * environment variable MESHD_P12_PASSWORD, else empty. Never interactive. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cert.h"
#include "conf.h"
#include "log.h"
#include "meshctl_cert.h"

enum { CERT_EXIT_OK = 0, CERT_EXIT_FAIL = 1, CERT_EXIT_USAGE = 2 };

static int usage(const char *cmd)
{
	fprintf(stderr,
		"usage: meshctl initnss [--nssdir DIR]\n"
		"       meshctl import FILE.p12 [--nssdir DIR] [--password-file F | --password PW]\n"
		"       meshctl listcerts [--nssdir DIR] [--config FILE] [--json]\n"
		"(default DIR %s; import password default: $MESHD_P12_PASSWORD, else empty)\n",
		CONF_DEFAULT_NSSDIR);
	(void)cmd;
	return CERT_EXIT_USAGE;
}

/* The first line of file, without its newline, into pw (cap bytes). */
static int read_password(const char *file, char *pw, size_t cap)
{
	FILE *f = fopen(file, "r");
	size_t n;

	if (f == NULL)
		return -errno;
	if (fgets(pw, (int)cap, f) == NULL)
		pw[0] = '\0';
	fclose(f);
	n = strlen(pw);
	while (n > 0 && (pw[n - 1] == '\n' || pw[n - 1] == '\r'))
		pw[--n] = '\0';
	return 0;
}

/* cert-expiry-warning= of config (quietly: a missing or broken file gives the default). */
static uint32_t expiry_warning(const char *config)
{
	struct diag quiet = { 0 };
	struct conf *c = conf_load(config, &quiet);
	uint32_t w = c ? c->setup.cert_expiry_warning_s : 14 * 86400;
	conf_free(c);
	return w;
}

int meshctl_cert_command(int argc, char **argv, bool json)
{
	const char *cmd = argc > 0 ? argv[0] : "", *nssdir = CONF_DEFAULT_NSSDIR;
	const char *config = CONF_DEFAULT_PATH;
	const char *file = NULL, *pwfile = NULL, *pw = NULL;
	char pwbuf[1024];
	struct log log;
	int r;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--nssdir") == 0 && i + 1 < argc)
			nssdir = argv[++i];
		else if (strncmp(a, "--nssdir=", 9) == 0)
			nssdir = a + 9;
		else if (strcmp(a, "--json") == 0)
			json = true;
		else if (strcmp(cmd, "listcerts") == 0 && strcmp(a, "--config") == 0 && i + 1 < argc)
			config = argv[++i];
		else if (strcmp(cmd, "import") == 0 && strcmp(a, "--password") == 0 && i + 1 < argc)
			pw = argv[++i];
		else if (strcmp(cmd, "import") == 0 && strcmp(a, "--password-file") == 0 &&
			 i + 1 < argc)
			pwfile = argv[++i];
		else if (strcmp(cmd, "import") == 0 && file == NULL && a[0] != '-')
			file = a;
		else
			return usage(cmd);
	}
	log_init(&log, LOG_SINK_STDERR, false, "meshctl");
	if (strcmp(cmd, "initnss") == 0) {
		r = cert_initnss(nssdir, &log);
	} else if (strcmp(cmd, "listcerts") == 0) {
		r = cert_list(nssdir, stdout, json, expiry_warning(config));
	} else if (strcmp(cmd, "import") == 0) {
		if (file == NULL || (pw != NULL && pwfile != NULL)) {
			log_fini(&log);
			return usage(cmd);
		}
		if (pwfile != NULL) {
			if ((r = read_password(pwfile, pwbuf, sizeof(pwbuf))) != 0) {
				fprintf(stderr, "meshctl import: %s: %s\n", pwfile, strerror(-r));
				log_fini(&log);
				return CERT_EXIT_FAIL;
			}
			pw = pwbuf;
		} else if (pw == NULL) {
			pw = getenv("MESHD_P12_PASSWORD");
		}
		r = cert_import_p12(nssdir, file, pw != NULL ? pw : "", &log);
		explicit_bzero(pwbuf, sizeof(pwbuf));
	} else {
		log_fini(&log);
		return usage(cmd);
	}
	log_fini(&log);
	return r == 0 ? CERT_EXIT_OK : CERT_EXIT_FAIL;
}
