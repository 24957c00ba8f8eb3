"""URL slugs."""

import re

_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def slugify(text: str) -> str:
    """'Hello, World!' -> 'hello-world'."""
    return _NON_ALNUM.sub("-", text.lower()).strip("-")
