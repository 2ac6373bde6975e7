/*
 * dkim - DomainKeys Identified Mail (RFC 6376): keys, signing and
 * verification, with the algorithms of RFC 8463 (ed25519-sha256) and
 * RFC 8301 (rsa-sha256 with keys of 1024 bits or more; rsa-sha1 is
 * refused when verifying and never produced).
 *
 * Pure modules over OpenSSL 3 (EVP): no network, no event loop, no
 * globals. The server fetches key records with its asynchronous resolver
 * and calls these functions on a worker thread; every function is safe
 * to call from several threads at once on different objects.
 *
 * Messages are in the queue's form: lines end in LF (no CR), then the
 * header section, an empty line and the body. Canonicalisation (RFC 6376
 * 3.4) treats each LF as CRLF; a CR is an ordinary octet (the queue has
 * none).
 *
 * Key files (postino dkim keygen; dkim_keys_for):
 *
 *   <data_dir>/dkim/                          0700
 *   <data_dir>/dkim/DOMAIN/                   0700, DOMAIN in lower case
 *   <data_dir>/dkim/DOMAIN/SELECTOR.ALG.pem   0600, ALG "rsa" or "ed25519";
 *                                             PEM (PKCS#8, or PKCS#1 for RSA)
 *
 * e.g. dkim/example.org/s202611.rsa.pem and dkim/example.org/e202611.ed25519.pem.
 * The algorithm in the name lets dkim_keys_for choose with readdir and
 * stat alone; loading checks that the key really is of that algorithm.
 * A selector names one DNS record, so it is used by one file of a domain
 * only, whatever its algorithm. Any other name in the folder is ignored:
 * renaming "s202511.rsa.pem" to "s202511.rsa.pem.old" retires a key.
 * The newest key of an algorithm (file modification time, then the
 * greater selector) is the one that signs. A key signs as soon as it
 * exists, before its record may be in the DNS; postino doctor reports a
 * key whose record is missing or different (dkim_key_matches_record()).
 *
 * l= (body length): a signature is verified over the l octets it covers,
 * as RFC 6376 3.5 says, but only a signature that covers the whole body
 * passes. When l= is shorter than the canonicalised body the result is
 * DKIM_NEUTRAL ("body longer than l=") even though the signed part is
 * intact: anyone could have appended text (or MIME parts) after the
 * signed octets. l= longer than the body is DKIM_FAIL. The result reports
 * l= and the body length so that the caller can note them. The signer
 * never writes l=.
 *
 * Time: x= (expiry) is checked against the caller's clock, with 300
 * seconds of leeway; x= not after t= is a permerror. A t= in the future
 * is accepted (RFC 6376 3.5 lets verifiers ignore such signatures; the
 * signer's clock being ahead says nothing about forgery).
 */
#ifndef POSTINO_DKIM_DKIM_H
#define POSTINO_DKIM_DKIM_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#define DKIM_NAME_MAX     253   /* a domain, a selector, the key record's name (RFC 1035) */
#define DKIM_AUID_MAX     320   /* i=: local part (64), "@", domain */
#define DKIM_REASON_MAX   96    /* a result's reason */
#define DKIM_VERIFY_MAX   8     /* DKIM-Signature fields checked per message */
#define DKIM_SIGNERS_MAX  2     /* keys per domain: one RSA, one Ed25519 */
#define DKIM_RSA_BITS     2048  /* generated RSA keys */
#define DKIM_RSA_MIN_BITS 1024  /* RFC 8301 3.2: smaller keys do not verify */

enum dkim_alg {
    DKIM_RSA_SHA256,        /* a=rsa-sha256, k=rsa */
    DKIM_ED25519_SHA256,    /* a=ed25519-sha256, k=ed25519 (RFC 8463) */
};

/* ---- keys -------------------------------------------------------------- */

struct dkim_key;            /* a private key (RSA >= 1024 bits, or Ed25519) */

/*
 * dkim_key_load - read a private key from a PEM file (PKCS#8, or PKCS#1
 * for RSA; not encrypted); the algorithm is that of the key. NULL with a
 * sentence in err when the file cannot be read, is not such a key, or is
 * an RSA key under DKIM_RSA_MIN_BITS. Free with dkim_key_free().
 */
struct dkim_key *dkim_key_load(const char *path, char *err, size_t errlen);
/* dkim_key_from_pem - the same from pem[0..n) in memory */
struct dkim_key *dkim_key_from_pem(const char *pem, size_t n, char *err, size_t errlen);
/*
 * dkim_key_generate - a new key: RSA of bits bits (0: DKIM_RSA_BITS;
 * 1024 to 8192) or Ed25519 (bits ignored). NULL with a sentence in err.
 */
struct dkim_key *dkim_key_generate(enum dkim_alg alg, unsigned bits, char *err, size_t errlen);
/*
 * dkim_key_save - write k as PKCS#8 PEM to a new file path, mode 0600
 * (O_EXCL: an existing file, or a symbolic link, is never overwritten),
 * synced. 0, or -1 with a sentence in err (nothing is left behind).
 */
