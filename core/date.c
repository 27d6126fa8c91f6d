/* date.c — the calendar arithmetic and date formats of mc-date.h. */
#include <string.h>
#include <time.h>

#include "mc-date.h"
#include "mc-error.h"

int64_t mc_days_from_civil(int64_t y, unsigned m, unsigned d)
{
	/* Count in eras of 400 years (146,097 days) from 0000-03-01, so that
	 * the leap day ends the year and one formula serves every month. */
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;                                           /* 0..399 */
	doy = (153 * (int64_t)(m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0..365 */
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;                   /* 0..146096 */
	return era * 146097 + doe - 719468;  /* 719,468 days from 0000-03-01 to 1970-01-01 */
}

int mc_date_valid(int y, int m, int d)
{
	static const unsigned char mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	int dim;

	if (y < 1 || m < 1 || m > 12 || d < 1)
		return 0;
	dim = mdays[m - 1] + (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0));
	return d <= dim;
}

/* n decimal digits at s as a number, or -1 if one is not a digit. */
static int digits(const char *s, int n)
{
	int v = 0;

	while (n--) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s++ - '0');
	}
	return v;
}

static int to_secs(int y, int mo, int d, int h, int mi, int sec, int64_t *ret)
{
	if (y < 0 || mo < 0 || d < 0 || h < 0 || mi < 0 || sec < 0 || !mc_date_valid(y, mo, d) ||
	    h > 23 || mi > 59 || sec > 59)
		return MC_E_PARSE;
	*ret = mc_days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + sec;
	return 0;
}

int mc_datestamp_parse(const char *s, int64_t *ret)
{
	size_t n;

	if (!s)
		return MC_E_PARSE;
	n = strlen(s);
	if (n != 10 && n != 20)
		return MC_E_PARSE;
	if (s[4] != '-' || s[7] != '-')
		return MC_E_PARSE;
	if (n == 20 && (s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != 'Z'))
		return MC_E_PARSE;
	return to_secs(digits(s, 4), digits(s + 5, 2), digits(s + 8, 2), n == 20 ? digits(s + 11, 2) : 0,
		       n == 20 ? digits(s + 14, 2) : 0, n == 20 ? digits(s + 17, 2) : 0, ret);
}

int mc_marc005_parse(const char *s, size_t len, int64_t *ret)
{
	if (len < 14 || (len > 14 && s[14] != '.'))
		return MC_E_PARSE;
	return to_secs(digits(s, 4), digits(s + 4, 2), digits(s + 6, 2), digits(s + 8, 2),
		       digits(s + 10, 2), digits(s + 12, 2), ret);
}

int mc_date_format(int64_t t, enum mc_date_form form, char *buf, size_t bufsz)
{
	time_t tt = (time_t)t;
	struct tm tm;
	size_t n;

	if (bufsz)
		buf[0] = '\0';
	if ((int64_t)tt != t || !gmtime_r(&tt, &tm))
		return MC_E_PARSE;
	/* literal formats, so that the compiler checks them */
	switch (form) {
	case MC_DATE_SECONDS:
		n = strftime(buf, bufsz, "%Y-%m-%dT%H:%M:%SZ", &tm);
		break;
	case MC_DATE_DAY:
		n = strftime(buf, bufsz, "%Y-%m-%d", &tm);
		break;
	case MC_DATE_COMPACT:
		n = strftime(buf, bufsz, "%Y%m%dT%H%M%SZ", &tm);
		break;
	default:
		return MC_E_PARSE;
	}
	if (!n) {
		if (bufsz)
			buf[0] = '\0';
		return MC_E_TOOBIG;
	}
	return 0;
}

void mc_time_iso(int64_t secs, char out[MC_DATE_BUFSZ])
{
	mc_date_format(secs, MC_DATE_SECONDS, out, MC_DATE_BUFSZ);
}

double mc_time_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
