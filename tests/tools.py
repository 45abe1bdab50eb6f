"""Third-party programs the tests drive (Debian's swaks, fetchmail, ...).

On a developer's machine a missing program skips its tests; in CI (``CI`` set), where
``.ci/run`` installs them, a missing program fails the tests instead of hiding them.
"""

from __future__ import annotations

import os
import shutil

import pytest

__all__ = ["needs"]


def needs(program: str) -> pytest.MarkDecorator:
    missing = shutil.which(program) is None and not os.environ.get("CI")
    return pytest.mark.skipif(missing, reason=f"{program} is not installed")