int dkim_key_save(const struct dkim_key *k, const char *path, char *err, size_t errlen);
void dkim_key_free(struct dkim_key *k);
enum dkim_alg dkim_key_alg(const struct dkim_key *k);
/* dkim_key_bits - the size of the key in bits (256 for Ed25519) */
unsigned dkim_key_bits(const struct dkim_key *k);
/* dkim_alg_name - "rsa-sha256" or "ed25519-sha256" (a=) */
const char *dkim_alg_name(enum dkim_alg alg);
/* dkim_key_type - "rsa" or "ed25519" (k=, and the key file's ALG) */
const char *dkim_key_type(enum dkim_alg alg);

/*
 * dkim_key_txt - the key record to publish (RFC 6376 3.6.1): "v=DKIM1;
 * k=rsa; p=<SubjectPublicKeyInfo in base64>" or "v=DKIM1; k=ed25519;
 * p=<the raw 32-octet public key in base64>" (RFC 8463 4.2). A new
 * string; the caller frees it.
 */
char *dkim_key_txt(const struct dkim_key *k);
/*
 * dkim_zone_line - the zone-file line of that record:
 *   SELECTOR._domainkey.DOMAIN. IN TXT ( "..." "..." )
 * the TXT value split into quoted strings of at most 255 characters
 * (RFC 1035 3.3: one character-string holds 255 octets; the strings of
 * a record are joined, RFC 6376 3.6.2.2). A new string, no newline; NULL
 * when the name would be longer than DKIM_NAME_MAX.
 */
char *dkim_zone_line(const char *selector, const char *domain, const char *txt);
/*
 * dkim_key_matches_record - is txt (the record found at the selector's
 * name) a usable DKIM key record holding k's public key?
 */
bool dkim_key_matches_record(const struct dkim_key *k, const char *txt);

/* ---- signing ----------------------------------------------------------- */

/*
 * dkim_sign - sign msg[0..n) (queue form) for domain with selector and
 * key, at time now. Returns the whole header field to put in front of
 * the message, "DKIM-Signature: v=1; a=...; ...; b=...\n", folded at 78
 * columns with LF and a tab (a new string; the caller frees it). The
 * signature has c=relaxed/relaxed, t=now, no l= and no x=; h= names each
 * field present of the set of RFC 6376 5.4.1 (from, sender, reply-to,
 * subject, date, message-id, to, cc, mime-version, content-*, in-reply-
 * to, references, resent-*, list-*), as many times as it is present,
 * and "from" once more, so that no From can be added (5.4.2). NULL with a
 * sentence in err when the message has no From field, domain or selector
 * is not a DNS name, or the key fails.
 */
char *dkim_sign(const char *msg, size_t n, const struct dkim_key *key, const char *domain,
                const char *selector, time_t now, char *err, size_t errlen);

/* ---- verification ------------------------------------------------------ */

enum dkim_status {
    DKIM_PASS,
    DKIM_FAIL,          /* body hash or signature does not match; l= past the body */
    DKIM_NEUTRAL,       /* the signed part is intact, but the body goes on after l= */
    DKIM_TEMPERROR,     /* the key record could not be fetched now; or never answered */
    DKIM_PERMERROR,     /* the signature or its key record cannot be used */
};

/* What the DNS said about a key record's name (TXT). */
enum dkim_dns {
    DKIM_DNS_OK,        /* records found */
    DKIM_DNS_NOKEY,     /* NXDOMAIN, or no TXT record at the name: permerror "no key" */
    DKIM_DNS_TEMPFAIL,  /* SERVFAIL, timeout: temperror */
};

/* The outcome of one signature, for logs and Authentication-Results. */
struct dkim_result {
    enum dkim_status   status;
    char               domain[DKIM_NAME_MAX + 1];   /* d=, lower case; "" if unusable */
    char               selector[DKIM_NAME_MAX + 1]; /* s=; "" if unusable */
    char               auid[DKIM_AUID_MAX + 1];     /* i=, or "@" d= by default; "" if unusable */
    char               algorithm[16];               /* a= (printable ASCII, cut); "" if none */
    char               b8[9];                       /* first 8 characters of b= (RFC 6008) */
    char               reason[DKIM_REASON_MAX + 1]; /* short, printable; "" for a pass */
    unsigned           key_bits;                    /* of the key used; 0 when none */
    bool               testing;                     /* the key record has t=y */
    bool               has_l;                       /* the signature has l= ... */
    unsigned long long l;                           /* ... of this value (saturated) */
    unsigned long long body_len;                    /* canonicalised body octets (c= body) */
};

struct dkim_verify;

/*
 * dkim_verify_new - step one, no DNS: find the DKIM-Signature fields of
 * msg[0..n) (queue form; at most DKIM_VERIFY_MAX, from the top), parse
 * each, and hash what each signs (body and header fields), so that msg
 * is not needed afterwards. now is the time for x= (expiry, with 300
 * seconds of leeway). Never NULL; free with dkim_verify_free().
 */
