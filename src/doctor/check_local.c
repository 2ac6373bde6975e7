/*
 * check_local - the doctor's checks of this machine, over the facts the
 * command gathered: the public address, the listeners, the certificate
 * and the queue. Pure: the facts come in, findings go out.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "doctor/doctor.h"
#include "util/buf.h"

/* ---- small helpers ----------------------------------------------------- */

/* day_text - the UTC date of t, "2026-03-01" */
static void
day_text(time_t t, char *out, size_t len)
{
    struct tm tm;

    if (gmtime_r(&t, &tm) == NULL || strftime(out, len, "%Y-%m-%d", &tm) == 0)
        snprintf(out, len, "?");
}

/* age_text - seconds as "3d 4h", "2h 5m", "12m", "40s" */
static void
age_text(long long s, char *out, size_t len)
{
    if (s < 0)
        s = 0;
    if (s >= 86400)
        snprintf(out, len, "%lldd %lldh", s / 86400, s % 86400 / 3600);
    else if (s >= 3600)
        snprintf(out, len, "%lldh %lldm", s / 3600, s % 3600 / 60);
    else if (s >= 60)
        snprintf(out, len, "%lldm", s / 60);
    else
        snprintf(out, len, "%llds", s);
}

const char *
doctor_most_common(char *const *v, size_t n, size_t *count)
{
    const char *best = NULL;
    size_t most = 0;

    for (size_t i = 0; i < n; i++) {
        size_t c = 0;
        bool before = false;

        if (v[i] == NULL)
            continue;
        for (size_t j = 0; j < i && !before; j++)
            before = v[j] && strcmp(v[j], v[i]) == 0;
        if (before)
            continue;       /* counted at its first place */
        for (size_t j = i; j < n; j++)
            c += v[j] && strcmp(v[j], v[i]) == 0;
        if (c > most) {
            most = c;
            best = v[i];
        }
    }
    if (count)
        *count = most;
    return best;
}

/* ---- this server's address -------------------------------------------- */

void
doctor_check_public_ip(const struct doctor_env *env, const char *how, const char *private_ip,
                       struct doctor_report *out)
{
    struct doctor_finding *f;

    if (env->public_ip && env->public_ip[0]) {
        if (how && strcmp(how, "public_ip") == 0)
            doctor_add(out, DOCTOR_OK, env->hostname, "IP", "this server's address: %s "
                       "(public_ip)", env->public_ip);
        else
            doctor_add(out, DOCTOR_OK, env->hostname, "IP", "this server's address: %s (found "
                       "on %s; set public_ip if others see another one)", env->public_ip,
                       how ? how : "an interface");
        return;
    }
    if (private_ip && private_ip[0])
        f = doctor_add(out, DOCTOR_PROBLEM, env->hostname, "IP", "no public address on this "
                       "machine's interfaces, only %s: it is behind NAT", private_ip);
    else
        f = doctor_add(out, DOCTOR_PROBLEM, env->hostname, "IP", "no public address on this "
                       "machine's interfaces");
    doctor_why(f, "The checks of the hostname, the reverse DNS, SPF and the blocklists need the "
               "address other servers see, and were skipped.");
    doctor_fix(f, "Set public_ip = THE-ADDRESS in the configuration (your provider knows it; "
               "so does: curl https://ifconfig.me), and make sure port 25 is forwarded to "
               "this machine.");
}

/* ---- listeners --------------------------------------------------------- */

/* listener_role - what a listener is for, for the "why" sentence */
static const char *
listener_role(const char *key)
{
    if (strcmp(key, "listen_smtp") == 0)
        return "Other servers cannot deliver mail to this server.";
    if (strcmp(key, "listen_submission") == 0 || strcmp(key, "listen_submissions") == 0)
        return "Mail programs cannot send mail through this server.";
    return "Mail programs cannot collect their mail.";
}

/* check_listener - one listener */
static void
check_listener(const struct doctor_env *env, const struct doctor_listener *l, bool trial,
               struct doctor_report *out)
{
    struct doctor_finding *f;

