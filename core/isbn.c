/* isbn.c — ISBN and ISSN recognition and check digits.
 *
 * Catalogue data writes standard numbers in many ways: "ISBN 978-604-2-12345-6
 * (bìa mềm)", "0879832355 (pbk.) :", "urn:isbn:90-9014980-5", "ISSN 1064-3923".
 * These functions find the number at the start of the text (after an optional
 * "ISBN"/"ISSN"/"urn:isbn:"/"urn:issn:" prefix), verify its check digit and
 * write one canonical form. Anything after the number must be separated from
 * it (space, parenthesis, ISBD punctuation) and is ignored as a qualifier. */
#include <stddef.h>
#include <string.h>

#include "mc-error.h"
#include "mc-extract.h"

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/* Case-insensitive ASCII prefix test. */
static int has_prefix(const char *s, size_t len, const char *pre)
{
	size_t n = strlen(pre), i;

	if (len < n)
		return 0;
	for (i = 0; i < n; i++)
		if (lower((unsigned char)s[i]) != pre[i])
			return 0;
	return 1;
}

/* Skip leading space and an optional label: "urn:<kind>:", "<KIND>",
 * "<KIND>-10", "<KIND>-13", "<KIND>:" (kind is "isbn" or "issn", lower case).
 * Returns the offset of the first character after the label. */
static size_t skip_label(const char *s, size_t len, const char *kind)
{
	size_t i = 0, k = strlen(kind);
	char urn[16];

	while (i < len && is_space(s[i]))
		i++;
	memcpy(urn, "urn:", 4);
	memcpy(urn + 4, kind, k);
	urn[4 + k] = ':';
	urn[5 + k] = '\0';
	if (has_prefix(s + i, len - i, urn))
		return i + 5 + k;
	if (has_prefix(s + i, len - i, kind)) {
		i += k;
		if (len - i >= 3 && s[i] == '-' && s[i + 1] == '1' && (s[i + 2] == '0' || s[i + 2] == '3'))
			i += 3;
		if (i < len && s[i] == ':')
			i++;
		while (i < len && is_space(s[i]))
			i++;
	}
	return i;
}

/* What may follow a standard number: the end, or a separator before a
 * qualifier ("(pbk.)", " : $4.95", "; v. 2"). A letter or digit glued to the
 * number means it was something else. */
static int end_ok(const char *s, size_t len, size_t i)
{
	if (i >= len)
		return 1;
	return is_space(s[i]) || strchr("(:;,./]", s[i]) != NULL;
}

/* Collect up to max digits (X allowed as the last one when x_last) with
 * hyphens or spaces (at most three in a row) between them. Returns the number of digits, or
 * -1 when the number is malformed (too long, X in the middle, dangling
 * hyphen). *endp = offset after the last digit. */
static int collect_digits(const char *s, size_t len, size_t i, char *d, int max, int x_last,
			  size_t *endp)
{
	int n = 0;

	while (i < len) {
		char c = s[i];

		if (c >= '0' && c <= '9') {
			if (n >= max)
				return -1;
			d[n++] = c;
			i++;
		} else if ((c == 'X' || c == 'x') && x_last) {
			if (n >= max)
				return -1;
			d[n++] = 'X';
			i++;
			break;  /* X is always the check digit: nothing may follow */
		} else if ((c == '-' || c == ' ') && n > 0) {
			/* "0-306", "0 306", and "90 - 5892" as some repositories
			 * write it: up to three separators before the next digit. */
			size_t k = i;

			while (k < len && k - i < 3 && (s[k] == '-' || s[k] == ' '))
				k++;
			if (k >= len || !((s[k] >= '0' && s[k] <= '9') || s[k] == 'X' || s[k] == 'x'))
				break;
			i = k;
		} else {
			break;
		}
	}
	*endp = i;
	return n;
}

