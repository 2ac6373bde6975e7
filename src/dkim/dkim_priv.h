/*
 * dkim_priv - what the files of src/dkim/ share, and what the unit tests
 * drive directly: the header fields of a message, canonicalisation
 * (RFC 6376 3.4), tag=value lists (3.2), base64 with folding white
 * space, and the key record (3.6.1). Not for other modules: use dkim.h.
 */
#ifndef POSTINO_DKIM_DKIM_PRIV_H
#define POSTINO_DKIM_DKIM_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>

#include "dkim/dkim.h"
#include "util/buf.h"

#define DKIM_TAGS_MAX   32      /* tags in one signature or key record */
#define DKIM_HNAMES_MAX 128     /* names in h= */
#define DKIM_SIG_MAX    1024    /* octets of b= (an 8192-bit RSA signature) */
#define DKIM_HASH_LEN   32      /* SHA-256 */

enum dkim_canon { DKIM_SIMPLE, DKIM_RELAXED };

/* ---- header fields (canon.c) ---------------------------------------- */

/*
 * One header field of a message: msg[off .. off+len) without its final
 * LF (continuation lines and their LFs included); the name is its first
 * nlen octets (white space before the colon not counted). nlen is 0 for
 * a line that is not a field (no colon): it is never selected.
 */
struct dkim_field {
    size_t off, len, nlen;
};

/*
 * dkim_fields - split the header section of msg[0..n) into fields (a new
 * array in *out, free() it; *count of them) and return the offset of the
 * body: one past the empty line, or n when there is none. Continuation
 * lines before the first field are ignored.
 */
size_t dkim_fields(const char *msg, size_t n, struct dkim_field **out, size_t *count);

/* A name in h=, or a field name: p[0..n). */
struct dkim_name {
    const char *p;
    size_t      n;
};

/* ---- canonicalisation (canon.c) -------------------------------------- */

/*
 * dkim_header_canon - append header field f[0..n) (no final LF) to out
 * in canonical form c, without the final CRLF. Simple: as is, each LF as
 * CRLF. Relaxed (3.4.2): name in lower case, unfolded, white space runs
 * as one SP, none at the end nor around the colon.
 */
void dkim_header_canon(const char *f, size_t n, enum dkim_canon c, struct buf *out);

/*
 * Where a canonicalised body goes: a digest and/or a buffer (tests),
 * through a small staging buffer. limit is l= (the octets passed on at
 * most; ~0ULL for all); total counts every octet of the canonical body.
 */
struct dkim_sink {
    EVP_MD_CTX        *md;      /* or NULL */
    struct buf        *out;     /* or NULL */
    unsigned long long limit;
    unsigned long long total;
    size_t             nstage;
    char               stage[4096];
};

void dkim_sink_init(struct dkim_sink *s, EVP_MD_CTX *md, struct buf *out, unsigned long long limit);
/* dkim_sink_flush - pass on what is staged; call once at the end */
void dkim_sink_flush(struct dkim_sink *s);

/*
 * dkim_body_canon - canonicalise body[0..n) (LF form) into s (3.4.3,
 * 3.4.4): trailing empty lines dropped; simple makes an empty body one
 * CRLF, relaxed keeps it empty; relaxed also reduces white space runs to
 * one SP and drops it at line ends. A last line without LF gets CRLF.
 */
void dkim_body_canon(const char *body, size_t n, enum dkim_canon c, struct dkim_sink *s);

/*
 * dkim_header_hash - the SHA-256 of what a signature signs over the
 * header (RFC 6376 3.7): for each name of h[0..nh), the last field of
 * that name not used yet (5.4.2; none: nothing), canonicalised, with
 * CRLF; then sigfield[0..siglen) (the signature field with an empty b=)
 * canonicalised, without CRLF. The field numbered skip (the signature
 * being verified; (size_t)-1 for none) is never selected. 0 or -1.
 */
int dkim_header_hash(const char *msg, const struct dkim_field *f, size_t nf, size_t skip,
                     const struct dkim_name *h, size_t nh, enum dkim_canon c,
                     const char *sigfield, size_t siglen, unsigned char digest[DKIM_HASH_LEN]);

/* ---- tag=value lists, base64, names (tags.c) ------------------------- */

/*
 * One tag of a list: its name, its value without the folding white space
 * around it, and where the raw value starts (just past "=") and ends
 * (before ";" or the end), as offsets into the parsed text.
 */
struct dkim_tag {
    const char *name;
    size_t      nlen;
    const char *val;
    size_t      vlen;
    size_t      raw_start, raw_end;
};

/*
 * dkim_tags_parse - parse the tag-list s[0..n) (RFC 6376 3.2) into
 * t[0..DKIM_TAGS_MAX), *nt of them. 0, or -1 with a short reason in err:
 * a tag without "=", a bad name, a control character, a repeated tag,
 * too many tags. A final ";" is allowed.
 */
int dkim_tags_parse(const char *s, size_t n, struct dkim_tag *t, size_t *nt,
                    char *err, size_t errlen);
/* dkim_tag_find - the tag called name (case-sensitive, 3.2), or NULL */
const struct dkim_tag *dkim_tag_find(const struct dkim_tag *t, size_t nt, const char *name);
/* dkim_tag_is - does tag t's value equal s (case-insensitive)? */
bool dkim_tag_is(const struct dkim_tag *t, const char *s);

/* dkim_is_fws - SP, HTAB, CR or LF: white space inside a tag list */
bool dkim_is_fws(char c);

/*
 * dkim_b64_decode - base64 (RFC 4648, padded, canonical) of s[0..n) with white space
 * anywhere ignored, into out (capacity cap). The length, or -1.
 */
long dkim_b64_decode(const char *s, size_t n, unsigned char *out, size_t cap);
/* dkim_b64_encode - a new NUL-terminated string; the caller frees it */
char *dkim_b64_encode(const unsigned char *p, size_t n);

/*
 * dkim_list_has - is word (any case) one of the colon-separated items of
 * s[0..n), white space around items ignored?
 */
bool dkim_list_has(const char *s, size_t n, const char *word);

/* dkim_name_ok - s[0..n) a DNS name by the rules of dkim_domain_ok */
bool dkim_name_ok(const char *s, size_t n);

/* dkim_lower - copy s[0..n) in lower case into out (n + 1 octets) */
void dkim_lower(const char *s, size_t n, char *out);

/* ---- key records (key.c) --------------------------------------------- */

/* A public key from a key record. */
struct dkim_pubkey {
    EVP_PKEY      *pkey;
    enum dkim_alg  alg;         /* k= */
    unsigned       bits;
    bool           testing;     /* t=y */
    bool           strict;      /* t=s: i= must be in d= itself */
};

/*
 * dkim_record_parse - the key record txt (3.6.1) for a signature of
 * algorithm alg: v= (first, "DKIM1"), h= allowing sha256, k= matching
 * alg (rsa by default), s= "*" or "email", p= (empty: revoked; RSA DER
 * SubjectPublicKeyInfo, or RSAPublicKey, of DKIM_RSA_MIN_BITS to 8192
 * bits; Ed25519 raw 32 octets). 0 with out->pkey set (EVP_PKEY_free it),
 * or -1 with a short reason.
 */
int dkim_record_parse(const char *txt, enum dkim_alg alg, struct dkim_pubkey *out,
                      char *reason, size_t rlen);

/* dkim_key_pkey - the EVP key of k */
EVP_PKEY *dkim_key_pkey(const struct dkim_key *k);

#endif
