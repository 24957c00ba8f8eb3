"""Small text helpers: the package the example's checks and agents work on."""

from textkit.slug import slugify
from textkit.words import word_count

__all__ = ["slugify", "word_count"]
