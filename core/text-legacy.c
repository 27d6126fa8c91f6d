/* text-legacy.c — the 8-bit encodings Vietnamese and European catalogues
 * arrive in, both directions, and the detection that picks one.
 *
 * Tables are written here (no converter for VNI ships in Debian, and glibc's
 * TCVN5712-1 is VN1, not the VN3 of the "ABC" fonts); tests/unit/test-text.c
 * checks them against glibc iconv where glibc has the encoding.
 *
 * TCVN3 (TCVN 5712:1993 VN3): 0xA1-0xAE hold Ă Â Ê Ô Ơ Ư Đ ă â ê ô ơ ư đ and
 * 0xB5-0xFE the lowercase letters with tones, at the same bytes as VN1.
 * Capitals with tones have no code: the ".VnTimeH" fonts draw the lowercase
 * codes as capitals. Decoding therefore gives lowercase, except inside a word
 * that has no lowercase ASCII letter and at least two capitals ("TR\xad\xeaNG"),
 * which is taken as typed in a capitals font and decoded as "TRƯỜNG".
 * Encoding a capital with a tone fails (MC_E_ENCODING). 0x80-0x9F carry the
 * Windows-1252 punctuation the fonts keep there; the other bytes VN3 leaves
 * free (0xAF-0xB4, 0xBA, 0xBF-0xC5, 0xCD, 0xD9-0xDB, 0xE0, 0xF0, 0xFF) are
 * errors.
 *
 * VNI (VNI-Windows): an ASCII base letter followed by a diacritic byte
 * (0xF9 sắc, 0xF8 huyền, 0xFB hỏi, 0xF5 ngã, 0xEF nặng, 0xE2 circumflex,
 * 0xEA breve, and circumflex/breve combined with a tone), single bytes for
 * ơ ư đ and the toned i and ỵ; capitals use the same bytes minus 0x20.
 * Bytes VNI does not use keep their Windows-1252 meaning. Decoding maps each
 * byte to its marks and composes to NFC.
 *
 * Windows-1258: Windows-1252 with Ă Đ Ơ Ư ă đ ơ ư ₫ and five combining tone
 * marks (0xCC 0xEC 0xDE 0xD2 0xF2); encoding uses a precomposed byte when
 * there is one, else the base letter and a tone mark (as Windows and glibc do).
 *
 * Latin-1 is read as Windows-1252, its superset (0x80-0x9F hold punctuation
 * in practice; the five bytes 1252 leaves free stay C1 controls).
 * MARC-8 goes through libyaz. */
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <unicode/uchar.h>
#include <unicode/unorm2.h>
#include <yaz/yaz-iconv.h>

#include "mc-error.h"
#include "mc-text.h"
#include "text-internal.h"

/* ---- Vietnamese letters ---- */

struct vn_letter {
	uint16_t cp;
	uint8_t base, tone, upper;
};

/* Sorted by code point. */
static const struct vn_letter vn_letters[] = {
	{0x0041,0,0,1},{0x0045,3,0,1},{0x0049,5,0,1},{0x004F,6,0,1},{0x0055,9,0,1},{0x0059,11,0,1},
	{0x0061,0,0,0},{0x0065,3,0,0},{0x0069,5,0,0},{0x006F,6,0,0},{0x0075,9,0,0},{0x0079,11,0,0},
	{0x00C0,0,1,1},{0x00C1,0,4,1},{0x00C2,2,0,1},{0x00C3,0,3,1},{0x00C8,3,1,1},{0x00C9,3,4,1},
	{0x00CA,4,0,1},{0x00CC,5,1,1},{0x00CD,5,4,1},{0x00D2,6,1,1},{0x00D3,6,4,1},{0x00D4,7,0,1},
	{0x00D5,6,3,1},{0x00D9,9,1,1},{0x00DA,9,4,1},{0x00DD,11,4,1},{0x00E0,0,1,0},{0x00E1,0,4,0},
	{0x00E2,2,0,0},{0x00E3,0,3,0},{0x00E8,3,1,0},{0x00E9,3,4,0},{0x00EA,4,0,0},{0x00EC,5,1,0},
	{0x00ED,5,4,0},{0x00F2,6,1,0},{0x00F3,6,4,0},{0x00F4,7,0,0},{0x00F5,6,3,0},{0x00F9,9,1,0},
	{0x00FA,9,4,0},{0x00FD,11,4,0},{0x0102,1,0,1},{0x0103,1,0,0},{0x0110,12,0,1},{0x0111,12,0,0},
	{0x0128,5,3,1},{0x0129,5,3,0},{0x0168,9,3,1},{0x0169,9,3,0},{0x01A0,8,0,1},{0x01A1,8,0,0},
	{0x01AF,10,0,1},{0x01B0,10,0,0},{0x1EA0,0,5,1},{0x1EA1,0,5,0},{0x1EA2,0,2,1},{0x1EA3,0,2,0},
	{0x1EA4,2,4,1},{0x1EA5,2,4,0},{0x1EA6,2,1,1},{0x1EA7,2,1,0},{0x1EA8,2,2,1},{0x1EA9,2,2,0},
	{0x1EAA,2,3,1},{0x1EAB,2,3,0},{0x1EAC,2,5,1},{0x1EAD,2,5,0},{0x1EAE,1,4,1},{0x1EAF,1,4,0},
	{0x1EB0,1,1,1},{0x1EB1,1,1,0},{0x1EB2,1,2,1},{0x1EB3,1,2,0},{0x1EB4,1,3,1},{0x1EB5,1,3,0},
	{0x1EB6,1,5,1},{0x1EB7,1,5,0},{0x1EB8,3,5,1},{0x1EB9,3,5,0},{0x1EBA,3,2,1},{0x1EBB,3,2,0},
	{0x1EBC,3,3,1},{0x1EBD,3,3,0},{0x1EBE,4,4,1},{0x1EBF,4,4,0},{0x1EC0,4,1,1},{0x1EC1,4,1,0},
	{0x1EC2,4,2,1},{0x1EC3,4,2,0},{0x1EC4,4,3,1},{0x1EC5,4,3,0},{0x1EC6,4,5,1},{0x1EC7,4,5,0},
	{0x1EC8,5,2,1},{0x1EC9,5,2,0},{0x1ECA,5,5,1},{0x1ECB,5,5,0},{0x1ECC,6,5,1},{0x1ECD,6,5,0},
	{0x1ECE,6,2,1},{0x1ECF,6,2,0},{0x1ED0,7,4,1},{0x1ED1,7,4,0},{0x1ED2,7,1,1},{0x1ED3,7,1,0},
	{0x1ED4,7,2,1},{0x1ED5,7,2,0},{0x1ED6,7,3,1},{0x1ED7,7,3,0},{0x1ED8,7,5,1},{0x1ED9,7,5,0},
	{0x1EDA,8,4,1},{0x1EDB,8,4,0},{0x1EDC,8,1,1},{0x1EDD,8,1,0},{0x1EDE,8,2,1},{0x1EDF,8,2,0},
	{0x1EE0,8,3,1},{0x1EE1,8,3,0},{0x1EE2,8,5,1},{0x1EE3,8,5,0},{0x1EE4,9,5,1},{0x1EE5,9,5,0},
	{0x1EE6,9,2,1},{0x1EE7,9,2,0},{0x1EE8,10,4,1},{0x1EE9,10,4,0},{0x1EEA,10,1,1},{0x1EEB,10,1,0},
	{0x1EEC,10,2,1},{0x1EED,10,2,0},{0x1EEE,10,3,1},{0x1EEF,10,3,0},{0x1EF0,10,5,1},{0x1EF1,10,5,0},
	{0x1EF2,11,1,1},{0x1EF3,11,1,0},{0x1EF4,11,5,1},{0x1EF5,11,5,0},{0x1EF6,11,2,1},{0x1EF7,11,2,0},
	{0x1EF8,11,3,1},{0x1EF9,11,3,0},
};

