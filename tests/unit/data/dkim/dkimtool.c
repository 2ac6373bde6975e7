/*
 * dkimtool - a small driver of src/dkim for crosscheck.py (not part of
 * make unit): sign and verify messages from the command line.
 *
 *   dkimtool sign KEY.pem DOMAIN SELECTOR NOW  < msg   the DKIM-Signature field
 *   dkimtool txt KEY.pem                                the key record
 *   dkimtool verify NOW DNSFILE               < msg   one line per signature:
 *            STATUS d=D s=S a=A b=B8 l=L|- body=N reason
 *
 * Messages are read in the queue's LF form. DNSFILE has lines
 * "NAME<TAB>RECORD", several for several records, or "NAME<TAB>!TEMPFAIL".
 * A name not in the file is NXDOMAIN. Built by crosscheck.py against the
 * objects of build/san/.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dkim/dkim.h"

/* slurp - all of f into a new buffer */
static char *
slurp(FILE *f, size_t *n)
{
    size_t cap = 1 << 16, len = 0;
    char *p = malloc(cap);

    for (;;) {
        if (len == cap)
            p = realloc(p, cap *= 2);
        size_t k = fread(p + len, 1, cap - len, f);
        if (k == 0)
            break;
        len += k;
    }
    *n = len;
    return p;
}

static int
cmd_verify(long long now, const char *dnsfile)
{
    size_t n, dn;
    char *msg = slurp(stdin, &n);
    FILE *df = fopen(dnsfile, "r");
    char *dns = df ? slurp(df, &dn) : NULL;
    struct dkim_verify *v;

    if (!df) {
        perror(dnsfile);
        return 1;
    }
    fclose(df);
    dns = realloc(dns, dn + 1);
    dns[dn] = '\0';
    v = dkim_verify_new(msg, n, (time_t)now);
    for (size_t i = 0; i < dkim_verify_count(v); i++) {
        const char *q = dkim_verify_query(v, i);
        char *recs[16];
        size_t nrec = 0;
        enum dkim_dns st = DKIM_DNS_NOKEY;

        for (char *line = dns; q && line && *line;) {
            char *nl = strchr(line, '\n');
            size_t len = nl ? (size_t)(nl - line) : strlen(line);
            char *tab = memchr(line, '\t', len);
            if (tab && (size_t)(tab - line) == strlen(q) && strncmp(line, q, strlen(q)) == 0) {
                char *rec = strndup(tab + 1, len - (size_t)(tab + 1 - line));
                if (strcmp(rec, "!TEMPFAIL") == 0) {
                    st = DKIM_DNS_TEMPFAIL;
                    free(rec);
                } else if (nrec < 16) {
                    st = DKIM_DNS_OK;
                    recs[nrec++] = rec;
                } else {
                    free(rec);
                }
            }
            line = nl ? nl + 1 : NULL;
        }
        if (q)
            dkim_verify_answer(v, i, st, recs, nrec);
        for (size_t k = 0; k < nrec; k++)
            free(recs[k]);
        const struct dkim_result *r = dkim_verify_result(v, i);
        char l[32] = "-";
        if (r->has_l)
            snprintf(l, sizeof(l), "%llu", r->l);
        printf("%s d=%s s=%s a=%s b=%s l=%s body=%llu %s\n", dkim_status_name(r->status),
               r->domain, r->selector, r->algorithm, r->b8, l, r->body_len, r->reason);
    }
    dkim_verify_free(v);
    free(msg);
    free(dns);
    return 0;
}

int
main(int argc, char **argv)
{
    char err[512];

    if (argc == 6 && strcmp(argv[1], "sign") == 0) {
        struct dkim_key *k = dkim_key_load(argv[2], err, sizeof(err));
        size_t n;
        char *msg, *sig;

        if (!k) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        msg = slurp(stdin, &n);
        sig = dkim_sign(msg, n, k, argv[3], argv[4], (time_t)atoll(argv[5]), err, sizeof(err));
        if (!sig) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        fputs(sig, stdout);
        free(sig);
        free(msg);
        dkim_key_free(k);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "txt") == 0) {
        struct dkim_key *k = dkim_key_load(argv[2], err, sizeof(err));
        char *txt;

        if (!k) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        txt = dkim_key_txt(k);
        printf("%s\n", txt);
        free(txt);
        dkim_key_free(k);
        return 0;
    }
    if (argc == 4 && strcmp(argv[1], "verify") == 0)
        return cmd_verify(atoll(argv[2]), argv[3]);
    fprintf(stderr, "usage: dkimtool sign KEY DOMAIN SELECTOR NOW | txt KEY | verify NOW DNSFILE\n");
    return 2;
}
