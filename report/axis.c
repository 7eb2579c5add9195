/* Round numbers for the chart's axes (axis.h). */
#include "report/axis.h"

#include <stdio.h>

/* Without libm: the axes need powers of ten and whole multiples only. */
static double ceil_of(double v)
{
	double w = (double)(long long)v;

	return w < v ? w + 1 : w;
}

double rep_axis_step(double span, int parts)
{
	double raw = span / (parts > 0 ? parts : 1), p = 1, f;

	if (!(raw > 1e-9 && raw < 1e300))  /* not NaN, not infinite: the loops below end */
		return 1;
	while (raw / p >= 10)
		p *= 10;
	while (raw / p < 1)
		p /= 10;
	f = raw / p;
	/* Heckbert's rounding: the nearest of 1, 2, 5, 10 on a log scale */
	return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * p;
}

/* The decimals of a step: 0 for 20, 1 for 0.5, 2 for 0.05, so every tick prints exactly. */
static int decimals_of(double step)
{
	int d = 0;

	for (double s = step; d < 9 && s < 0.999999; s *= 10)
		d++;
	return d;
}

struct rep_axis rep_axis_bytes(double max)
{
	struct rep_axis x = { .scale = 1048576.0, .unit = "MB" };
	double v;

	if (max >= 2048.0 * 1048576.0) {
		x.scale *= 1024.0;
		x.unit = "GB";
	}
	v = max > 0 ? max / x.scale : 1;
	x.step = rep_axis_step(v, 5);
	x.top = ceil_of(v / x.step - 1e-9) * x.step;
	if (x.top - v < x.step * 0.05)
		x.top += x.step;  /* room above the highest line */
	x.decimals = decimals_of(x.step);
	return x;
}

struct rep_axis rep_axis_seconds(double end)
{
	struct rep_axis x = { .scale = 1, .unit = "s" };

	if (!(end > 0))
		end = 1;
	if (end > 2 * 3600.0) {
		x.scale = 3600;
		x.unit = "h";
	} else if (end > 120) {
		x.scale = 60;
		x.unit = "min";
	}
	x.top = end / x.scale;
	x.step = rep_axis_step(x.top, 8);
	x.decimals = decimals_of(x.step);
	return x;
}

char *rep_axis_label(const struct rep_axis *x, int i, char *buf, unsigned size)
{
	snprintf(buf, size, "%.*f %s", x->decimals, x->step * i, x->unit);
	return buf;
}
