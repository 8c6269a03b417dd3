"""Figures: counts per period, year-on-year change, the five-year mean, the intake funnel by area, charts,
and the platform-side transparency report. See docs/stats.md."""
