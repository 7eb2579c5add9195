/* Round numbers for the chart's axes: ticks at 1, 2 or 5 times a power of ten of the unit
 * shown (Heckbert, "Nice numbers for graph labels", Graphics Gems, 1990), as plotting
 * libraries place them. */
#ifndef WCMEM_REPORT_AXIS_H
#define WCMEM_REPORT_AXIS_H

/* One axis: ticks at 0, step, 2 * step, ... up to top, each labelled "%.*f UNIT" with
 * decimals; value = shown * scale (the bytes or seconds of one unit). */
struct rep_axis {
	double step, top;   /* in the unit shown */
	double scale;       /* bytes or seconds of one unit */
	int decimals;       /* of the step: 0 for 100, 1 for 0.5, 2 for 0.05 */
	const char *unit;   /* "MB", "GB", "s", "min", "h" */
};

/* The round step (1, 2 or 5 times a power of ten) nearest span / parts. span > 0. */
double rep_axis_step(double span, int parts);

/* An axis of sizes from 0 to at least max bytes: MB (MiB, as the log writes them) below
 * 2 GiB, GB above; its top is a tick, a little above max. */
struct rep_axis rep_axis_bytes(double max);

/* An axis of times from 0 to end seconds: s up to 2 minutes, min up to 2 hours, h; top is
 * end itself (the last tick is at or before it). */
struct rep_axis rep_axis_seconds(double end);

/* Tick i's label ("200 MB", "0.5 s"). Returns buf. */
char *rep_axis_label(const struct rep_axis *x, int i, char *buf, unsigned size);

#endif
