"""Readers and writers: the only package (with the CLI) that touches files."""
