/* dates.c — OAI-PMH datestamps and MARC 005 values to seconds since the
 * epoch. (core/date.c, being written at the same time, holds these too:
 * when both are merged this file goes.) */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ingest.h"

static int two(const char *s)
{
	if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
		return -1;
	return (s[0] - '0') * 10 + (s[1] - '0');
}

/* OAI-PMH datestamp, strictly "YYYY-MM-DD" or "YYYY-MM-DDThh:mm:ssZ" (UTC),
 * to seconds since the epoch. 0 or MC_E_PARSE; *ret set only on success. */
int mc_datestamp_parse(const char *s, int64_t *ret)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	struct tm tm;
	size_t n;
	int y1, y2, y, mo, d, h = 0, mi = 0, sec = 0, dim;
	time_t t;

	if (!s)
		return MC_E_PARSE;
	n = strlen(s);
	if (n != 10 && n != 20)
		return MC_E_PARSE;
	y1 = two(s);
	y2 = two(s + 2);
	mo = two(s + 5);
	d = two(s + 8);
	if (y1 < 0 || y2 < 0 || mo < 0 || d < 0 || s[4] != '-' || s[7] != '-')
		return MC_E_PARSE;
	y = y1 * 100 + y2;
	if (n == 20) {
		h = two(s + 11);
		mi = two(s + 14);
		sec = two(s + 17);
		if (s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z' || h < 0 || mi < 0 ||
		    sec < 0)
			return MC_E_PARSE;
	}
	if (y < 1 || mo < 1 || mo > 12 || h > 23 || mi > 59 || sec > 59)
		return MC_E_PARSE;
	dim = mdays[mo - 1] + (mo == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
	if (d < 1 || d > dim)
		return MC_E_PARSE;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	*ret = (int64_t)t;
	return 0;
}

int mc_marc005_parse(const char *s, size_t len, int64_t *ret)
{
	char iso[21];
	size_t i;

	if (len < 14 || (len > 14 && s[14] != '.'))
		return MC_E_PARSE;
	for (i = 0; i < 14; i++)
		if (s[i] < '0' || s[i] > '9')
			return MC_E_PARSE;
	/* yyyymmddhhmmss -> yyyy-mm-ddThh:mm:ssZ, checked by the OAI datestamp parser */
	snprintf(iso, sizeof(iso), "%.4s-%.2s-%.2sT%.2s:%.2s:%.2sZ", s, s + 4, s + 6, s + 8, s + 10,
		 s + 12);
	return mc_datestamp_parse(iso, ret);
}
