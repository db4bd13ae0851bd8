"""Digitpad's front ends: the `digitpad` command line and the Tk desktop app."""

__version__ = "0.2.0"
