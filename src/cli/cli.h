/*
 * cli - the verbs of the postino command.
 *
 * main() splits "postino VERB [words] [-c FILE] [-o key=value]..." in the
 * GNU style (options anywhere after the verb) and calls the verb with
 * its positional words.
 */
#ifndef POSTINO_CLI_CLI_H
#define POSTINO_CLI_CLI_H

#include <stdbool.h>
#include <stddef.h>

struct cli_args {
    const char *config;         /* -c FILE, or NULL */
    char      **overrides;      /* -o key=value ... */
    size_t      noverrides;
    char      **words;          /* positional words after the verb */
    size_t      nwords;
    bool        json;           /* --json (queue only) */
    const char *selector;       /* --selector S (dkim only), or NULL */
    const char *algorithm;      /* --algorithm A (dkim only), or NULL */
};

int cli_user(const struct cli_args *a);
int cli_check_config(const struct cli_args *a);
int cli_queue(const struct cli_args *a);
int cli_dkim(const struct cli_args *a);

/*
 * Verbs that read their own options (they have many, or, for sendmail,
 * the traditional ones): argv[0] is the verb's name ("doctor", "send",
 * "sendmail"); each takes -c FILE and -o key=value like the others.
 */
int cli_doctor(int argc, char **argv);
int cli_send(int argc, char **argv);
int cli_sendmail(int argc, char **argv);

/* doctor --connect (connect.c): cli_doctor calls it with its own argv */
int doctor_connect(int argc, char **argv);

#endif
