/*
 * fuzz_mx - a DNS answer, record by record, through the rdata decoders
 * (dns_rdata_mx, _txt, _addr, _name: each record is tried as each type,
 * as a hostile resolver could send anything) and the decoded MX records
 * through mx_order(), as the relay uses them.
 *
 * Input: byte 0 holds options (bit 0: a shuffle whose random numbers are
 * the input's own octets; bit 1: the first record names this server,
 * "self", instead of being an MX record), then records as <length octet>
 * <rdata>, at most DNS_MAX_RECORDS (64) of them used as MX records.
 *
 * Checks, besides the sanitizers:
 *  - a decoded name is lower-case letters, digits, '-', '_' and dots, and
 *    encodes back to the very octets it was read from (less the case);
 *  - mx_order(): MX_OK leaves at most the records it had, in ascending
 *    preference, none of them the root, self or a duplicate (any case);
 *    any other status leaves none.
 */
#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "dns/rdata.h"
#include "relay/mx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)
#define MAX_RECORDS 64      /* DNS_MAX_RECORDS */

/* The shuffle's random numbers: the input's octets, in turn. */
struct octets {
    const uint8_t *p;
    size_t         n, i;
};

static unsigned
octet_rnd(void *arg)
{
    struct octets *o = arg;

    return o->n ? o->p[o->i++ % o->n] : 0;
}

/* check_name - host, decoded from wire[0..used), encodes back to it */
static void
check_name(const char *host, const unsigned char *wire, size_t used)
{
    size_t off = 0, len = strlen(host);

    for (size_t i = 0; i < len; i++)
        CHECK((host[i] >= 'a' && host[i] <= 'z') || (host[i] >= '0' && host[i] <= '9') ||
              host[i] == '-' || host[i] == '_' || host[i] == '.');
    for (size_t s = 0; s < len;) {
        const char *dot = memchr(host + s, '.', len - s);
        size_t lab = dot ? (size_t)(dot - host) - s : len - s;

        CHECK(lab >= 1 && off + 1 + lab < used && wire[off] == lab);
        CHECK(strncasecmp((const char *)wire + off + 1, host + s, lab) == 0);
        off += 1 + lab;
        s += lab + (dot != NULL);
        CHECK(dot == NULL || s < len);      /* no empty label at the end */
    }
    CHECK(off + 1 == used && wire[off] == 0);
}

/* check_record - one rdata as each type */
static void
check_record(const unsigned char *p, size_t len)
{
    struct sockaddr_storage ss;
    char host[MX_HOST_MAX + 1];
    size_t used = 0;
    char *txt;

    if (dns_rdata_name(p, len, &used, host, sizeof(host))) {
        CHECK(used <= len);
        check_name(host, p, used);
    }
    if ((txt = dns_rdata_txt(p, len)) != NULL) {
        CHECK(strlen(txt) < len);
        free(txt);
    }
    CHECK(dns_rdata_addr(AF_INET, p, len, &ss) == (len == 4));
    CHECK(dns_rdata_addr(AF_INET6, p, len, &ss) == (len == 16));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static struct mx_record v[MAX_RECORDS];
    struct octets rnd = { data, size, 0 };
    char self[MX_HOST_MAX + 1] = "";
    bool want_self;
    size_t n = 0, pos = 1, before;

    if (size < 1)
        return 0;
    want_self = data[0] & 2;
    while (pos < size && n < MAX_RECORDS) {
        size_t len = data[pos++];
        if (len > size - pos)
            len = size - pos;
        unsigned char *rd = malloc(len ? len : 1);  /* exact size: ASan sees overreads */
        struct mx_record rec;

        memcpy(rd, data + pos, len);
        pos += len;
        check_record(rd, len);
        if (dns_rdata_mx(rd, len, &rec)) {
            CHECK(rec.pref <= 0xffff);
            check_name(rec.host, rd + 2, len - 2);
            if (want_self) {
                memcpy(self, rec.host, sizeof(self));
                want_self = false;
            } else
                v[n++] = rec;
        }
        free(rd);
    }

    before = n;
    enum mx_status st = mx_order(v, &n, (data[0] & 2) ? self : NULL,
                                 (data[0] & 1) ? octet_rnd : NULL, &rnd);
    if (st != MX_OK) {
        CHECK(n == 0);
        return 0;
    }
    CHECK(n <= before);
    for (size_t i = 0; i < n; i++) {
        CHECK(v[i].host[0] != '\0');
        CHECK(i == 0 || v[i - 1].pref <= v[i].pref);
        CHECK(self[0] == '\0' || strcasecmp(v[i].host, self) != 0);
        for (size_t j = 0; j < i; j++)
            CHECK(strcasecmp(v[i].host, v[j].host) != 0);
    }
    return 0;
}