    if (l->error != 0) {
        f = doctor_add(out, DOCTOR_PROBLEM, env->hostname, "LISTEN", "nothing answers on %s "
                       "(%s): %s", l->addr, l->key, strerror(l->error));
        doctor_why(f, "%s", listener_role(l->key));
        doctor_fix(f, "Read the server's log: another program may hold the port, or %s is not "
                   "the address you meant.", l->key);
        return;
    }
    if (strcmp(l->key, "listen_smtp") == 0 && l->port != 25 && !trial) {
        f = doctor_add(out, DOCTOR_WARNING, env->hostname, "LISTEN", "%s (%s) answers, but "
                       "on port %u", l->addr, l->key, l->port);
        doctor_why(f, "Other servers deliver mail to port 25 only.");
        doctor_fix(f, "Set listen_smtp = 0.0.0.0:25 [::]:25, or forward port 25 of the "
                   "public address to port %u.", l->port);
        return;
    }
    doctor_add(out, DOCTOR_OK, env->hostname, "LISTEN", "%s (%s) answers", l->addr, l->key);
}

void
doctor_check_listeners(const struct doctor_env *env, const struct doctor_listener *v, size_t n,
                       bool trial, struct doctor_report *out)
{
    struct doctor_finding *f;
    struct buf list = BUF_INIT;
    size_t refused = 0;

    for (size_t i = 0; i < n; i++)
        refused += v[i].error == ECONNREFUSED;
    if (n > 1 && refused == n) {
        for (size_t i = 0; i < n; i++)
            buf_printf(&list, "%s%s %s", i ? ", " : "", v[i].key, v[i].addr);
        f = doctor_add(out, DOCTOR_PROBLEM, env->hostname, "LISTEN", "the server is not "
                       "running: nothing answers on any listener (%s)", buf_cstr(&list));
        doctor_why(f, "Other servers cannot deliver mail here, and mail programs can neither "
                   "send nor collect mail.");
        doctor_fix(f, "Start it: postino serve (or systemctl start postino), and read its log "
                   "if it stops.");
        buf_free(&list);
        return;
    }
    for (size_t i = 0; i < n; i++)
        check_listener(env, &v[i], trial, out);
}

/* ---- the certificate --------------------------------------------------- */

void
doctor_check_cert(const struct doctor_env *env, const struct doctor_cert *c,
                  struct doctor_report *out)
{
    struct doctor_finding *f;
    const char *h = env->hostname;
    char day[32];
    size_t before = out->n;

    if (c->error) {
        if (c->selfsigned_setup) {
            f = doctor_add(out, DOCTOR_WARNING, h, "TLS", "no certificate yet at %s: %s",
                           c->path, c->error);
            doctor_why(f, "The server makes a self-signed one at its first start; mail "
                       "programs will complain about it.");
            doctor_fix(f, "Set tls_cert and tls_key to a real certificate for %s, e.g. from "
                       "Let's Encrypt: certbot certonly --standalone -d %s, then tls_cert = "
                       "/etc/letsencrypt/live/%s/fullchain.pem and tls_key = "
                       "/etc/letsencrypt/live/%s/privkey.pem", h, h, h, h);
        } else {
            f = doctor_add(out, DOCTOR_PROBLEM, h, "TLS", "cannot read the certificate %s "
                           "(tls_cert): %s", c->path, c->error);
            doctor_why(f, "The server cannot start TLS: mail programs cannot connect, and "
                       "other servers send in the clear.");
            doctor_fix(f, "Set tls_cert and tls_key to a readable certificate and its key "
                       "(Let's Encrypt: /etc/letsencrypt/live/%s/fullchain.pem and "
                       "privkey.pem).", h);
        }
        return;
    }
    day_text(c->not_after, day, sizeof(day));
    if (c->not_after <= env->now) {
        f = doctor_add(out, DOCTOR_PROBLEM, h, "TLS", "the certificate %s expired on %s",
                       c->path, day);
        doctor_why(f, "Mail programs refuse an expired certificate, and so do senders that "
                   "check it (MTA-STS, DANE).");
    } else if (c->not_after - env->now < (time_t)DOCTOR_CERT_MIN_DAYS * 86400) {
        f = doctor_add(out, DOCTOR_PROBLEM, h, "TLS", "the certificate %s expires on %s, in "
                       "%lld days", c->path, day,
                       (long long)((c->not_after - env->now) / 86400));
        doctor_why(f, "Mail programs will refuse it then, and so will senders that check it "
                   "(MTA-STS, DANE).");
    } else {
        f = NULL;
    }
    if (f && c->selfsigned_setup)
        doctor_fix(f, "Reload the server (kill -HUP), which makes a new self-signed one; "
                   "better, set tls_cert and tls_key to a real certificate (Let's Encrypt).");
    else if (f)
        doctor_fix(f, "Renew it (certbot renew, if it is Let's Encrypt's) and reload the "
                   "server (kill -HUP).");

