/*
 * mx - the order in which to try a domain's mail servers; see mx.h.
 *
 * Input is the resolver's list of MX records; output is the same array,
 * filtered and sorted, or a verdict that there is nothing to try. This
 * module does not resolve anything, does not know which domains are
 * local (the caller decides what MX_LOOP means for a domain), and does
 * not fall back to the domain's address when there are no MX records
 * (RFC 5321 5.1 implicit MX): with *n == 0 it returns MX_OK and an empty
 * list, and the caller does that.
 */
#include <arpa/inet.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>
#include <strings.h>

#include "relay/mx.h"

static size_t mx_host_len(const char *h);
static bool mx_host_eq(const char *a, const char *b);
static bool mx_is_root(const char *h);
static bool mx_is_ip(const char *h);
static void mx_swap(struct mx_record *a, struct mx_record *b);

/* mx_host_len - length of host h without one trailing dot */
static size_t
mx_host_len(const char *h)
{
    size_t n = strlen(h);

    return n > 0 && h[n - 1] == '.' ? n - 1 : n;
}

/* mx_host_eq - same host name: any case, a trailing dot or not */
static bool
mx_host_eq(const char *a, const char *b)
{
    size_t na = mx_host_len(a), nb = mx_host_len(b);

    return na == nb && strncasecmp(a, b, na) == 0;
}

/* mx_is_root - the root name, "" (as mx.h stores it) or "." */
static bool
mx_is_root(const char *h)
{
    return mx_host_len(h) == 0;
}

/*
 * mx_is_ip - does h parse as an IPv4 or IPv6 address? Such names are
 * not host names (RFC 5321 5.1 says an MX names a host; a record like
 * "10 192.0.2.1" would make us look up A records for "192.0.2.1").
 */
static bool
mx_is_ip(const char *h)
{
    unsigned char addr[16];
    char tmp[MX_HOST_MAX + 1];
    size_t n = mx_host_len(h);

    if (n >= sizeof(tmp))
        return false;
    memcpy(tmp, h, n);
    tmp[n] = '\0';
    return inet_pton(AF_INET, tmp, addr) == 1 || inet_pton(AF_INET6, tmp, addr) == 1;
}

/* mx_swap - exchange two records */
static void
mx_swap(struct mx_record *a, struct mx_record *b)
{
    struct mx_record t = *a;

    *a = *b;
    *b = t;
}

/*
 * mx_order - see mx.h. Details:
 *  - RFC 7505 3: a null MX is a single record for the root; with other
 *    records beside it the domain is misconfigured, and we ignore the
 *    root record and use the rest, as a null MX only means something
 *    alone. The preference of a lone root record does not matter.
 *  - Of the records naming the same host (any case) the best preference
 *    is kept, at the position of the first.
 *  - rnd may be NULL: equal preferences then keep the resolver's order.
 *  - On any status but MX_OK, *n is 0.
 */
enum mx_status
mx_order(struct mx_record *v, size_t *n, const char *self, unsigned (*rnd)(void *arg),
         void *arg)
{
    size_t k = 0, i;

    if (*n == 1 && mx_is_root(v[0].host)) {
        *n = 0;
        return MX_NULL;
    }
    if (*n == 0)
        return MX_OK;

    /* Drop the root, IP addresses and repeated hosts. */
    for (i = 0; i < *n; i++) {
        size_t j;

        if (mx_is_root(v[i].host) || mx_is_ip(v[i].host))
            continue;
        for (j = 0; j < k; j++)
            if (mx_host_eq(v[j].host, v[i].host))
                break;
        if (j < k) {
            if (v[i].pref < v[j].pref)
                v[j].pref = v[i].pref;
            continue;
        }
        if (k != i)
            v[k] = v[i];
        k++;
    }
    if (k == 0) {
        *n = 0;
        return MX_UNUSABLE;
    }

    /* Ascending preference; insertion sort is stable and the lists are
     * short (the resolver returns at most DNS_MAX_RECORDS). */
    for (i = 1; i < k; i++)
        for (size_t j = i; j > 0 && v[j - 1].pref > v[j].pref; j--)
            mx_swap(&v[j - 1], &v[j]);

    /* Shuffle each run of equal preference (Fisher-Yates). */
    if (rnd) {
        for (i = 0; i < k;) {
            size_t end = i + 1;
            while (end < k && v[end].pref == v[i].pref)
                end++;
            for (size_t m = end - i; m > 1; m--) {
                size_t j = (size_t)rnd(arg) % m;
                mx_swap(&v[i + m - 1], &v[i + j]);
            }
            i = end;
        }
    }

    /* RFC 5321 5.1: when we are one of the MX hosts, only the hosts with a
     * better (lower) preference than ours may be tried. */
    if (self && *self) {
        for (i = 0; i < k; i++)
            if (mx_host_eq(v[i].host, self))
                break;
        if (i < k) {
            unsigned mine = v[i].pref;
            while (k > 0 && v[k - 1].pref >= mine)
                k--;
            if (k == 0) {
                *n = 0;
                return MX_LOOP;
            }
        }
    }
    *n = k;
    return MX_OK;
}
