"""TAP scans of training runs and power-law fits of what they measure.

Barney, Winer & Galitski (arXiv 2408.06421, section 3) follow a network through training:
every epoch's weights are read as couplings and the TAP critical temperature, the level
statistics of the TAP matrix and the top of the bond spectrum are recorded, then fitted by
power laws in the epoch.

- :mod:`.epochs`: :func:`~.epochs.scan_run` (one ``xarray.Dataset`` per run),
  :func:`~.epochs.save_scan` / :func:`~.epochs.load_scan` (netCDF).
- :mod:`.fits`: :func:`~.fits.fit_power_law`, :func:`~.fits.detect_exponent_change`,
  :func:`~.fits.fit_scan`.

Nothing here imports xarray at import time (it is imported by the functions that build or
read a Dataset), so importing this package stays cheap.
"""

from __future__ import annotations

from .epochs import load_scan, save_scan, scan_run
from .fits import (
    ExponentChange,
    PowerLawFit,
    detect_exponent_change,
    fit_power_law,
    fit_scan,
    scan_exponent_change,
)

__all__ = [
    "ExponentChange",
    "PowerLawFit",
    "detect_exponent_change",
    "fit_power_law",
    "fit_scan",
    "load_scan",
    "save_scan",
    "scan_exponent_change",
    "scan_run",
]
