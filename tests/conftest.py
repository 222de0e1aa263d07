"""Shared test setup.

Framework tests run in their own virtual environments (see the Makefile): the variable
RLSP_TEST_FRAMEWORK says which one this is, and the other frameworks' test files are not
collected. A framework test imports its framework at the top, so a broken install fails loudly
instead of skipping.
"""

from __future__ import annotations

import os

FRAMEWORK = os.environ.get("RLSP_TEST_FRAMEWORK", "core")

collect_ignore_glob: list[str] = []
if FRAMEWORK != "verl":
    collect_ignore_glob.append("test_verl*.py")
if FRAMEWORK != "openrlhf":
    collect_ignore_glob.append("test_openrlhf*.py")
