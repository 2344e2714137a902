"""The installed version, as `dxbot --version` prints it and metrics report it."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("dxbot")
except PackageNotFoundError:  # run from a source tree without installing it
    VERSION = "0+unknown"
