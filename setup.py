"""Only for `scrapyd-deploy`, which builds the egg with `python setup.py bdist_egg` and
would otherwise write a setup.py of its own here. Everything is in pyproject.toml."""

from setuptools import setup

setup()