static int isbn10_ok(const char *d)
{
	int sum = 0, i;

	for (i = 0; i < 10; i++) {
		int v;

		if (d[i] == 'X') {
			if (i != 9)
				return 0;
			v = 10;
		} else {
			v = d[i] - '0';
		}
		sum += (10 - i) * v;
	}
	return sum % 11 == 0;
}

static char isbn13_check(const char *d)
{
	int sum = 0, i;

	for (i = 0; i < 12; i++)
		sum += (d[i] - '0') * (i % 2 ? 3 : 1);
	return (char)('0' + (10 - sum % 10) % 10);
}

static int all_digits(const char *d, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (d[i] < '0' || d[i] > '9')
			return 0;
	return 1;
}

int mc_isbn_normalise(const char *in, size_t len, char out13[14])
{
	char d[13];
	size_t i, end;
	int n;

	if (!in)
		return MC_E_PARSE;
	i = skip_label(in, len, "isbn");
	n = collect_digits(in, len, i, d, 13, 1, &end);
	if (n < 0 || !end_ok(in, len, end))
		return MC_E_PARSE;
	if (n == 10) {
		if (!all_digits(d, 9) || !isbn10_ok(d))
			return MC_E_PARSE;
		memcpy(out13, "978", 3);
		memcpy(out13 + 3, d, 9);
		out13[12] = isbn13_check(out13);
		out13[13] = '\0';
		return 0;
	}
	if (n == 13) {
		if (!all_digits(d, 13) || memcmp(d, "97", 2) != 0 || (d[2] != '8' && d[2] != '9') ||
		    isbn13_check(d) != d[12])
			return MC_E_PARSE;
		memcpy(out13, d, 13);
		out13[13] = '\0';
		return 0;
	}
	return MC_E_PARSE;
}

/* 13 digits with prefix 978 and a correct check digit to the ISBN-10 in
 * the caller's out10 (NUL-terminated). 0 or MC_E_PARSE (979 has no ISBN-10). */
int mc_isbn13_to_10(const char in13[13], char out10[11])
{
	int sum = 0, i, c;

	if (!in13 || !all_digits(in13, 13) || memcmp(in13, "978", 3) != 0 ||
	    isbn13_check(in13) != in13[12])
		return MC_E_PARSE;
	for (i = 0; i < 9; i++)
		sum += (10 - i) * (in13[3 + i] - '0');
	c = (11 - sum % 11) % 11;
	memcpy(out10, in13 + 3, 9);
	out10[9] = (char)(c == 10 ? 'X' : '0' + c);
	out10[10] = '\0';
	return 0;
}

int mc_issn_normalise(const char *in, size_t len, char out[10])
{
	char d[8];
	size_t i, end;
	int n = 0, sum = 0, c, k;

	if (!in)
		return MC_E_PARSE;
	i = skip_label(in, len, "issn");
	/* Exactly NNNN-NNNC (or NNNN NNNC, or NNNNNNNC); no other grouping. */
	while (i < len && n < 8) {
		char ch = in[i];

		if (ch >= '0' && ch <= '9') {
			d[n++] = ch;
			i++;
		} else if ((ch == 'X' || ch == 'x') && n == 7) {
			d[n++] = 'X';
			i++;
		} else if ((ch == '-' || ch == ' ') && n == 4) {
			i++;
			if (i < len && (in[i] == '-' || in[i] == ' '))
				return MC_E_PARSE;
		} else {
			break;
		}
	}
	end = i;
	if (n != 8 || !end_ok(in, len, end) || (end < len && in[end] >= '0' && in[end] <= '9'))
		return MC_E_PARSE;
	for (k = 0; k < 7; k++)
		sum += (8 - k) * (d[k] - '0');
	c = (11 - sum % 11) % 11;
	if ((c == 10 ? 'X' : '0' + c) != d[7])
		return MC_E_PARSE;
	memcpy(out, d, 4);
	out[4] = '-';
	memcpy(out + 5, d + 4, 4);
	out[9] = '\0';
	return 0;
}
