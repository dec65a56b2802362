/* meshctl — the operator's tool: talks to meshd over its control socket, and validates
 * configuration offline (check). See meshctl(8). */
#include "config.h"

#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cert.h"
#include "conf.h"
#include "ctl_proto.h"
#include "log.h"
#include "meshctl_cert.h"
#include "meshctl_dns.h"
#include "nft_check.h"
#include "policy.h"

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_NODAEMON = 3 };

static void usage(FILE *f)
{
	fprintf(f,
		"usage: meshctl [--ctlsocket PATH] [--json] COMMAND [ARGS]\n"
		"commands (ask the running meshd):\n"
		"  status              groups, kernel policies, shunts, counters\n"
		"  shuntstatus         negotiation and failure shunts with their reasons\n"
		"  trafficstatus       established Child SAs with byte counters\n"
		"  why ADDRESS         which group and file:line govern ADDRESS, and its state\n"
		"  reload              re-read config and group files, apply the difference\n"
		"  up ADDRESS          negotiate with ADDRESS now (as its first packet would)\n"
		"  down ADDRESS        delete the SAs with ADDRESS\n"
		"  shutdown [--flush]  stop meshd; private stays blocked until it starts again,\n"
		"                      --flush removes all its kernel state (uninstalling)\n"
		"commands (offline):\n"
		"  initnss [--nssdir DIR]        create an empty NSS database\n"
		"  import FILE.p12 [--nssdir DIR] [--password-file F | --password PW]\n"
		"                      import a node certificate + key (+ CA, trusted CT,,)\n"
		"  listcerts [--nssdir DIR]      certificates in the NSS database\n"
		"  showhostkey --ipseckey [--reverse ADDR | --owner NAME] [--gateway ADDR]\n"
		"              [--precedence N]  this node's IPSECKEY record for a zone\n"
		"  newhostkey [--rsa BITS | --ecdsa]   a raw host key in NSS (no certificate)\n"
		"  check [--config FILE] [--policy FILE]... [--no-firewall]\n"
		"                      validate; messages as file:line on stderr; exit 1 on errors;\n"
		"                      as root, warn when the firewall would drop IKE or ESP\n"
		"  version\n"
		"--json gives machine-readable output (fields in meshctl(8)).\n");
}

static int run_remote(const char *path, int argc, char **argv, bool json)
{
	char req[CTL_MAX_REQUEST];
	char *args[CTL_MAX_ARGS];
	char json_flag[] = "--json";
	int n = 0;
	for (int i = 0; i < argc && n < CTL_MAX_ARGS; i++)
		args[n++] = argv[i];
	if (json && n < CTL_MAX_ARGS)
		args[n++] = json_flag;
	int len = ctl_build_request(n, args, req, sizeof(req));
	if (len < 0) {
		fprintf(stderr, "meshctl: request too long\n");
		return EXIT_USAGE;
	}
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(sun.sun_path)) {
		fprintf(stderr, "meshctl: control socket path too long: %s\n", path);
		return EXIT_USAGE;
	}
	strcpy(sun.sun_path, path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0) {
		fprintf(stderr, "meshctl: cannot reach meshd at %s: %s (is it running? "
			"--ctlsocket selects another daemon)\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return EXIT_NODAEMON;
	}
	if (write(fd, req, (size_t)len) != len || shutdown(fd, SHUT_WR) < 0) {
		fprintf(stderr, "meshctl: sending to meshd: %s\n", strerror(errno));
		close(fd);
		return EXIT_FAIL;
	}
	size_t cap = 65536, got = 0;
	char *buf = malloc(cap);
	ssize_t r;
	while (buf && (r = read(fd, buf + got, cap - got)) > 0) {
		got += (size_t)r;
		if (got == cap) {
			char *nb = realloc(buf, cap * 2);
			if (!nb)
				break;
			buf = nb;
			cap *= 2;
		}
	}
	close(fd);
	if (!buf)
		return EXIT_FAIL;
	size_t off;
	int st = ctl_parse_status(buf, got, &off);
	if (st < 0) {
		fprintf(stderr, "meshctl: malformed answer from meshd\n");
		free(buf);
		return EXIT_FAIL;
	}
	fwrite(buf + off, 1, got - off, st == 0 ? stdout : stderr);
	free(buf);
	return st;
}

/* Validate one group file on its own: syntax and in-file duplicates. The file is read
 * as the group named after its basename (Ansible's validate: hands us a temp file). */
static unsigned check_policy_file(const char *file, struct diag *d)
{
	char *a = strdup(file), *b = strdup(file);
	struct conf *c = conf_new_default();
	unsigned errs = 0;
	if (!a || !b || !c || !(c->conns = calloc(1, sizeof(*c->conns)))) {
		fprintf(stderr, "meshctl: out of memory\n");
		errs = 1;
		goto done;
	}
	if (access(file, R_OK) != 0) {
		diag_report(d, DIAG_ERR, file, 0, "cannot read: %s", strerror(errno));
		errs = 1;
		goto done;
	}
	c->n_conns = 1;
	conf_conn_init(&c->conns[0]);
	c->conns[0].name = strdup(basename(a));
	c->conns[0].right_kind = RIGHT_OPPGROUP;
	c->conns[0].autostart = AUTO_ONDEMAND;
	if (!c->conns[0].name) {
		errs = 1;
		goto done;
	}
	unsigned before = d->n_err;
	struct host_addrs none = { 0 };
	struct policy_set *s = policy_load(c, dirname(b), &none, true, d);
	if (!s)
		errs = 1;
	else if (d->n_err > before)
		errs = d->n_err - before;
	policy_free(s);
done:
	conf_free(c);
	free(a);
	free(b);
	return errs;
}