int mci_text_vn_lookup(uint32_t cp, struct mci_text_vn *ret)
{
	size_t lo = 0, hi = sizeof(vn_letters) / sizeof(vn_letters[0]);

	if (cp < 0x41 || cp > 0x1EF9)
		return 0;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (vn_letters[mid].cp == cp) {
			ret->base = vn_letters[mid].base;
			ret->tone = vn_letters[mid].tone;
			ret->upper = vn_letters[mid].upper;
			return 1;
		}
		if (vn_letters[mid].cp < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

uint32_t mci_text_vn_compose(unsigned base, unsigned tone, int upper)
{
	size_t i;

	for (i = 0; i < sizeof(vn_letters) / sizeof(vn_letters[0]); i++)
		if (vn_letters[i].base == base && vn_letters[i].tone == tone &&
		    vn_letters[i].upper == !!upper)
			return vn_letters[i].cp;
	return 0;
}

/* Letters only Vietnamese uses (in this context): ơ ư, ĩ ũ and U+1EA0-U+1EF9. */
static int vn_specific(uint32_t cp)
{
	return (cp >= 0x1EA0 && cp <= 0x1EF9) || cp == 0x1A0 || cp == 0x1A1 || cp == 0x1AF ||
	       cp == 0x1B0 || cp == 0x128 || cp == 0x129 || cp == 0x168 || cp == 0x169;
}

/* ---- byte tables: code points for 0x80-0xFF (0 = no meaning) ---- */

static const uint16_t tcvn3_hi[128] = {
	0x20AC, 0x0000, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,  /* 80 */
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x0000, 0x017D, 0x0000,  /* 88 */
	0x0000, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,  /* 90 */
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x0000, 0x017E, 0x0178,  /* 98 */
	0x00A0, 0x0102, 0x00C2, 0x00CA, 0x00D4, 0x01A0, 0x01AF, 0x0110,  /* A0 */
	0x0103, 0x00E2, 0x00EA, 0x00F4, 0x01A1, 0x01B0, 0x0111, 0x0000,  /* A8 */
	0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x00E0, 0x1EA3, 0x00E3,  /* B0 */
	0x00E1, 0x1EA1, 0x0000, 0x1EB1, 0x1EB3, 0x1EB5, 0x1EAF, 0x0000,  /* B8 */
	0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x0000, 0x1EB7, 0x1EA7,  /* C0 */
	0x1EA9, 0x1EAB, 0x1EA5, 0x1EAD, 0x00E8, 0x0000, 0x1EBB, 0x1EBD,  /* C8 */
	0x00E9, 0x1EB9, 0x1EC1, 0x1EC3, 0x1EC5, 0x1EBF, 0x1EC7, 0x00EC,  /* D0 */
	0x1EC9, 0x0000, 0x0000, 0x0000, 0x0129, 0x00ED, 0x1ECB, 0x00F2,  /* D8 */
	0x0000, 0x1ECF, 0x00F5, 0x00F3, 0x1ECD, 0x1ED3, 0x1ED5, 0x1ED7,  /* E0 */
	0x1ED1, 0x1ED9, 0x1EDD, 0x1EDF, 0x1EE1, 0x1EDB, 0x1EE3, 0x00F9,  /* E8 */
	0x0000, 0x1EE7, 0x0169, 0x00FA, 0x1EE5, 0x1EEB, 0x1EED, 0x1EEF,  /* F0 */
	0x1EE9, 0x1EF1, 0x1EF3, 0x1EF7, 0x1EF9, 0x00FD, 0x1EF5, 0x0000,  /* F8 */
};
static const uint16_t viscii_hi[128] = {
	0x1EA0, 0x1EAE, 0x1EB0, 0x1EB6, 0x1EA4, 0x1EA6, 0x1EA8, 0x1EAC,  /* 80 */
	0x1EBC, 0x1EB8, 0x1EBE, 0x1EC0, 0x1EC2, 0x1EC4, 0x1EC6, 0x1ED0,  /* 88 */
	0x1ED2, 0x1ED4, 0x1ED6, 0x1ED8, 0x1EE2, 0x1EDA, 0x1EDC, 0x1EDE,  /* 90 */
	0x1ECA, 0x1ECE, 0x1ECC, 0x1EC8, 0x1EE6, 0x0168, 0x1EE4, 0x1EF2,  /* 98 */
	0x00D5, 0x1EAF, 0x1EB1, 0x1EB7, 0x1EA5, 0x1EA7, 0x1EA9, 0x1EAD,  /* A0 */
	0x1EBD, 0x1EB9, 0x1EBF, 0x1EC1, 0x1EC3, 0x1EC5, 0x1EC7, 0x1ED1,  /* A8 */
	0x1ED3, 0x1ED5, 0x1ED7, 0x1EE0, 0x01A0, 0x1ED9, 0x1EDD, 0x1EDF,  /* B0 */
	0x1ECB, 0x1EF0, 0x1EE8, 0x1EEA, 0x1EEC, 0x01A1, 0x1EDB, 0x01AF,  /* B8 */
	0x00C0, 0x00C1, 0x00C2, 0x00C3, 0x1EA2, 0x0102, 0x1EB3, 0x1EB5,  /* C0 */
	0x00C8, 0x00C9, 0x00CA, 0x1EBA, 0x00CC, 0x00CD, 0x0128, 0x1EF3,  /* C8 */
	0x0110, 0x1EE9, 0x00D2, 0x00D3, 0x00D4, 0x1EA1, 0x1EF7, 0x1EEB,  /* D0 */
	0x1EED, 0x00D9, 0x00DA, 0x1EF9, 0x1EF5, 0x00DD, 0x1EE1, 0x01B0,  /* D8 */
	0x00E0, 0x00E1, 0x00E2, 0x00E3, 0x1EA3, 0x0103, 0x1EEF, 0x1EAB,  /* E0 */
	0x00E8, 0x00E9, 0x00EA, 0x1EBB, 0x00EC, 0x00ED, 0x0129, 0x1EC9,  /* E8 */
	0x0111, 0x1EF1, 0x00F2, 0x00F3, 0x00F4, 0x00F5, 0x1ECF, 0x1ECD,  /* F0 */
	0x1EE5, 0x00F9, 0x00FA, 0x0169, 0x1EE7, 0x00FD, 0x1EE3, 0x1EEE,  /* F8 */
};
static const uint16_t cp1258_hi[128] = {
	0x20AC, 0x0000, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,  /* 80 */
	0x02C6, 0x2030, 0x0000, 0x2039, 0x0152, 0x0000, 0x0000, 0x0000,  /* 88 */
	0x0000, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,  /* 90 */
	0x02DC, 0x2122, 0x0000, 0x203A, 0x0153, 0x0000, 0x0000, 0x0178,  /* 98 */
	0x00A0, 0x00A1, 0x00A2, 0x00A3, 0x00A4, 0x00A5, 0x00A6, 0x00A7,  /* A0 */
	0x00A8, 0x00A9, 0x00AA, 0x00AB, 0x00AC, 0x00AD, 0x00AE, 0x00AF,  /* A8 */
	0x00B0, 0x00B1, 0x00B2, 0x00B3, 0x00B4, 0x00B5, 0x00B6, 0x00B7,  /* B0 */
	0x00B8, 0x00B9, 0x00BA, 0x00BB, 0x00BC, 0x00BD, 0x00BE, 0x00BF,  /* B8 */
	0x00C0, 0x00C1, 0x00C2, 0x0102, 0x00C4, 0x00C5, 0x00C6, 0x00C7,  /* C0 */
	0x00C8, 0x00C9, 0x00CA, 0x00CB, 0x0300, 0x00CD, 0x00CE, 0x00CF,  /* C8 */
	0x0110, 0x00D1, 0x0309, 0x00D3, 0x00D4, 0x01A0, 0x00D6, 0x00D7,  /* D0 */
	0x00D8, 0x00D9, 0x00DA, 0x00DB, 0x00DC, 0x01AF, 0x0303, 0x00DF,  /* D8 */
	0x00E0, 0x00E1, 0x00E2, 0x0103, 0x00E4, 0x00E5, 0x00E6, 0x00E7,  /* E0 */
	0x00E8, 0x00E9, 0x00EA, 0x00EB, 0x0301, 0x00ED, 0x00EE, 0x00EF,  /* E8 */
	0x0111, 0x00F1, 0x0323, 0x00F3, 0x00F4, 0x01A1, 0x00F6, 0x00F7,  /* F0 */
	0x00F8, 0x00F9, 0x00FA, 0x00FB, 0x00FC, 0x01B0, 0x20AB, 0x00FF,  /* F8 */
};

/* Windows-1252 0x80-0x9F (0 = undefined). */
static const uint16_t cp1252_c1[32] = {
	0x20AC, 0x0000, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,  /* 80 */
	0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x0000, 0x017D, 0x0000,  /* 88 */
	0x0000, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,  /* 90 */
	0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x0000, 0x017E, 0x0178,  /* 98 */
};

/* VNI: up to two code points per byte (0 = none). */
static const uint16_t vni_hi[128][2] = {
	{0x20AC, 0x0000}, {0x0000, 0x0000}, {0x201A, 0x0000}, {0x0192, 0x0000},  /* 80 */
	{0x201E, 0x0000}, {0x2026, 0x0000}, {0x2020, 0x0000}, {0x2021, 0x0000},  /* 84 */
	{0x02C6, 0x0000}, {0x2030, 0x0000}, {0x0160, 0x0000}, {0x2039, 0x0000},  /* 88 */
	{0x0152, 0x0000}, {0x0000, 0x0000}, {0x017D, 0x0000}, {0x0000, 0x0000},  /* 8C */
	{0x0000, 0x0000}, {0x2018, 0x0000}, {0x2019, 0x0000}, {0x201C, 0x0000},  /* 90 */
	{0x201D, 0x0000}, {0x2022, 0x0000}, {0x2013, 0x0000}, {0x2014, 0x0000},  /* 94 */
	{0x02DC, 0x0000}, {0x2122, 0x0000}, {0x0161, 0x0000}, {0x203A, 0x0000},  /* 98 */
	{0x0153, 0x0000}, {0x0000, 0x0000}, {0x017E, 0x0000}, {0x0178, 0x0000},  /* 9C */
	{0x00A0, 0x0000}, {0x00A1, 0x0000}, {0x00A2, 0x0000}, {0x00A3, 0x0000},  /* A0 */
	{0x00A4, 0x0000}, {0x00A5, 0x0000}, {0x00A6, 0x0000}, {0x00A7, 0x0000},  /* A4 */
	{0x00A8, 0x0000}, {0x00A9, 0x0000}, {0x00AA, 0x0000}, {0x00AB, 0x0000},  /* A8 */
	{0x00AC, 0x0000}, {0x00AD, 0x0000}, {0x00AE, 0x0000}, {0x00AF, 0x0000},  /* AC */
	{0x00B0, 0x0000}, {0x00B1, 0x0000}, {0x00B2, 0x0000}, {0x00B3, 0x0000},  /* B0 */
	{0x00B4, 0x0000}, {0x00B5, 0x0000}, {0x00B6, 0x0000}, {0x00B7, 0x0000},  /* B4 */
	{0x00B8, 0x0000}, {0x00B9, 0x0000}, {0x00BA, 0x0000}, {0x00BB, 0x0000},  /* B8 */
	{0x00BC, 0x0000}, {0x00BD, 0x0000}, {0x00BE, 0x0000}, {0x00BF, 0x0000},  /* BC */
	{0x0302, 0x0300}, {0x0302, 0x0301}, {0x0302, 0x0000}, {0x0302, 0x0303},  /* C0 */
	{0x0302, 0x0323}, {0x0302, 0x0309}, {0x1EC8, 0x0000}, {0x00C7, 0x0000},  /* C4 */
	{0x0306, 0x0300}, {0x0306, 0x0301}, {0x0306, 0x0000}, {0x0306, 0x0323},  /* C8 */
	{0x00CC, 0x0000}, {0x00CD, 0x0000}, {0x1EF4, 0x0000}, {0x0323, 0x0000},  /* CC */
	{0x00D0, 0x0000}, {0x0110, 0x0000}, {0x1ECA, 0x0000}, {0x0128, 0x0000},  /* D0 */
	{0x01A0, 0x0000}, {0x0303, 0x0000}, {0x01AF, 0x0000}, {0x00D7, 0x0000},  /* D4 */
	{0x0300, 0x0000}, {0x0301, 0x0000}, {0x0306, 0x0309}, {0x0309, 0x0000},  /* D8 */
	{0x0306, 0x0303}, {0x00DD, 0x0000}, {0x00DE, 0x0000}, {0x00DF, 0x0000},  /* DC */
	{0x0302, 0x0300}, {0x0302, 0x0301}, {0x0302, 0x0000}, {0x0302, 0x0303},  /* E0 */
	{0x0302, 0x0323}, {0x0302, 0x0309}, {0x1EC9, 0x0000}, {0x00E7, 0x0000},  /* E4 */
	{0x0306, 0x0300}, {0x0306, 0x0301}, {0x0306, 0x0000}, {0x0306, 0x0323},  /* E8 */
	{0x00EC, 0x0000}, {0x00ED, 0x0000}, {0x1EF5, 0x0000}, {0x0323, 0x0000},  /* EC */
	{0x00F0, 0x0000}, {0x0111, 0x0000}, {0x1ECB, 0x0000}, {0x0129, 0x0000},  /* F0 */
	{0x01A1, 0x0000}, {0x0303, 0x0000}, {0x01B0, 0x0000}, {0x00F7, 0x0000},  /* F4 */
	{0x0300, 0x0000}, {0x0301, 0x0000}, {0x0306, 0x0309}, {0x0309, 0x0000},  /* F8 */
	{0x0306, 0x0303}, {0x00FD, 0x0000}, {0x00FE, 0x0000}, {0x00FF, 0x0000},  /* FC */
};

/* VISCII puts six capitals in C0. */
static const struct {
	uint8_t byte;
	uint16_t cp;
} viscii_c0[6] = {
	{ 0x02, 0x1EB2 }, { 0x05, 0x1EB4 }, { 0x06, 0x1EAA },
	{ 0x14, 0x1EF6 }, { 0x19, 0x1EF8 }, { 0x1E, 0x1EF4 },
};

/* ANSEL (MARC-8 G1) bytes with a meaning. */
static int ansel_defined(unsigned b)
{
	return b < 0x80 || b == 0x88 || b == 0x89 || b == 0x8D || b == 0x8E ||
	       (b >= 0xA1 && b <= 0xAE) || (b >= 0xB0 && b <= 0xBA) || b == 0xBC || b == 0xBD ||
	       (b >= 0xC0 && b <= 0xC8) || (b >= 0xE0 && b <= 0xFB) || b == 0xFE;
}

/* Code point of a byte in a single-byte encoding (UINT32_MAX: no meaning). */
static uint32_t sb_cp(enum mc_encoding enc, unsigned b)
{
	uint32_t cp;
	size_t k;

	if (b < 0x80) {
		if (enc == MC_ENC_VISCII && b < 0x20)
			for (k = 0; k < 6; k++)
				if (viscii_c0[k].byte == b)
					return viscii_c0[k].cp;
		return b;
	}
	switch (enc) {
	case MC_ENC_TCVN3:
		cp = tcvn3_hi[b - 0x80];
		break;
	case MC_ENC_VISCII:
		cp = viscii_hi[b - 0x80];
		break;
	case MC_ENC_CP1258:
		cp = cp1258_hi[b - 0x80];
		break;
	case MC_ENC_LATIN1:
		cp = b >= 0xA0 ? b : cp1252_c1[b - 0x80];
		if (!cp)
			cp = b; /* C1 control, removed by mc_record_normalise */
		break;
	default:
		cp = 0;
		break;
	}
	return cp ? cp : UINT32_MAX;
}

/* The 8-bit decoders reserve room for the worst case once (four bytes of
 * UTF-8 per input byte: VNI gives two combining marks) and then write
 * without further checks. */
static int reserve_for(struct mc_buf *out, size_t len)
{
	if (len > (SIZE_MAX - 8) / 4)
		return MC_E_TOOBIG;
	return mc_buf_reserve(out, 4 * len + 4);
}

static void put(struct mc_buf *out, uint32_t cp)
{
	char *p = out->data + out->len;

	if (cp < 0x80) {
		p[0] = (char)cp;
		out->len += 1;
	} else if (cp < 0x800) {
		p[0] = (char)(0xC0 | (cp >> 6));
		p[1] = (char)(0x80 | (cp & 0x3F));
		out->len += 2;
	} else {
		p[0] = (char)(0xE0 | (cp >> 12));
		p[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		p[2] = (char)(0x80 | (cp & 0x3F));
		out->len += 3;
	}
}

/* A byte that cannot be decoded: strict mode fails, lenient mode writes
 * U+FFFD (room reserved). */
static int bad_byte(struct mc_buf *out, size_t off, size_t *bad_off, unsigned *nbad)
{
	if (!nbad) {
		if (bad_off)
			*bad_off = off;
		return MC_E_ENCODING;
	}
	(*nbad)++;
	put(out, 0xFFFD);
	return 0;
}

static int sb_decode(enum mc_encoding enc, const unsigned char *in, size_t len,
		     struct mc_buf *out, size_t *bad_off, unsigned *nbad)
{
	size_t i;
	int rc = reserve_for(out, len);

	for (i = 0; i < len && !rc; i++) {
		uint32_t cp = sb_cp(enc, in[i]);

		if (cp == UINT32_MAX)
			rc = bad_byte(out, i, bad_off, nbad);
		else
			put(out, cp);
	}
	if (out->data)
		out->data[out->len] = '\0';
	return rc;
}

static int is_ascii_alpha(unsigned c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

/* TCVN3, with the capitals rule described at the top of the file. */
static int tcvn3_decode(const unsigned char *in, size_t len, struct mc_buf *out,
			size_t *bad_off, unsigned *nbad)
{
	size_t i = 0, j, k;
	int rc = reserve_for(out, len);

	while (i < len && !rc) {
		unsigned upper = 0, lower = 0;
		int caps;

		for (j = i; j < len; j++) {
			unsigned c = in[j];

			if (c >= 'A' && c <= 'Z')
				upper++;
			else if (c >= 'a' && c <= 'z')
				lower++;
			else if (c >= 0xA1 && c <= 0xA7)
				upper++;
			else if (c < 0xA8 || !tcvn3_hi[c - 0x80])
				break;
		}
		if (j == i) {
			uint32_t cp = sb_cp(MC_ENC_TCVN3, in[i]);

			if (cp == UINT32_MAX)
				rc = bad_byte(out, i, bad_off, nbad);
			else
				put(out, cp);
			i++;
			continue;
		}
		caps = lower == 0 && upper >= 2;
		for (k = i; k < j; k++) {
			uint32_t cp = sb_cp(MC_ENC_TCVN3, in[k]);
			struct mci_text_vn vn;

			if (caps && cp >= 0x80 && mci_text_vn_lookup(cp, &vn) && !vn.upper)
				cp = mci_text_vn_compose(vn.base, vn.tone, 1);
			put(out, cp);
		}
		i = j;
	}
	if (out->data)
		out->data[out->len] = '\0';
	return rc;
}

static int vni_decode(const unsigned char *in, size_t len, struct mc_buf *out,
		      size_t *bad_off, unsigned *nbad)
{
	size_t i;
	int rc = reserve_for(out, len);

	for (i = 0; i < len && !rc; i++) {
		unsigned c = in[i];

		if (c < 0x80) {
			put(out, c);
		} else if (!vni_hi[c - 0x80][0]) {
			rc = bad_byte(out, i, bad_off, nbad);
		} else {
			put(out, vni_hi[c - 0x80][0]);
			if (vni_hi[c - 0x80][1])
				put(out, vni_hi[c - 0x80][1]);
		}
	}
	if (out->data)
		out->data[out->len] = '\0';
	return rc;
}

/* Run one stretch of MARC-8 through yaz; cd keeps the escape state, which
 * only the final flush resets. */
static int yaz_run(yaz_iconv_t cd, const char *in, size_t len, size_t base, int final,
		   struct mc_buf *out, size_t *bad_off, unsigned *nbad)
{
	char obuf[1024];
	char *ip = (char *)in;
	size_t il = len;
	int rc;

	for (;;) {
		char *op = obuf;
		size_t ol = sizeof(obuf), r;
		int e = 0, flush = il == 0;

		if (flush && !final)
			return 0;
		r = flush ? yaz_iconv(cd, NULL, NULL, &op, &ol) : yaz_iconv(cd, &ip, &il, &op, &ol);
		if (r == (size_t)-1)
			e = yaz_iconv_error(cd);
		rc = mc_buf_add(out, obuf, (size_t)(op - obuf));
		if (rc)
			return rc;
		if (e == YAZ_ICONV_E2BIG)
			continue;
		if (!e) {
			if (flush)
				return 0;
			continue;
		}
		/* EILSEQ, or EINVAL: the input ends inside a sequence (a
		 * combining mark with no base letter after it). */
		rc = reserve_for(out, 1);
		if (!rc)
			rc = bad_byte(out, base + (size_t)(ip - in), bad_off, nbad);
		if (rc)
			return rc;
		if (flush)
			return 0;
		if (e == YAZ_ICONV_EINVAL || il <= 1) {
			ip += il;
			il = 0;
		} else {
			ip++;
			il--;
		}
	}
}

/* yaz drops C0 controls (TAB and LF too) and the bytes ANSEL leaves
 * undefined without a word: pass the former through, report the latter
 * (only checked while no escape sequence changes the character sets). */
static int marc8_decode(const char *in, size_t len, struct mc_buf *out, size_t *bad_off,
			unsigned *nbad)
{
	const unsigned char *u = (const unsigned char *)in;
	yaz_iconv_t cd;
	size_t i, start = 0;
	int check = !memchr(in, 0x1B, len), rc = 0;

	cd = yaz_iconv_open("UTF-8", "MARC8");
	if (!cd)
		return -ENOMEM;
	for (i = 0; i < len && !rc; i++) {
		unsigned c = u[i];
		int ctl = (c < 0x20 && c != 0x1B) || c == 0x7F;

		if (!ctl && (!check || ansel_defined(c)))
			continue;
		rc = yaz_run(cd, in + start, i - start, start, 0, out, bad_off, nbad);
		if (!rc)
			rc = reserve_for(out, 1);
		if (!rc)
			rc = ctl ? mc_buf_addc(out, (char)c) : bad_byte(out, i, bad_off, nbad);
		start = i + 1;
	}
	if (!rc)
		rc = yaz_run(cd, in + start, len - start, start, 1, out, bad_off, nbad);
	if (out->data)
		out->data[out->len] = '\0';
	yaz_iconv_close(cd);
	return rc;
}

int mci_text_decode_raw(enum mc_encoding enc, const char *in, size_t len, struct mc_buf *out,
			size_t *bad_off, unsigned *nbad)
{
	const unsigned char *u = (const unsigned char *)in;

	switch (enc) {
	case MC_ENC_TCVN3:
		return tcvn3_decode(u, len, out, bad_off, nbad);
	case MC_ENC_VNI:
		return vni_decode(u, len, out, bad_off, nbad);
	case MC_ENC_VISCII:
	case MC_ENC_CP1258:
	case MC_ENC_LATIN1:
		return sb_decode(enc, u, len, out, bad_off, nbad);
	case MC_ENC_MARC8:
		return marc8_decode(in, len, out, bad_off, nbad);
	default:
		return MC_E_USAGE;
	}
}

/* Windows-1252 byte for a code point (or C1 control), -1 if none. */
static int cp1252_byte(uint32_t cp)
{
	unsigned k;

	if (cp < 0x80 || (cp >= 0xA0 && cp <= 0xFF))
		return (int)cp;
	if (cp < 0xA0)
		return (int)cp;
	for (k = 0; k < 32; k++)
		if (cp1252_c1[k] == cp)
			return (int)(0x80 + k);
	return -1;
}

int mci_text_cp1252_unmap(const char *utf8, size_t len, struct mc_buf *out)
{
	const unsigned char *u = (const unsigned char *)utf8;
	size_t i = 0;
	int rc = 0;

	while (i < len && !rc) {
		int b = cp1252_byte(mci_text_utf8_next(u, &i));

		if (b < 0)
			return MC_E_ENCODING;
		rc = mc_buf_addc(out, (char)b);
	}
	return rc;
}

/* ---- encoding ---- */

static int table_byte(const uint16_t *tab, uint32_t cp)
{
	unsigned k;

	for (k = 0; k < 128; k++)
		if (tab[k] == cp)
			return (int)(0x80 + k);
	return -1;
}

static const uint8_t vni_tone[MCI_TEXT_VN_TONES] = { 0, 0xF8, 0xFB, 0xF5, 0xF9, 0xEF };
static const uint8_t vni_circ[MCI_TEXT_VN_TONES] = { 0xE2, 0xE0, 0xE5, 0xE3, 0xE1, 0xE4 };
static const uint8_t vni_breve[MCI_TEXT_VN_TONES] = { 0xEA, 0xE8, 0xFA, 0xFC, 0xE9, 0xEB };
static const uint8_t vni_i[MCI_TEXT_VN_TONES] = { 'i', 0xEC, 0xE6, 0xF3, 0xED, 0xF2 };

static int vni_encode_vn(const struct mci_text_vn *vn, struct mc_buf *out)
{
	static const char ascii[MCI_TEXT_VN_BASES] = "aaaeeiooouuyd";
	unsigned char b[2];
	size_t n = 0;
	unsigned t = vn->tone, sh = vn->upper ? 0x20 : 0;

	switch (vn->base) {
	case 12: /* đ */
		b[n++] = (unsigned char)(0xF1 - sh);
		break;
	case 5: /* i: toned forms are single bytes */
		b[n++] = (unsigned char)(t ? vni_i[t] - sh : (vn->upper ? 'I' : 'i'));
		break;
	case 8: /* ơ */
	case 10: /* ư */
		b[n++] = (unsigned char)((vn->base == 8 ? 0xF4 : 0xF6) - sh);
		if (t)
			b[n++] = (unsigned char)(vni_tone[t] - sh);
		break;
	case 1: /* ă */
	case 2: /* â */
	case 4: /* ê */
	case 7: /* ô */
		b[n++] = (unsigned char)(ascii[vn->base] - (sh ? 0x20 : 0));
		b[n++] = (unsigned char)((vn->base == 1 ? vni_breve[t] : vni_circ[t]) - sh);
		break;
	default: /* a e o u y */
		if (vn->base == 11 && t == 5) {
			b[n++] = (unsigned char)(0xEE - sh);
			break;
		}
		b[n++] = (unsigned char)(ascii[vn->base] - (sh ? 0x20 : 0));
		if (t)
			b[n++] = (unsigned char)(vni_tone[t] - sh);
		break;
	}
	return mc_buf_add(out, b, n);
}

static const uint16_t cp1258_tone[MCI_TEXT_VN_TONES] = { 0, 0xCC, 0xD2, 0xDE, 0xEC, 0xF2 };

/* One code point in a single-byte encoding (or VNI). 0, MC_E_ENCODING. */
static int encode_cp(enum mc_encoding enc, uint32_t cp, struct mc_buf *out)
{
	struct mci_text_vn vn;
	int b = -1;
	size_t k;

	if (cp < 0x80) {
		if (enc == MC_ENC_VISCII)
			for (k = 0; k < 6; k++)
				if (viscii_c0[k].byte == cp)
					return MC_E_ENCODING;
		return mc_buf_addc(out, (char)cp);
	}
	switch (enc) {
	case MC_ENC_TCVN3:
		b = table_byte(tcvn3_hi, cp);
		break;
	case MC_ENC_VISCII:
		for (k = 0; k < 6; k++)
			if (viscii_c0[k].cp == cp)
				b = viscii_c0[k].byte;
		if (b < 0)
			b = table_byte(viscii_hi, cp);
		break;
	case MC_ENC_LATIN1:
		b = cp1252_byte(cp);
		break;
	case MC_ENC_CP1258:
		b = table_byte(cp1258_hi, cp);
		if (b < 0 && mci_text_vn_lookup(cp, &vn) && vn.tone) {
			/* no precomposed byte: base letter, then the tone mark */
			uint32_t bcp = mci_text_vn_compose(vn.base, 0, vn.upper);
			int base = bcp < 0x80 ? (int)bcp : table_byte(cp1258_hi, bcp);
			unsigned char two[2];

			if (base < 0)
				return MC_E_ENCODING;
			two[0] = (unsigned char)base;
			two[1] = (unsigned char)cp1258_tone[vn.tone];
			return mc_buf_add(out, two, 2);
		}
		break;
	case MC_ENC_VNI:
		if (mci_text_vn_lookup(cp, &vn))
			return vni_encode_vn(&vn, out);
		for (k = 0; k < 128; k++)
			if (vni_hi[k][0] == cp && !vni_hi[k][1] && (cp < 0x300 || cp > 0x36F))
				b = (int)(0x80 + k);
		break;
	default:
		break;
	}
	if (b < 0)
		return MC_E_ENCODING;
	return mc_buf_addc(out, (char)b);
}

/* UTF-8 (NFC) to MARC-8 through yaz, which wants decomposed input and
 * silently drops what it cannot map: decode the result again and compare. */
static int yaz_encode(yaz_iconv_t cd, char *ip, size_t il, struct mc_buf *out)
{
	char obuf[1024];
	int rc;

	for (;;) {
		char *op = obuf;
		size_t ol = sizeof(obuf), r;
		int last = !il;

		r = last ? yaz_iconv(cd, NULL, NULL, &op, &ol) : yaz_iconv(cd, &ip, &il, &op, &ol);
		rc = mc_buf_add(out, obuf, (size_t)(op - obuf));
		if (rc)
			return rc;
		if (r == (size_t)-1 && yaz_iconv_error(cd) == YAZ_ICONV_E2BIG)
			continue;
		if (r == (size_t)-1)
			return MC_E_ENCODING;
		if (last)
			return 0;
	}
}

static int marc8_encode(const char *nfc, size_t len, struct mc_buf *out)
{
	struct mc_buf nfd, m8, back, rt;
	yaz_iconv_t cd = NULL;
	size_t il, start;
	int rc;

	if (!len)
		return 0;
	mc_buf_init(&nfd, 4 * len + 64);
	mc_buf_init(&m8, 4 * len + 64);
	mc_buf_init(&back, 4 * len + 64);
	mc_buf_init(&rt, 4 * len + 64);
	rc = mci_text_icu_normalize(1, nfc, len, &nfd);
	if (rc)
		goto done;
	/* MARC-8 has ơ ư as letters (0xBC 0xBD) but no combining horn: put
	 * them back together. NFD keeps the horn (ccc 216) next to its base. */
	for (il = 0; il + 2 < nfd.len; il++) {
		char *p = nfd.data + il;

		if ((p[0] | 0x20) != 'o' && (p[0] | 0x20) != 'u')
			continue;
		if ((unsigned char)p[1] != 0xCC || (unsigned char)p[2] != 0x9B)
			continue;
		/* ơ U+01A1 = C6 A1, Ơ U+01A0, ư U+01B0, Ư U+01AF; 3 bytes -> 2 */
		p[1] = (char)((p[0] | 0x20) == 'o' ? (p[0] == 'o' ? 0xA1 : 0xA0)
						    : (p[0] == 'u' ? 0xB0 : 0xAF));
		p[0] = (char)0xC6;
		memmove(p + 2, p + 3, nfd.len - il - 3);
		nfd.len--;
		nfd.data[nfd.len] = '\0';
	}
	cd = yaz_iconv_open("MARC8", "UTF-8");
	if (!cd) {
		rc = -ENOMEM;
		goto done;
	}
	/* Stretches between control characters (which yaz would drop). */
	start = 0;
	for (il = 0; il <= nfd.len && !rc; il++) {
		unsigned c = il < nfd.len ? (unsigned char)nfd.data[il] : 0;

		if (il < nfd.len && c >= 0x20 && c != 0x7F)
			continue;
		rc = yaz_encode(cd, nfd.data + start, il - start, &m8);
		if (!rc && il < nfd.len)
			rc = mc_buf_addc(&m8, (char)c);
		start = il + 1;
	}
	if (rc)
		goto done;
	rc = marc8_decode(m8.data ? m8.data : "", m8.len, &back, NULL, NULL);
	if (!rc)
		rc = mc_text_nfc(back.data ? back.data : "", back.len, &rt, NULL);
	if (!rc && (rt.len != len || (len && memcmp(rt.data, nfc, len) != 0)))
		rc = MC_E_ENCODING;
	if (!rc)
		rc = mc_buf_add(out, m8.data ? m8.data : "", m8.len);
done:
	if (cd)
		yaz_iconv_close(cd);
	mc_buf_free(&nfd);
	mc_buf_free(&m8);
	mc_buf_free(&back);
	mc_buf_free(&rt);
	return rc;
}

int mc_text_encode(enum mc_encoding enc, const char *utf8, size_t len, struct mc_buf *out)
{
	struct mc_buf nfc;
	size_t start = out->len, i = 0;
	int rc;

	if (enc == MC_ENC_AUTO || (unsigned)enc >= MC_ENC_COUNT)
		return MC_E_USAGE;
	if (len > (SIZE_MAX - 64) / 4)
		return MC_E_TOOBIG;
	mc_buf_init(&nfc, 3 * len + 64);
	rc = mc_text_nfc(utf8, len, &nfc, NULL);
	if (rc)
		goto done;
	if (enc == MC_ENC_UTF8) {
		rc = mc_buf_add(out, nfc.data, nfc.len);
	} else if (enc == MC_ENC_MARC8) {
		rc = marc8_encode(nfc.data ? nfc.data : "", nfc.len, out);
	} else {
		while (i < nfc.len && !rc)
			rc = encode_cp(enc, mci_text_utf8_next((const unsigned char *)nfc.data, &i), out);
	}
	if (rc && out->data) {
		out->len = start;
		out->data[start] = '\0';
	}
done:
	mc_buf_free(&nfc);
	return rc;
}

/* ---- scoring: how Vietnamese (or at least European) does decoded text look? ----
 *
 * Text is cut into words (runs of letters, combining marks and stray
 * symbols). Words of plain ASCII say nothing. Each other word scores:
 *   +4  a valid Vietnamese syllable of two or more letters (one tone at
 *       most, an initial and rhyme that exist, stop finals only with sắc or
 *       nặng); +6 when it is one of the frequent syllables below
 *   +2  a Latin word with one non-ASCII letter, +1 with two, -1 with three
 *   -3  letters only Vietnamese uses in something that is not a syllable; a
 *       symbol glued to letters ("Tr\u00adêng"); case changing to upper
 *       after a non-ASCII lower; a combining mark that did not compose
 *   -4  a combining mark at the start of a word (MARC-8 marks before space)
 *   -5  each C1 control (Latin-1 reading of a byte Windows-1252 leaves free),
 *   -10 each undecodable byte (U+FFFD).
 * C0 controls decode alike in every candidate (except VISCII's six letters,
 * which then score as letters): they only end words. */

enum { CL_SEP, CL_CTL, CL_BAD, CL_MARK, CL_LETTER, CL_MODL, CL_OTHERL, CL_JUNK };

static int classify(uint32_t cp)
{
	int8_t t;

	if (cp < 0x80) {
		if (is_ascii_alpha(cp))
			return CL_LETTER;
		return CL_SEP;
	}
	if (cp < 0xA0)
		return CL_CTL;
	if (cp < 0xC0)
		return cp == 0xA0 || cp == 0xA1 || cp == 0xAB || cp == 0xBB || cp == 0xBF ? CL_SEP
											   : CL_JUNK;
	if (cp == 0xD7 || cp == 0xF7)
		return CL_JUNK;
	if (cp < 0x2B0 || (cp >= 0x1E00 && cp <= 0x1EFF))
		return CL_LETTER;
	if (cp < 0x300)
		return CL_MODL;
	if (cp < 0x370)
		return CL_MARK;
	if (cp >= 0x2000 && cp <= 0x206F)
		return CL_SEP;
	if (cp == 0xFFFD)
		return CL_BAD;
	t = u_charType((UChar32)cp);
	if (t == U_NON_SPACING_MARK || t == U_ENCLOSING_MARK)
		return CL_MARK;
	if (u_isalpha((UChar32)cp) || t == U_COMBINING_SPACING_MARK)
		return CL_OTHERL;
	if (u_isspace((UChar32)cp) || (t >= U_DASH_PUNCTUATION && t <= U_OTHER_PUNCTUATION) ||
	    t == U_INITIAL_PUNCTUATION || t == U_FINAL_PUNCTUATION || u_isdigit((UChar32)cp))
		return CL_SEP;
	return CL_JUNK;
}

/* Rhymes (vần) without tone; ă=A â=Q ê=E ô=O ơ=P ư=U, sorted for bsearch.
 * The k finals are for place names from minority languages (Đắk Lắk). */
static const char *const vn_rhymes[] = {
	"Ac", "Ak", "Am", "An", "Ang", "Ap", "At", "E", "Ech", "Ek", "Em", "En", "Enh", "Ep", "Et",
	"Eu", "O", "Oc", "Oi", "Ok", "Om", "On", "Ong", "Op", "Ot", "P", "Pi", "Pm", "Pn", "Pp", "Pt",
	"Qc", "Qk", "Qm", "Qn", "Qng", "Qp", "Qt", "Qu", "Qy", "U", "UPc", "UPi", "UPm", "UPn",
	"UPng", "UPp", "UPt", "UPu", "Ua", "Uc", "Ui", "Uk", "Um", "Un", "Ung", "Ut", "Uu", "a", "ac",
	"ach", "ai", "ak", "am", "an", "ang", "anh", "ao", "ap", "at", "au", "ay", "e", "ec", "ek",
	"em", "en", "eng", "eo", "ep", "et", "i", "iEc", "iEm", "iEn", "iEng", "iEp", "iEt", "iEu",
	"ia", "ich", "im", "in", "inh", "ip", "it", "iu", "o", "oAc", "oAm", "oAn", "oAng", "oAt",
	"oa", "oac", "oach", "oai", "oam", "oan", "oang", "oanh", "oao", "oap", "oat", "oay", "oc",
	"oe", "oem", "oen", "oeo", "oet", "oi", "ok", "om", "on", "ong", "ooc", "oong", "op", "ot",
	"u", "uE", "uEch", "uEn", "uEnh", "uOc", "uOi", "uOk", "uOm", "uOn", "uOng", "uOt", "uP",
	"uQn", "uQng", "uQt", "uQy", "ua", "uc", "ui", "uk", "um", "un", "ung", "up", "ut", "uy",
	"uyEn", "uyEt", "uya", "uych", "uyn", "uynh", "uyp", "uyt", "uyu", "y", "yEm", "yEn", "yEng",
	"yEt", "yEu",
};

static int cmp_rhyme(const void *k, const void *e)
{
	return strcmp(k, *(const char *const *)e);
}

enum { SP_NONE, SP_C, SP_K, SP_GH, SP_NG, SP_G };

static const struct {
	char s[4];
	unsigned char len, rule;
} vn_initials[] = {
	{ "ngh", 3, SP_GH }, { "ng", 2, SP_NG }, { "nh", 2, 0 }, { "ch", 2, 0 }, { "gh", 2, SP_GH },
	{ "gi", 2, 0 }, { "kh", 2, 0 }, { "ph", 2, 0 }, { "qu", 2, 0 }, { "th", 2, 0 },
	{ "tr", 2, 0 }, { "b", 1, 0 }, { "c", 1, SP_C }, { "d", 1, 0 }, { "D", 1, 0 },
	{ "g", 1, SP_G }, { "h", 1, 0 }, { "k", 1, SP_K }, { "l", 1, 0 }, { "m", 1, 0 },
	{ "n", 1, 0 }, { "r", 1, 0 }, { "s", 1, 0 }, { "t", 1, 0 }, { "v", 1, 0 },
	{ "x", 1, 0 }, { "", 0, 0 },
};

/* Frequent syllables of catalogue text (code as above, then the tone digit);
 * they break ties between two encodings that both read as Vietnamese. */
static const char *const vn_common[] = {
	"An0", "DAng5", "DE1", "DE2", "DEn4", "DO3", "DOng0", "DOng1", "DOng5", "DPi1", "DQt4",
	"DQu1", "DUPc5", "DUc4", "Da1", "Da3", "Dai5", "Dang2", "Dao1", "Di0", "DiEn2", "DiEn5",
	"Dia5", "Dinh0", "Dinh1", "Doan1", "Ong0", "Qm0", "Qm2", "UPng0", "an0", "anh0", "anh2",
	"bAc4", "bEnh5", "bOn4", "ba0", "ba1", "bac4", "bai1", "ban2", "ban5", "banh4", "bao4",
	"bay2", "be1", "biEn0", "biEn2", "binh1", "bo1", "bui1", "but4", "cO0", "cO2", "cOng0",
	"cOng5", "cP0", "cPm0", "cQn1", "cQy0", "cUu4", "ca0", "ca1", "ca4", "cac4", "cach4", "cai2",
	"cao0", "chOng1", "cha0", "chau4", "che1", "cheo1", "chi4", "chi5", "chiEn4", "chim0",
	"chin4", "chinh4", "cho0", "chon5", "chu2", "chuyEn5", "co4", "con0", "cu3", "cuOc5", "cua2",
	"cung3", "dQn0", "dQn3", "dUPng0", "dao0", "day5", "dich5", "du0", "duc5", "dung3", "em0",
	"ga1", "gai4", "gao5", "gia0", "gia2", "giai2", "giang0", "giang2", "giao4", "gon1", "hO1",
	"hO2", "hOi1", "hOi5", "hPn0", "hPp5", "hUPng0", "hUPng4", "hUu3", "ha1", "ha5", "hai0",
	"hai2", "hang1", "hanh1", "hat4", "ho5", "hoa0", "hoa1", "hoa4", "hoach5", "hoang1", "hoc5",
	"huE4", "hung1", "huyEn5", "huynh1", "kE2", "kE4", "khOng0", "khQu4", "khi0", "khoa0",
	"khoe2", "kiEn4", "kim0", "kinh0", "ky2", "ky3", "ky4", "lE0", "lE3", "lPi1", "lPn4", "lPn5",
	"lQn1", "lUPng0", "lUu0", "la1", "lai5", "lam1", "lan0", "lao0", "liEu0", "liEu5", "lich5",
	"long0", "luQt5", "lua4", "ly4", "mOi0", "mOt5", "mPi4", "mUPi1", "mai0", "mai5", "mang5",
	"me5", "miEn1", "minh0", "mon4", "mua1", "mua4", "my3", "nAm0", "nAng3", "nOi5", "nOng0",
	"nU3", "nUPc4", "nam0", "nay1", "ngAn4", "ngO0", "ngOn0", "ngQn0", "ngU3", "ngUPi1",
	"ngUPng3", "ngay1", "nghE5", "nghiEn0", "nghiEp5", "nghia3", "nghin1", "nguyEn3", "nhQn0",
	"nhQt4", "nhQt5", "nhU0", "nhUng3", "nha1", "nhac5", "nhi0", "nhiEn0", "nhiEu1", "nho2",
	"niEn0", "ninh0", "noi4", "nui4", "phE0", "phO4", "phP2", "phQm2", "phQt5", "phUPng5",
	"pham5", "phan0", "phap4", "phat4", "phim0", "phong0", "phong1", "phu5", "quE0", "quOc4",
	"quQn0", "qua2", "qua4", "quan0", "quan2", "quang0", "rOi4", "rOng1", "rUng1", "ra0", "rau0",
	"ru0", "sOng0", "sOng4", "sP2", "sPn0", "sQn0", "sU0", "sU2", "sUc4", "sach4", "sai1", "san2",
	"sau0", "sau4", "si3", "sinh0", "soan5", "tE4", "tOc5", "tOn0", "tOng2", "tQp5", "tQy0",
	"tU0", "tU1", "tU5", "tUPng2", "tac4", "tai1", "tai4", "tai5", "tam4", "thE4", "thOng0",
	"thOng4", "thP0", "thQn1", "thQy1", "thU0", "thU4", "thUPng0", "thUc4", "thUc5", "thai4",
	"thang4", "thanh0", "thanh1", "theo0", "thi0", "thi1", "thi5", "thiEn0", "thiEu4", "thit5",
	"thoai5", "thu0", "thuOc4", "thuQt5", "thuyEt4", "tiEn1", "tiEng4", "tiEu2", "tich4", "tin0",
	"tin4", "tinh1", "tinh2", "toan4", "trAm0", "trQn1", "trQu0", "trUPng1", "tra1", "trai0",
	"tranh0", "tre2", "tri5", "triEn2", "triEu5", "trinh1", "trinh5", "trong0", "trung0",
	"truyEn1", "truyEn5", "tuOi2", "tuOng1", "tuQn4", "tuc5", "tuyEn2", "vAn0", "vE1", "vP5",
	"vPi4", "vQn4", "vQt5", "va1", "vao1", "viEn0", "viEn5", "viEt5", "vit5", "vo3", "voi0",
	"vu3", "xa3", "xuQn0", "xuQt4", "y0", "y4", "yEu0",
};

static int vn_is_common(const char *code, size_t n, unsigned tone)
{
	char key[20];

	if (n + 2 > sizeof(key))
		return 0;
	memcpy(key, code, n);
	key[n] = (char)('0' + tone);
	key[n + 1] = '\0';
	return bsearch(key, vn_common, sizeof(vn_common) / sizeof(vn_common[0]),
		       sizeof(vn_common[0]), cmp_rhyme) != NULL;
}

/* code: the word in the rhyme alphabet plus D for đ; tone: the one tone. */
static int vn_syllable(const char *code, size_t n, unsigned tone)
{
	size_t k;
	int stop = code[n - 1] == 'p' || code[n - 1] == 't' || code[n - 1] == 'c' ||
		   code[n - 1] == 'k' || (n >= 2 && code[n - 2] == 'c' && code[n - 1] == 'h');

	/* Syllables closed by p t c ch (k) carry only sắc or nặng. */
	if (stop && tone != 4 && tone != 5)
		return 0;
	for (k = 0; k < sizeof(vn_initials) / sizeof(vn_initials[0]); k++) {
		size_t il = vn_initials[k].len;
		char r0;
		int front;

		if (il >= n || memcmp(code, vn_initials[k].s, il) != 0)
			continue;
		r0 = code[il];
		front = r0 == 'e' || r0 == 'E' || r0 == 'i';
		/* spelling: c/k, g/gh, ng/ngh before front vowels */
		switch (vn_initials[k].rule) {
		case SP_C:
			if (front || r0 == 'y')
				continue;
			break;
		case SP_K:
			if (!front && r0 != 'y')
				continue;
			break;
		case SP_GH:
			if (!front)
				continue;
			break;
		case SP_NG:
			if (front)
				continue;
			break;
		case SP_G:
			if (r0 == 'e' || r0 == 'E')
				continue;
			break;
		default:
			break;
		}
		if (bsearch(code + il, vn_rhymes, sizeof(vn_rhymes) / sizeof(vn_rhymes[0]),
			    sizeof(vn_rhymes[0]), cmp_rhyme))
			return 1;
	}
	return 0;
}

struct word {
	int letters, nonascii, marks, mark_initial, junk, modl, other, latin;
	int vn_ok, vn_spec, tones, case_bad;
	int prev;           /* 0 none, 1 lowercase letter, 2 uppercase, 3 other letter */
	int prev_nonascii;
	unsigned tone;
	char code[16];
	size_t clen;
};

static void word_add_letter(struct word *w, uint32_t cp, int cl)
{
	static const char vn_code[MCI_TEXT_VN_BASES] = "aAQeEioOPuUyD";
	struct mci_text_vn vn;
	int up = 0, lo = 0, na = cp >= 0x80;

	w->letters++;
	w->nonascii += na;
	if (cl == CL_OTHERL) {
		w->other = 1;
		w->vn_ok = 0;
		w->prev = 3;
		return;
	}
	w->latin = 1;
	if (cp < 0x80) {
		up = cp <= 'Z';
		lo = !up;
		if ((cp | 0x20) == 'f' || (cp | 0x20) == 'j' || (cp | 0x20) == 'w' || (cp | 0x20) == 'z')
			w->vn_ok = 0;
		if (w->clen < sizeof(w->code) - 1)
			w->code[w->clen++] = (char)(cp | 0x20);
		else
			w->vn_ok = 0;
	} else if (mci_text_vn_lookup(cp, &vn)) {
		up = vn.upper;
		lo = !up;
		if (vn.tone) {
			w->tones++;
			w->tone = vn.tone;
		}
		if (vn_specific(cp))
			w->vn_spec = 1;
		if (w->clen < sizeof(w->code) - 1)
			w->code[w->clen++] = vn_code[vn.base];
		else
			w->vn_ok = 0;
	} else {
		up = u_isupper((UChar32)cp);
		lo = u_islower((UChar32)cp);
		w->vn_ok = 0;
	}
	if (up && w->prev == 1 && (na || w->prev_nonascii))
		w->case_bad = 1;
	w->prev = up ? 2 : lo ? 1 : 3;
	w->prev_nonascii = na;
}

static long word_score(struct word *w, long *vn_words)
{
	long s;

	if (!w->nonascii && !w->marks && !w->mark_initial && !w->junk)
		return 0;
	if (!w->letters && !w->marks && !w->mark_initial)
		return 0; /* a symbol standing alone: ©, °, £ */
	if (w->mark_initial)
		return -4;
	if (w->junk || w->marks || w->case_bad || (w->other && w->latin))
		return -3;
	if (w->other)
		return 1;
	w->code[w->clen] = '\0';
	if (w->vn_ok && w->tones <= 1 && w->clen == (size_t)w->letters &&
	    vn_syllable(w->code, w->clen, w->tone)) {
		if (w->letters < 2)
			return 0;
		(*vn_words)++;
		return vn_is_common(w->code, w->clen, w->tone) ? 6 : 4;
	}
	if (w->vn_spec)
		return -3;
	if (w->letters - w->modl < 2)
		return 0;
	s = w->nonascii == 1 ? 2 : w->nonascii == 2 ? 1 : w->nonascii == 3 ? -1 : -3;
	return s;
}

/* Score of a text; *vn_words (added to) counts its Vietnamese syllables. */
static long score_text(const char *utf8, size_t len, long *vn_words)
{
	const unsigned char *u = (const unsigned char *)utf8;
	struct word w;
	size_t i = 0;
	long total = 0;
	int in_word = 0;

	memset(&w, 0, sizeof(w));
	w.vn_ok = 1;
	while (i <= len) {
		uint32_t cp;
		int cl;

		if (!in_word && i < len && u[i] < 0x80) {
			/* A word of ASCII letters says nothing: skip it whole. */
			size_t j = i;

			while (j < len && is_ascii_alpha(u[j]))
				j++;
			if (j == len || (u[j] < 0x80 && !is_ascii_alpha(u[j]))) {
				i = j == i ? i + 1 : j;
				continue;
			}
		}
		cp = i < len ? mci_text_utf8_next(u, &i) : (i++, ' ');
		cl = classify(cp);

		if (cl == CL_SEP || cl == CL_CTL || cl == CL_BAD) {
			if (in_word)
				total += word_score(&w, vn_words);
			if (cl == CL_CTL)
				total -= 5;
			else if (cl == CL_BAD)
				total -= 10;
			memset(&w, 0, sizeof(w));
			w.vn_ok = 1;
			in_word = 0;
			continue;
		}
		in_word = 1;
		switch (cl) {
		case CL_MARK:
			if (w.prev == 0)
				w.mark_initial = 1;
			else
				w.marks++;
			w.vn_ok = 0;
			break;
		case CL_JUNK:
			w.junk = 1;
			w.vn_ok = 0;
			w.prev = 0;
			break;
		case CL_MODL:
			w.letters++;
			w.modl++;
			w.vn_ok = 0;
			w.prev = 3;
			break;
		default:
			word_add_letter(&w, cp, cl);
			break;
		}
	}
	return total;
}

/* Accented letters European and Vietnamese text actually use. */
static size_t count_common(const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, n = 0;

	while (i < len) {
		uint32_t cp = mci_text_utf8_next(u, &i);

		n += (cp >= 0xC0 && cp <= 0x17F && cp != 0xD7 && cp != 0xF7) ||
		     (cp >= 0x1A0 && cp <= 0x1B0) || (cp >= 0x1EA0 && cp <= 0x1EF9);
	}
	return n;
}

/* Decode leniently with enc, normalise, score. *composed: common accented
 * letters NFC made out of base + marks (evidence for MARC-8, whose marks
 * come before the base: read as Latin-1 they are stray accented letters). */
static int decode_score(enum mc_encoding enc, const char *in, size_t len, struct mc_buf *raw,
			struct mc_buf *nfc, long *score, long *vn_words, long *composed)
{
	unsigned nbad = 0;
	int rc;

	mc_buf_reset(raw);
	mc_buf_reset(nfc);
	rc = mci_text_decode_raw(enc, in, len, raw, NULL, &nbad);
	if (!rc && raw->len)
		rc = mc_text_nfc(raw->data, raw->len, nfc, NULL);
	if (rc)
		return rc;
	*score = score_text(nfc->data ? nfc->data : "", nfc->len, vn_words);
	if (composed)
		*composed = (long)count_common(nfc->data ? nfc->data : "", nfc->len) -
			    (long)count_common(raw->data ? raw->data : "", raw->len);
	return 0;
}

/* ---- detection ---- */

#define DETECT_MAX (64u << 10)  /* bytes of a record looked at */

static const enum mc_encoding detect_order[] = {
	MC_ENC_LATIN1, MC_ENC_CP1258, MC_ENC_TCVN3, MC_ENC_VNI, MC_ENC_VISCII, MC_ENC_MARC8,
};
#define NDETECT (sizeof(detect_order) / sizeof(detect_order[0]))

void mci_text_detect_init(struct mci_text_detect *d, enum mc_encoding hint)
{
	memset(d, 0, sizeof(*d));
	d->hint = hint;
	mc_buf_init(&d->raw, MCI_TEXT_SCRATCH_MAX);
	mc_buf_init(&d->nfc, MCI_TEXT_SCRATCH_MAX);
}

void mci_text_detect_done(struct mci_text_detect *d)
{
	mc_buf_free(&d->raw);
	mc_buf_free(&d->nfc);
}

/* How much of a value to look at: all of it, or up to the last space
 * before the budget runs out. */
static size_t budget_take(size_t fed, const char *in, size_t len)
{
	size_t take, k;

	if (fed >= DETECT_MAX)
		return 0;
	take = len < DETECT_MAX - fed ? len : DETECT_MAX - fed;
	if (take < len)
		for (k = take; k > take / 2; k--)
			if (in[k - 1] == ' ' || in[k - 1] == '\n') {
				take = k;
				break;
			}
	return take;
}

/* A candidate this far behind the leader is not decoded any more. */
#define DETECT_GIVE_UP 40

int mci_text_detect_feed(struct mci_text_detect *d, const char *in, size_t len)
{
	size_t take = budget_take(d->fed, in, len), k;
	long lead = LONG_MIN;
	int rc;

	if (!take)
		return 0;
	d->fed += take;
	for (k = 0; k < NDETECT; k++)
		if (d->score[detect_order[k]] > lead)
			lead = d->score[detect_order[k]];
	for (k = 0; k < NDETECT; k++) {
		enum mc_encoding enc = detect_order[k];
		long s = 0, comp = 0;

		if (d->score[enc] < lead - DETECT_GIVE_UP)
			continue;

		rc = decode_score(enc, in, take, &d->raw, &d->nfc, &s, &d->vn_words[enc],
				  enc == MC_ENC_MARC8 ? &comp : NULL);
		if (rc == MC_E_TOOBIG)
			s = -1000; /* cannot be that encoding */
		else if (rc)
			return rc;
		d->score[enc] += s + comp;
	}
	return 0;
}

/* Tie-break order when the Latin-1 reading itself has Vietnamese syllables:
 * then the text is Vietnamese, and a Vietnamese encoding that reads as well
 * is the likelier one ("v\xe3n" is "văn" in Windows-1258, "vãn" in Latin-1). */
static const enum mc_encoding vn_first[] = {
	MC_ENC_CP1258, MC_ENC_TCVN3, MC_ENC_VNI, MC_ENC_VISCII, MC_ENC_LATIN1, MC_ENC_MARC8,
};

enum mc_encoding mci_text_detect_result(const struct mci_text_detect *d, long *best,
					 int *confidence)
{
	const enum mc_encoding *order = d->vn_words[MC_ENC_LATIN1] ? vn_first : detect_order;
	enum mc_encoding win = order[0];
	long top, second = LONG_MIN;
	size_t k;

	/* Ties go to what the container claims, then to the order above. */
	if (d->hint > MC_ENC_UTF8 && d->hint < MC_ENC_COUNT)
		win = d->hint;
	top = d->score[win];
	for (k = 0; k < NDETECT; k++) {
		enum mc_encoding e = order[k];

		if (e == win)
			continue;
		if (d->score[e] > top) {
			second = top;
			top = d->score[e];
			win = e;
		} else if (d->score[e] > second) {
			second = d->score[e];
		}
	}
	if (best)
		*best = top;
	if (confidence) {
		long c;

		if (top < 0)
			c = 5;
		else if (top == 0)
			c = 30;
		else
			c = 40 + 15 * (top - (second > 0 ? second : 0));
		*confidence = (int)(c > 100 ? 100 : c < 0 ? 0 : c);
	}
	return win;
}

enum mc_encoding mc_text_detect(const char *in, size_t len, enum mc_encoding hint,
				int *confidence)
{
	struct mci_text_detect d;
	enum mc_encoding e;
	unsigned flags = mci_text_scan(in, len, NULL);
	int conf = 0;

	if (!(flags & (MCI_TEXT_NONASCII | MCI_TEXT_ESC))) {
		e = MC_ENC_UTF8;
		conf = 100;
	} else if (!(flags & MCI_TEXT_INVALID) && (flags & MCI_TEXT_NONASCII)) {
		e = MC_ENC_UTF8;
		conf = 95;
	} else {
		mci_text_detect_init(&d, hint);
		if (mci_text_detect_feed(&d, in, len) == 0)
			e = mci_text_detect_result(&d, NULL, &conf);
		else /* out of memory: say what the container claims */
			e = hint != MC_ENC_AUTO ? hint : MC_ENC_LATIN1;
		mci_text_detect_done(&d);
	}
	if (confidence)
		*confidence = conf;
	return e;
}

/* ---- mojibake ---- */

#define MOJI_MARGIN 3

void mci_text_moji_init(struct mci_text_moji *m)
{
	memset(m, 0, sizeof(*m));
	m->possible = 1;
	mc_buf_init(&m->bytes, MCI_TEXT_SCRATCH_MAX);
	mc_buf_init(&m->raw, MCI_TEXT_SCRATCH_MAX);
	mc_buf_init(&m->nfc, MCI_TEXT_SCRATCH_MAX);
}

void mci_text_moji_done(struct mci_text_moji *m)
{
	mc_buf_free(&m->bytes);
	mc_buf_free(&m->raw);
	mc_buf_free(&m->nfc);
}

int mci_text_moji_feed(struct mci_text_moji *m, const char *utf8, size_t len)
{
	long st = 0, sv = 0, vw = 0;
	size_t take, k;
	int rc;

	if (!m->possible)
		return 0;
	for (k = 0; k < len && !((unsigned char)utf8[k] & 0x80); k++)
		;
	if (k == len)
		return 0;
	take = budget_take(m->fed, utf8, len);
	/* never cut a character in two */
	while (take < len && take && ((unsigned char)utf8[take] & 0xC0) == 0x80)
		take--;
	if (!take)
		return 0;
	m->fed += take;
	mc_buf_reset(&m->bytes);
	rc = mci_text_cp1252_unmap(utf8, take, &m->bytes);
	if (rc == MC_E_ENCODING || rc == MC_E_TOOBIG) {
		m->possible = 0;
		return 0;
	}
	if (rc)
		return rc;
	rc = decode_score(MC_ENC_TCVN3, m->bytes.data, m->bytes.len, &m->raw, &m->nfc, &st, &vw,
			  NULL);
	if (!rc)
		rc = decode_score(MC_ENC_VNI, m->bytes.data, m->bytes.len, &m->raw, &m->nfc, &sv,
				  &vw, NULL);
	if (rc)
		return rc;
	m->orig += score_text(utf8, take, &vw);
	m->tcvn3 += st;
	m->vni += sv;
	return 0;
}

enum mc_encoding mci_text_moji_result(const struct mci_text_moji *m)
{
	long best;
	enum mc_encoding e;

	if (!m->possible || m->tcvn3 == m->vni)
		return MC_ENC_UTF8;
	e = m->tcvn3 > m->vni ? MC_ENC_TCVN3 : MC_ENC_VNI;
	best = e == MC_ENC_TCVN3 ? m->tcvn3 : m->vni;
	if (best >= 4 && best - m->orig >= MOJI_MARGIN)
		return e;
	return MC_ENC_UTF8;
}

enum mc_encoding mc_text_detect_mojibake(const char *utf8, size_t len)
{
	struct mci_text_moji m;
	enum mc_encoding e = MC_ENC_UTF8;

	if (!mc_utf8_valid(utf8, len, NULL))
		return MC_ENC_UTF8;
	mci_text_moji_init(&m);
	if (!mci_text_moji_feed(&m, utf8, len))
		e = mci_text_moji_result(&m);
	mci_text_moji_done(&m);
	return e;
}
