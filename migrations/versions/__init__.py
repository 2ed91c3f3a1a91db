"""Revision files, named <date>_<revision>_<slug>.py."""