    if (!c->covers) {
        f = doctor_add(out, DOCTOR_PROBLEM, h, "TLS", "the certificate %s is for %s, not for "
                       "%s", c->path, c->names && c->names[0] ? c->names : "no name", h);
        doctor_why(f, "Mail programs warn or refuse to connect, and senders that check "
                   "certificates (MTA-STS, DANE) refuse to deliver.");
        if (c->selfsigned_setup)
            doctor_fix(f, "Remove %s and its key: the server makes a new one for %s at its "
                       "next start; better, set tls_cert and tls_key to a real certificate "
                       "for %s.", c->path, h, h);
        else
            doctor_fix(f, "Get a certificate for %s (certbot certonly --standalone -d %s) and "
                       "set tls_cert and tls_key to it.", h, h);
    }
    if (c->selfsigned) {
        f = doctor_add(out, DOCTOR_WARNING, h, "TLS", "the certificate %s is self-signed "
                       "(valid until %s)", c->path, day);
        doctor_why(f, "Mail programs will complain about it (a security warning, or no "
                   "connection at all); other servers deliver anyway, unverified.");
        doctor_fix(f, "Set tls_cert and tls_key to a real certificate, e.g. from Let's "
                   "Encrypt: certbot certonly --standalone -d %s, then tls_cert = "
                   "/etc/letsencrypt/live/%s/fullchain.pem and tls_key = "
                   "/etc/letsencrypt/live/%s/privkey.pem", h, h, h);
    } else if (c->chain_error) {
        f = doctor_add(out, DOCTOR_PROBLEM, h, "TLS", "the certificate %s does not verify: %s",
                       c->path, c->chain_error);
        doctor_why(f, "Mail programs warn or refuse to connect.");
        doctor_fix(f, "Point tls_cert at the whole chain (Let's Encrypt: fullchain.pem, not "
                   "cert.pem) and reload the server (kill -HUP).");
    }
    if (out->n == before)
        doctor_add(out, DOCTOR_OK, h, "TLS", "certificate for %s, valid until %s", c->names, day);
}

/* ---- the queue --------------------------------------------------------- */

void
doctor_check_queue(const struct doctor_env *env, const struct doctor_queue *q,
                   struct doctor_report *out)
{
    struct doctor_finding *f;
    const char *h = env->hostname;
    char age[32], life[32];
    enum doctor_status st;

    if (q->error) {
        f = doctor_add(out, DOCTOR_WARNING, h, "QUEUE", "could not read the queue: %s",
                       q->error);
        doctor_why(f, "Mail stuck in the queue would go unnoticed here.");
        doctor_fix(f, "Run postino doctor as root or as the server's user.");
        return;
    }
    if (q->messages == 0) {
        doctor_add(out, DOCTOR_OK, h, "QUEUE", "empty%s", q->running ? "" : " (the server is "
                   "not running)");
        return;
    }
    age_text(q->oldest_age, age, sizeof(age));
    st = q->oldest_age >= DOCTOR_QUEUE_PROBLEM_AGE ? DOCTOR_PROBLEM
       : q->oldest_age >= DOCTOR_QUEUE_WARN_AGE ? DOCTOR_WARNING : DOCTOR_OK;
    if (st == DOCTOR_OK) {
        doctor_add(out, DOCTOR_OK, h, "QUEUE", "%zu message%s waiting, the oldest for %s",
                   q->messages, q->messages == 1 ? "" : "s", age);
        return;
    }
    struct buf d = BUF_INIT;
    buf_printf(&d, "%zu message%s waiting, the oldest for %s", q->messages,
               q->messages == 1 ? "" : "s", age);
    if (q->running)         /* only the server knows the attempts and their errors */
        buf_printf(&d, ", %zu deferred", q->deferred);
    if (q->top_reason)
        buf_printf(&d, "; most common reason (%zu recipient%s): %s", q->top_count,
                   q->top_count == 1 ? "" : "s", q->top_reason);
    f = doctor_add(out, st, h, "QUEUE", "%s", buf_cstr(&d));
    buf_free(&d);
    age_text(q->lifetime, life, sizeof(life));
    doctor_why(f, "Mail that waits is late, and after max_queue_lifetime (%s) it bounces.",
               life);
    if (!q->running)
        doctor_fix(f, "Start the server (postino serve): it delivers only while it runs, and "
                   "its log says why mail waits.");
    else if (q->top_reason)
        doctor_fix(f, "Fix the cause named above, then try again at once: postino queue flush "
                   "(postino queue list shows every message).");
    else
        doctor_fix(f, "See postino queue list and the log for why, fix it, then: postino "
                   "queue flush.");
}
