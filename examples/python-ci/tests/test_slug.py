from textkit import slugify


def test_slugify_joins_words_with_dashes() -> None:
    assert slugify("Hello, World!") == "hello-world"


def test_slugify_drops_leading_and_trailing_separators() -> None:
    assert slugify("  --ws--  ") == "ws"
