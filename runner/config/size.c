/* The SIZE and DURATION parsers.
 *
 * Both work in integers only: a double cannot hold every byte count below 2^63, and
 * "1.5G" must be exactly 1610612736. A number is scanned first (so malformed text is
 * always -EINVAL, whatever its size), then computed with overflow checks (-ERANGE). */
#include "runner/config/size.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define SIZE_LIMIT (UINT64_C(1) << 63)  /* the first size refused */

/* Fraction digits kept; further digits are checked but weigh less than one unit. */
#define FRAC_DIGITS_MAX 9

/* A decimal number as written: "12.5" is int_part 12, frac 5, frac_scale 10. */
struct decimal {
	uint64_t int_part;
	bool int_overflow;   /* int_part did not fit: the value is out of range */
	uint64_t frac;       /* the first FRAC_DIGITS_MAX fraction digits */
	uint64_t frac_scale; /* 10^(digits kept), 1 without a fraction */
	bool has_frac;
};

/* Scans digits [ "." digits ] at the start of text. Returns the rest, or NULL when the
 * text does not start with a digit or a "." is not followed by one. No sign, no blanks,
 * no exponent: those are left in the rest and refused by the caller as a bad unit. */
static const char *scan_decimal(const char *text, struct decimal *d)
{
	const char *p = text;

	memset(d, 0, sizeof(*d));
	d->frac_scale = 1;
	if (*p < '0' || *p > '9')
		return NULL;
	for (; *p >= '0' && *p <= '9'; p++) {
		unsigned digit = (unsigned)(*p - '0');

		if (d->int_part > (UINT64_MAX - digit) / 10)
			d->int_overflow = true;
		else
			d->int_part = d->int_part * 10 + digit;
	}
	if (*p != '.')
		return p;
	p++;
	if (*p < '0' || *p > '9')
		return NULL;
	d->has_frac = true;
	for (int kept = 0; *p >= '0' && *p <= '9'; p++) {
		if (kept++ < FRAC_DIGITS_MAX) {
			d->frac = d->frac * 10 + (uint64_t)(*p - '0');
			d->frac_scale *= 10;
		}
	}
	return p;
}

/* floor(a * b / c), exactly: the product is formed in 128 bits as two 64-bit halves and
 * divided bit by bit, so neither the product nor the quotient's remainder can overflow.
 * Returns false when the quotient does not fit in 64 bits (or c is 0). */
static bool mul_div(uint64_t a, uint64_t b, uint64_t c, uint64_t *out)
{
	const uint64_t m32 = UINT64_C(0xffffffff);
	uint64_t p0 = (a & m32) * (b & m32), p1 = (a & m32) * (b >> 32);
	uint64_t p2 = (a >> 32) * (b & m32), p3 = (a >> 32) * (b >> 32);
	uint64_t mid = (p0 >> 32) + (p1 & m32) + (p2 & m32);
	uint64_t lo = (p0 & m32) | (mid << 32);
	uint64_t hi = p3 + (p1 >> 32) + (p2 >> 32) + (mid >> 32);
	uint64_t rem = hi, q = 0;

	if (c == 0 || hi >= c)
		return false;
	for (int bit = 63; bit >= 0; bit--) {
		bool carry = rem >> 63;  /* the shifted remainder needs a 65th bit */

		rem = (rem << 1) | ((lo >> bit) & 1);
		q <<= 1;
		if (carry || rem >= c) {
			rem -= c;
			q |= 1;
		}
	}
	*out = q;
	return true;
}

/* The binary multiplier of a size suffix, or 0 when the suffix is not one.
 * Accepted (any case): "", "B", and K/M/G/T followed by nothing, "B" or "iB". */
static uint64_t size_multiplier(const char *s)
{
	static const char prefixes[] = "kmgt";
	const char *at;
	uint64_t mult;

	if (*s == '\0' || strcasecmp(s, "b") == 0)
		return 1;
	at = strchr(prefixes, s[0] | 0x20);
	if (!at)
		return 0;
	mult = UINT64_C(1) << (10 * (at - prefixes + 1));
	s++;
	if (*s == '\0' || strcasecmp(s, "b") == 0 || strcasecmp(s, "ib") == 0)
		return mult;
	return 0;
}

/* "N%" of physical memory; the percentage must be in (0, 100]. */
static int percent_of(const struct decimal *d, uint64_t physical, uint64_t *bytes)
{
	uint64_t scaled; /* the percentage times frac_scale, at most 100 * 10^9 */

	if (d->int_overflow || d->int_part > 100)
		return -ERANGE;
	scaled = d->int_part * d->frac_scale + d->frac;
	if (scaled > 100 * d->frac_scale)
		return -ERANGE;
	/* Without the machine's size a percentage means nothing: the text is not usable. */
	if (physical == 0)
		return -EINVAL;
	if (!mul_div(physical, scaled, 100 * d->frac_scale, bytes))
		return -ERANGE;
	return 0;
}

