/*
 * send - "postino send" (not yet: issue 8 is under way).
 */
#include <stdio.h>

#include "cli/cli.h"

int
cli_send(int argc, char **argv)
{
    (void)argc;
    fprintf(stderr, "postino %s: not available yet\n", argv[0]);
    return 2;
}
