/*
 * date - calendar arithmetic; see date.h.
 */
#include "util/date.h"

int64_t
date_days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;                        /* the year starts in March here */
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;                /* [0, 399] */
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}
