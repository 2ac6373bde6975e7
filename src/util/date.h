/*
 * date - calendar arithmetic that the date parsers share (IMAP's
 * date-time and SEARCH dates, RFC 5322 Date: fields). Pure, no time zone
 * database: callers apply the zone offsets they parse.
 */
#ifndef POSTINO_UTIL_DATE_H
#define POSTINO_UTIL_DATE_H

#include <stdint.h>

/*
 * date_days_from_civil - the days from 1970-01-01 to the proleptic
 * Gregorian date y-m-d (m 1..12, d 1..31; negative before 1970), by H.
 * Hinnant's algorithm: exact for every year an int64_t day count holds.
 */
int64_t date_days_from_civil(int64_t y, int m, int d);

#endif
