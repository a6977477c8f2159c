"""Reads for the web pages: each returns in a fixed number of queries.

Writes live in ``core.services``; these functions only read, set-based, so a
page costs the same number of queries with ten rows or ten thousand.
"""