/* Warn about node certificates (and trusted CAs) that expire within cert-expiry-warning=;
 * silent when the NSS database cannot be opened (the daemon says that at start). */
static void check_cert_expiry(const struct conf *c, struct diag *d)
{
	const char *nicks[16];
	size_t n = 0;
	for (size_t i = 0; i < c->n_conns && n < 16; i++) {
		const struct conf_conn *cc = &c->conns[i];
		if (!(cc->authby & (AUTHBY_RSASIG | AUTHBY_ECDSA)) || (cc->authby & AUTHBY_NEVER) ||
		    cc->right_kind != RIGHT_OPPGROUP)
			continue;
		const char *nick = cc->leftcert && cc->leftcert[0] ? cc->leftcert : "node";
		bool dup = false;
		for (size_t j = 0; j < n && !dup; j++)
			dup = strcmp(nicks[j], nick) == 0;
		if (!dup)
			nicks[n++] = nick;
	}
	if (n && c->setup.nssdir)
		(void)cert_expiry_check(c->setup.nssdir, nicks, n, c->setup.cert_expiry_warning_s, d);
}

static int cmd_check(int argc, char **argv)
{
	const char *config = NULL;
	const char *policies[64];
	size_t np = 0;
	bool firewall = true;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			config = argv[++i];
		else if (strcmp(argv[i], "--no-firewall") == 0)
			firewall = false;
		else if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc && np < 64)
			policies[np++] = argv[++i];
		else {
			fprintf(stderr, "meshctl check: unexpected argument '%s'\n", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (!config && np == 0)
		config = CONF_DEFAULT_PATH;
	struct diag d = { .fn = diag_to_file, .arg = stderr };
	unsigned errs = 0;
	struct nft_check_opts fw = { 0 };
	if (config) {
		struct conf *c = conf_load(config, &d);
		if (!c) {
			errs++;
		} else {
			struct host_addrs none = { 0 };
			fw.ike_port = c->setup.ike_port;
			fw.nat_ike_port = c->setup.nat_ike_port;
			struct policy_set *s = policy_load(c, NULL, &none, true, &d);
			if (!s)
				errs++;
			policy_free(s);
			check_cert_expiry(c, &d);
			conf_free(c);
		}
	}
	for (size_t i = 0; i < np; i++)
		errs += check_policy_file(policies[i], &d);
	/* The host's own firewall (nft_check.h): warnings only, when we may read the ruleset
	 * (root; a failure to read it, e.g. no nf_tables, says nothing). */
	if (firewall && geteuid() == 0)
		(void)nft_check_firewall(&d, &fw);
	if (d.n_err || errs) {
		fprintf(stderr, "meshctl check: %u error(s), %u warning(s)\n", d.n_err, d.n_warn);
		return EXIT_FAIL;
	}
	if (d.n_warn)
		fprintf(stderr, "meshctl check: OK with %u warning(s)\n", d.n_warn);
	return EXIT_OK;
}

int main(int argc, char **argv)
{
	const char *ctlsocket = CONF_DEFAULT_CTLSOCKET;
	bool json = false;
	char *rest[CTL_MAX_ARGS + 1];
	int n = 0;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--ctlsocket") == 0 && i + 1 < argc && n == 0) {
			ctlsocket = argv[++i];
		} else if (strncmp(argv[i], "--ctlsocket=", 12) == 0 && n == 0) {
			ctlsocket = argv[i] + 12;
		} else if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if ((strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) && n == 0) {
			usage(stdout);
			return EXIT_OK;
		} else if (n < CTL_MAX_ARGS) {
			rest[n++] = argv[i];
		} else {
			fprintf(stderr, "meshctl: too many arguments\n");
			return EXIT_USAGE;
		}
	}
	if (n == 0) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(rest[0], "check") == 0)
		return cmd_check(n, rest);
	if (strcmp(rest[0], "version") == 0) {
		printf("meshctl %s\n", PACKAGE_VERSION);
		return EXIT_OK;
	}
	if (strcmp(rest[0], "help") == 0) {
		usage(stdout);
		return EXIT_OK;
	}
	if (strcmp(rest[0], "initnss") == 0 || strcmp(rest[0], "import") == 0 ||
	    strcmp(rest[0], "listcerts") == 0)
		return meshctl_cert_command(n, rest, json);
	if (strcmp(rest[0], "showhostkey") == 0 || strcmp(rest[0], "newhostkey") == 0)
		return meshctl_dns_command(n, rest, json);
	return run_remote(ctlsocket, n, rest, json);
}