struct dkim_verify *dkim_verify_new(const char *msg, size_t n, time_t now);
/* dkim_verify_count - the signatures checked (0: the message is not signed) */
size_t dkim_verify_count(const struct dkim_verify *v);
/* dkim_verify_skipped - DKIM-Signature fields left unchecked past DKIM_VERIFY_MAX */
size_t dkim_verify_skipped(const struct dkim_verify *v);
/*
 * dkim_verify_query - the TXT name to look up for signature i,
 * "SELECTOR._domainkey.DOMAIN" (no final dot), or NULL when its result is
 * settled already (a permerror of the signature itself, or answered).
 */
const char *dkim_verify_query(const struct dkim_verify *v, size_t i);
/*
 * dkim_verify_answer - step two: what the DNS said for signature i;
 * txt[0..ntxt) are the TXT records at the name, each with its strings
 * joined (for DKIM_DNS_OK). Settles the result of signature i: checks the
 * key record (RFC 6376 3.6.1: v=, k= against a=, h=, s=, t=s, p= empty
 * for a revoked key, RSA of 1024 bits or more, Ed25519 of 32 octets),
 * then the body hash, then the signature. With several records, the
 * first that passes wins, else the first one's result counts (RFC 6376
 * 3.6.2.2 leaves that case undefined). Ignored for a settled signature.
 */
void dkim_verify_answer(struct dkim_verify *v, size_t i, enum dkim_dns st,
                        char *const *txt, size_t ntxt);
/*
 * dkim_verify_result - the result of signature i (0 <= i < count); one
 * not yet answered is DKIM_TEMPERROR "key not looked up". Valid until
 * dkim_verify_free().
 */
const struct dkim_result *dkim_verify_result(const struct dkim_verify *v, size_t i);
/* dkim_verify_free - NULL is fine */
void dkim_verify_free(struct dkim_verify *v);
/* dkim_status_name - "pass", "fail", "neutral", "temperror", "permerror" (RFC 8601) */
const char *dkim_status_name(enum dkim_status st);

/* ---- key files --------------------------------------------------------- */

/* A key that signs for a domain, from the key files. */
struct dkim_signer {
    char             domain[DKIM_NAME_MAX + 1];     /* lower case */
    char             selector[DKIM_NAME_MAX + 1];
    struct dkim_key *key;
};

/*
 * dkim_keys_for - the keys to sign with for domain (any case): the
 * newest of each algorithm under <data_dir>/dkim/<domain>/, RSA first.
 * Returns how many were put in out (0 to DKIM_SIGNERS_MAX; 0 for a
 * domain with no folder, or a name that is not a domain); err is "" or a
 * sentence about a key file that could not be used (the caller logs it;
 * the keys returned are good). Free with dkim_signers_free().
 */
size_t dkim_keys_for(const char *data_dir, const char *domain,
                     struct dkim_signer out[DKIM_SIGNERS_MAX], char *err, size_t errlen);
void dkim_signers_free(struct dkim_signer *v, size_t n);

/* One key file, as dkim_store_list finds it. */
struct dkim_entry {
    char           domain[DKIM_NAME_MAX + 1];
    char           selector[DKIM_NAME_MAX + 1];
    enum dkim_alg  alg;         /* from the file name */
    time_t         mtime;
    bool           newest;      /* the one of its domain and algorithm that signs */
    char          *path;
};

/*
 * dkim_store_list - the key files of domain, or of every domain when
 * domain is NULL, sorted by domain, then newest first. 0 (*v NULL and *n
 * 0 when there are none, or no dkim folder), or -1 with a sentence in err
 * when a folder cannot be read. Free with dkim_entries_free().
 */
int dkim_store_list(const char *data_dir, const char *domain, struct dkim_entry **v,
                    size_t *n, char *err, size_t errlen);
void dkim_entries_free(struct dkim_entry *v, size_t n);

/*
 * dkim_store_keygen - make a key for domain and write it into its file,
 * creating the folders (0700). selector NULL: the dated default of now
 * (UTC), "sYYYYMM" for RSA and "eYYYYMM" for Ed25519, with "b", "c" ...
 * appended while that one is taken. A selector already used by a key
 * file of the domain (of either algorithm) is refused. On success
 * returns the key (the caller frees it) and the selector used in
 * sel_out (DKIM_NAME_MAX + 1 octets); NULL with a sentence in err.
 */
struct dkim_key *dkim_store_keygen(const char *data_dir, const char *domain, const char *selector,
                                   enum dkim_alg alg, time_t now,
                                   char sel_out[DKIM_NAME_MAX + 1], char *err, size_t errlen);

/*
 * dkim_domain_ok / dkim_selector_ok - is s a name we sign with or look
 * up: dot-separated labels of letters, digits, "-" and "_" (1 to 63
 * octets each, none starting or ending with "-"), at most DKIM_NAME_MAX
 * in all, no final dot.
 */
bool dkim_domain_ok(const char *s);
bool dkim_selector_ok(const char *s);

#endif