int cfg_parse_size(const char *text, uint64_t physical_bytes, uint64_t *bytes)
{
	struct decimal d;
	const char *rest;
	uint64_t mult, value, frac_bytes;
	int r;

	if (!text)
		return -EINVAL;
	if (strcmp(text, "max") == 0) {
		*bytes = CFG_SIZE_MAX;
		return 0;
	}
	rest = scan_decimal(text, &d);
	if (!rest)
		return -EINVAL;

	if (strcmp(rest, "%") == 0) {
		r = percent_of(&d, physical_bytes, &value);
		if (r < 0)
			return r;
	} else {
		mult = size_multiplier(rest);
		if (mult == 0)
			return -EINVAL;
		/* A fraction of a byte is a typo, not a size. */
		if (mult == 1 && d.has_frac)
			return -EINVAL;
		if (d.int_overflow || d.int_part > (SIZE_LIMIT - 1) / mult)
			return -ERANGE;
		/* frac < frac_scale, so this is below mult: it always fits. */
		mul_div(mult, d.frac, d.frac_scale, &frac_bytes);
		value = d.int_part * mult + frac_bytes;
	}
	if (value == 0 || value >= SIZE_LIMIT)
		return -ERANGE;
	*bytes = value;
	return 0;
}

/* pytest-memray's spelling, "+1.5 GB": a sign, then blanks between the number and its
 * unit. Its units are powers of 1024 as ours are, so once those are dropped the text is a
 * SIZE. A marker's size is the test's own: "max" and "N%" are refused. */
int cfg_parse_marker_size(const char *text, uint64_t *bytes)
{
	char buf[64], *unit;
	size_t n = 0;
	uint64_t tib;
	int r;

	if (!text)
		return -EINVAL;
	if (*text == '+')
		text++;
	for (; *text; text++) {
		if (*text == ' ' || *text == '\t') {
			/* Blanks only between a number's last digit and its unit's first letter. */
			text += strspn(text, " \t");
			if (n == 0 || buf[n - 1] < '0' || buf[n - 1] > '9' || !isalpha((unsigned char)*text))
				return -EINVAL;
		}
		if (*text == '%' || n + 1 >= sizeof(buf))
			return -EINVAL;
		buf[n++] = *text;
	}
	buf[n] = '\0';
	if (strcmp(buf, "max") == 0)
		return -EINVAL;
	unit = buf + strspn(buf, "0123456789.");
	if (*unit == 'p' || *unit == 'P') {  /* pytest-memray's PB: 1024 TB */
		*unit = 'T';
		r = cfg_parse_size(buf, 0, &tib);
		if (r < 0)
			return r;
		if (tib > (SIZE_LIMIT - 1) / 1024)
			return -ERANGE;
		*bytes = tib * 1024;
		return 0;
	}
	return cfg_parse_size(buf, 0, bytes);
}

#define NS_PER_S  UINT64_C(1000000000)
#define DURATION_MAX (86400 * NS_PER_S)

int cfg_parse_duration(const char *text, uint64_t *ns)
{
	static const struct { const char *name; uint64_t ns; } units[] = {
		{ "",   NS_PER_S },
		{ "ms", NS_PER_S / 1000 },
		{ "s",  NS_PER_S },
		{ "m",  60 * NS_PER_S },
		{ "h",  3600 * NS_PER_S },
	};
	struct decimal d;
	const char *rest;
	uint64_t unit = 0, frac_ns, value;

	if (!text)
		return -EINVAL;
	rest = scan_decimal(text, &d);
	if (!rest)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(rest, units[i].name) == 0)
			unit = units[i].ns;
	if (unit == 0)
		return -EINVAL;
	if (d.int_overflow || d.int_part > DURATION_MAX / unit)
		return -ERANGE;
	mul_div(unit, d.frac, d.frac_scale, &frac_ns);  /* below unit: fits */
	value = d.int_part * unit + frac_ns;
	if (value == 0 || value > DURATION_MAX)
		return -ERANGE;
	*ns = value;
	return 0;
}

uint64_t cfg_physical_memory(void)
{
	long pages = sysconf(_SC_PHYS_PAGES);
	long page_size = sysconf(_SC_PAGESIZE);

	if (pages <= 0 || page_size <= 0)
		return 0;
	if ((uint64_t)pages > UINT64_MAX / (uint64_t)page_size)
		return 0;
	return (uint64_t)pages * (uint64_t)page_size;
}
