from textkit import word_count


def test_word_count_splits_on_runs_of_whitespace() -> None:
    assert word_count("  two   words ") == 2


def test_word_count_of_nothing_is_zero() -> None:
    assert word_count("") == 0
