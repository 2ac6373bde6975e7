/*
 * dkim - "postino dkim keygen DOMAIN [--selector S] [--algorithm
 * rsa|ed25519]" and "postino dkim list [DOMAIN]".
 *
 * keygen makes a key in <data_dir>/dkim/DOMAIN/SELECTOR.ALG.pem (the
 * layout is in dkim/dkim.h), prints the DNS record to publish as one
 * zone-file line on stdout, and says what to do with it on stderr. Run
 * as root, it becomes the run_as user first (as "postino user" does), so
 * that the server can read the key. list prints every key, which of them
 * signs, and its record. Exit status: 0, 1 for an error, 2 for a usage
 * error.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "conf/config.h"
#include "daemon/privs.h"
#include "dkim/dkim.h"
#include "util/buf.h"

#define DKIM_USAGE "Usage: postino dkim keygen DOMAIN [--selector S] [--algorithm rsa|ed25519]" \
                   " | list [DOMAIN]"

/* keygen - make the key, print its record; the exit status */
static int
keygen(const struct config *cfg, const char *domain, const char *selector, enum dkim_alg alg)
{
    char err[512], sel[DKIM_NAME_MAX + 1];
    struct privs privs;
    struct dkim_key *k;
    char *txt, *zone;

    if (!dkim_domain_ok(domain)) {
        fprintf(stderr, "postino dkim: \"%s\" is not a domain name (letters, digits, \"-\" "
                "and dots; an international name in its xn-- form)\n", domain);
        return 1;
    }
    if (!config_is_local_domain(cfg, domain))
        fprintf(stderr, "postino dkim: warning: %s is not one of the local domains (%s ...)\n",
                domain, cfg->domains[0]);
    /* Run as root, write as the server's user: it must read the key. */
    if (privs_prepare(&privs, cfg->run_as, cfg->data_dir, err, sizeof(err)) < 0
        || privs_drop(&privs, err, sizeof(err)) < 0) {
        fprintf(stderr, "postino dkim: %s\n", err);
        return 1;
    }
    if (!(k = dkim_store_keygen(cfg->data_dir, domain, selector, alg, time(NULL), sel, err,
                                sizeof(err)))) {
        fprintf(stderr, "postino dkim: %s\n", err);
        return 1;
    }
    char dom[DKIM_NAME_MAX + 1];
    size_t i;
    for (i = 0; domain[i]; i++)
        dom[i] = domain[i] >= 'A' && domain[i] <= 'Z' ? (char)(domain[i] - 'A' + 'a') : domain[i];
    dom[i] = '\0';
    txt = dkim_key_txt(k);
    zone = txt ? dkim_zone_line(sel, dom, txt) : NULL;
    if (!zone) {
        fprintf(stderr, "postino dkim: cannot make the DNS record of the new key\n");
        free(txt);
        dkim_key_free(k);
        return 1;
    }
    char what[32];
    if (alg == DKIM_RSA_SHA256)
        snprintf(what, sizeof(what), "a %u-bit RSA", dkim_key_bits(k));
    else
        snprintf(what, sizeof(what), "an Ed25519");
    fprintf(stderr, "postino dkim: made %s key for %s, selector %s, in "
            "%s/dkim/%s/%s.%s.pem.\nPublish the TXT record below in the DNS zone of %s. "
            "The server signs the mail of %s with the newest key of each algorithm, so "
            "receivers see failing signatures until the record is published.\n",
            what, dom, sel, cfg->data_dir, dom, sel, dkim_key_type(alg), dom, dom);
    printf("%s\n", zone);
    free(zone);
    free(txt);
    dkim_key_free(k);
    return 0;
}

/* list - every key file, and its record; the exit status */
static int
list(const struct config *cfg, const char *domain)
{
    struct dkim_entry *e;
    size_t n;
    char err[512];
    int rc = 0;

    if (dkim_store_list(cfg->data_dir, domain, &e, &n, err, sizeof(err)) < 0) {
        fprintf(stderr, "postino dkim: %s\n", err);
        return 1;
    }
    if (n == 0)
        fprintf(stderr, "postino dkim: no keys in %s/dkim (make one with "
                "\"postino dkim keygen DOMAIN\")\n", cfg->data_dir);
    for (size_t i = 0; i < n; i++) {
        struct dkim_key *k = dkim_key_load(e[i].path, err, sizeof(err));
        char *txt = NULL, *zone = NULL, when[32];
        struct tm tm;

        gmtime_r(&e[i].mtime, &tm);
        strftime(when, sizeof(when), "%Y-%m-%d", &tm);
        if (k && dkim_key_alg(k) != e[i].alg)
            snprintf(err, sizeof(err), "%s: not an %s key", e[i].path, dkim_key_type(e[i].alg));
        if (!k || dkim_key_alg(k) != e[i].alg) {
            printf("%s %s %s %s broken: %s\n\n", e[i].domain, e[i].selector,
                   dkim_key_type(e[i].alg), when, err);
            dkim_key_free(k);
            rc = 1;
            continue;
        }
        txt = dkim_key_txt(k);
        zone = txt ? dkim_zone_line(e[i].selector, e[i].domain, txt) : NULL;
        char what[32];
        if (e[i].alg == DKIM_RSA_SHA256)
            snprintf(what, sizeof(what), "rsa-%u", dkim_key_bits(k));
        else
            snprintf(what, sizeof(what), "ed25519");
        printf("%s %s %s %s %s\n%s\n\n", e[i].domain, e[i].selector, what, when,
               e[i].newest ? "signing" : "retired (a newer key signs)", zone ? zone : "?");
        free(zone);
        free(txt);
        dkim_key_free(k);
    }
    dkim_entries_free(e, n);
    return rc;
}

int
cli_dkim(const struct cli_args *a)
{
    struct buf errs = BUF_INIT;
    const char *sub = a->nwords ? a->words[0] : "";
    enum dkim_alg alg = DKIM_RSA_SHA256;
    int nerr, rc = 2;
    struct config *cfg = NULL;

    if (strcmp(sub, "keygen") == 0) {
        if (a->nwords != 2) {
            fprintf(stderr, "%s\n", DKIM_USAGE);
            return 2;
        }
        if (a->algorithm && strcmp(a->algorithm, "ed25519") == 0) {
            alg = DKIM_ED25519_SHA256;
        } else if (a->algorithm && strcmp(a->algorithm, "rsa") != 0) {
            fprintf(stderr, "postino dkim: --algorithm is rsa or ed25519\n");
            return 2;
        }
    } else if (strcmp(sub, "list") == 0) {
        if (a->nwords > 2 || a->selector || a->algorithm) {
            fprintf(stderr, "%s\n", DKIM_USAGE);
            return 2;
        }
    } else {
        fprintf(stderr, "%s\n", DKIM_USAGE);
        return 2;
    }
    cfg = config_load(a->config, a->overrides, a->noverrides, &errs, &nerr);
    if (nerr) {
        fprintf(stderr, "%s", buf_cstr(&errs));
        rc = 1;
    } else if (strcmp(sub, "keygen") == 0) {
        rc = keygen(cfg, a->words[1], a->selector, alg);
    } else {
        rc = list(cfg, a->nwords == 2 ? a->words[1] : NULL);
    }
    buf_free(&errs);
    config_free(cfg);
    return rc;
}
