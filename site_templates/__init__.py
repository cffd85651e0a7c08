"""The default theme of the static site, shipped inside the wheel as package data."""

from pathlib import Path

TEMPLATE_DIR = Path(__file__).parent
