/*
 * report - the findings of postino doctor and their two forms: columns
 * for people, JSON for scripts. See doctor.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "doctor/doctor.h"
#include "util/json.h"
#include "util/xmalloc.h"

#define CHECK_WIDTH  6      /* "LISTEN" */
#define STATUS_WIDTH 8      /* "problem" and a space */

/* vformat - a new string of printf(fmt, ap) */
static char *vformat(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));
static char *
vformat(const char *fmt, va_list ap)
{
    struct buf b = BUF_INIT;

    buf_vprintf(&b, fmt, ap);
    if (b.data == NULL)
        return xstrdup("");
    return buf_steal(&b);
}

struct doctor_finding *
doctor_add(struct doctor_report *r, enum doctor_status st, const char *subject,
           const char *check, const char *fmt, ...)
{
    struct doctor_finding *f;
    va_list ap;

    r->v = xreallocarray(r->v, r->n + 1, sizeof(*r->v));
    f = &r->v[r->n++];
    memset(f, 0, sizeof(*f));
    f->status = st;
    f->subject = xstrdup(subject ? subject : "");
    f->check = xstrdup(check);
    va_start(ap, fmt);
    f->detail = vformat(fmt, ap);
    va_end(ap);
    return f;
}

void
doctor_why(struct doctor_finding *f, const char *fmt, ...)
{
    va_list ap;

    free(f->why);
    va_start(ap, fmt);
    f->why = vformat(fmt, ap);
    va_end(ap);
}

void
doctor_fix(struct doctor_finding *f, const char *fmt, ...)
{
    va_list ap;

    free(f->fix);
    va_start(ap, fmt);
    f->fix = vformat(fmt, ap);
    va_end(ap);
}

void
doctor_report_take(struct doctor_report *dst, struct doctor_report *src)
{
    if (src->n == 0)
        return;
    dst->v = xreallocarray(dst->v, dst->n + src->n, sizeof(*dst->v));
    memcpy(dst->v + dst->n, src->v, src->n * sizeof(*src->v));
    dst->n += src->n;
    free(src->v);
    src->v = NULL;
    src->n = 0;
}

void
doctor_report_free(struct doctor_report *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->v[i].subject);
        free(r->v[i].check);
        free(r->v[i].detail);
        free(r->v[i].why);
        free(r->v[i].fix);
    }
    free(r->v);
    r->v = NULL;
    r->n = 0;
}

size_t
doctor_count(const struct doctor_report *r, enum doctor_status st)
{
    size_t n = 0;

    for (size_t i = 0; i < r->n; i++)
        n += r->v[i].status == st;
    return n;
}

const char *
doctor_status_name(enum doctor_status st)
{
    switch (st) {
    case DOCTOR_OK:      return "ok";
    case DOCTOR_WARNING: return "warning";
    default:             return "problem";
    }
}

/* put_safe - s with control, DEL and non-ASCII octets as \xHH */
static void
put_safe(struct buf *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p < 0x20 || *p >= 0x7f)
            buf_printf(out, "\\x%02x", *p);
        else
            buf_putc(out, (char)*p);
    }
}

/* put_padded - s, then spaces up to width */
static void
put_padded(struct buf *out, const char *s, size_t width)
{
    size_t before = out->len;

    put_safe(out, s);
    for (size_t k = out->len - before; k < width; k++)
        buf_putc(out, ' ');
}

void
doctor_format_text(const struct doctor_report *r, struct buf *out)
{
    size_t width = 0;

    for (size_t i = 0; i < r->n; i++) {
        size_t len = strlen(r->v[i].subject);
        if (len > width)
            width = len;
    }
    for (size_t i = 0; i < r->n; i++) {
        const struct doctor_finding *f = &r->v[i];

        put_padded(out, f->subject, width + 2);
        put_padded(out, f->check, CHECK_WIDTH + 1);
        put_padded(out, doctor_status_name(f->status), STATUS_WIDTH + 1);
        put_safe(out, f->detail);
        if (f->why || f->fix)
            buf_putc(out, '.');
        if (f->why) {
            buf_putc(out, ' ');
            put_safe(out, f->why);
        }
        if (f->fix) {
            buf_putc(out, ' ');
            put_safe(out, f->fix);
        }
        buf_putc(out, '\n');
    }
}

void
doctor_format_json(const struct doctor_report *r, const char *hostname, const char *public_ip,
                   struct buf *out)
{
    buf_puts(out, "{\"hostname\":");
    json_put_cstr(out, hostname);
    buf_puts(out, ",\"public_ip\":");
    json_put_cstr(out, public_ip && public_ip[0] ? public_ip : NULL);
    buf_printf(out, ",\"problems\":%zu,\"warnings\":%zu,\"checks\":[",
               doctor_count(r, DOCTOR_PROBLEM), doctor_count(r, DOCTOR_WARNING));
    for (size_t i = 0; i < r->n; i++) {
        const struct doctor_finding *f = &r->v[i];

        buf_puts(out, i ? ",{" : "{");
        buf_puts(out, "\"subject\":");
        json_put_cstr(out, f->subject);
        buf_puts(out, ",\"check\":");
        json_put_cstr(out, f->check);
        buf_puts(out, ",\"status\":");
        json_put_cstr(out, doctor_status_name(f->status));
        buf_puts(out, ",\"detail\":");
        json_put_cstr(out, f->detail);
        buf_puts(out, ",\"why\":");
        json_put_cstr(out, f->why);
        buf_puts(out, ",\"fix\":");
        json_put_cstr(out, f->fix);
        buf_putc(out, '}');
    }
    buf_puts(out, "]}\n");
}
