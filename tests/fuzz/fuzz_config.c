/*
 * fuzz_config - a configuration file through config_parse_text() on the
 * defaults of config_new(), then config_relay_host() and
 * config_is_local_domain() on what it set, and config_free().
 *
 * Checks, besides the sanitizers (LeakSanitizer: every replaced value is
 * freed):
 *  - the count returned is the number of error lines appended;
 *  - the lists stay well-formed: domains has ndomains entries, each a
 *    valid lower-case domain that config_is_local_domain() finds; every
 *    listening address was parsed (sslen set); at least one retry
 *    interval, none 0.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "conf/config.h"
#include "mail/address.h"
#include "util/buf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* check_listen - every address of a listener was parsed */
static void
check_listen(const struct listen_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        CHECK(l->v[i].sslen > 0 && strlen(l->v[i].text) < sizeof(l->v[i].text));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct config *cfg = config_new();
    struct buf errs = BUF_INIT;
    char *text = malloc(size ? size : 1);       /* exact size: ASan sees overreads */
    char host[256];
    unsigned port;
    size_t lines = 0;

    memcpy(text, data, size);
    int nerr = config_parse_text(cfg, text, size, "fuzz.conf", &errs);
    for (size_t i = 0; i < errs.len; i++)
        lines += errs.data[i] == '\n';
    CHECK(nerr >= 0 && (size_t)nerr == lines);

    for (size_t i = 0; i < cfg->ndomains; i++) {
        const char *d = cfg->domains[i];
        CHECK(d != NULL && domain_valid(d, strlen(d), false));
        for (const char *p = d; *p; p++)
            CHECK(!(*p >= 'A' && *p <= 'Z'));
        CHECK(config_is_local_domain(cfg, d));
    }
    CHECK(cfg->domains[cfg->ndomains] == NULL);
    check_listen(&cfg->listen_smtp);
    check_listen(&cfg->listen_submission);
    check_listen(&cfg->listen_submissions);
    check_listen(&cfg->listen_pop3);
    check_listen(&cfg->listen_pop3s);
    CHECK(cfg->nretry_intervals >= 1);
    for (size_t i = 0; i < cfg->nretry_intervals; i++)
        CHECK(cfg->retry_intervals[i] > 0);
    if (config_relay_host(cfg, host, sizeof(host), &port) == 0)
        CHECK(host[0] != '\0' && strlen(host) < sizeof(host) && port >= 1 && port <= 65535);

    free(text);
    buf_free(&errs);
    config_free(cfg);
    return 0;
}
