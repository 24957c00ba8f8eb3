"""Counting words."""


def word_count(text: str) -> int:
    """The number of words in text: runs of whitespace separate words."""
    return len(text.split())
