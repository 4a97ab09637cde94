"""The report's confusion entry and its one-line summary (pure functions)."""

import numpy as np

from desklab.metrics import Confusion
from desklab.metrics.report import confusion_entry, most_confused

NAMES = ("setosa", "versicolor", "virginica")


def test_the_largest_share_of_a_row_not_the_largest_count():
    counts = [[80, 20, 0],  # 20% of setosa taken for versicolor: the larger count
              [0, 10, 0],
              [5, 0, 5]]  # 50% of virginica taken for setosa: the larger share
    assert most_confused(counts, NAMES) == (
        "most confused: 2 (virginica) taken for 0 (setosa) in 50% of its validation "
        "examples")
    assert most_confused(counts).startswith("most confused: 2 taken for 0 in 50%")


def test_no_mistakes_no_line_and_names_only_when_they_fit():
    assert most_confused([[3, 0], [0, 4]]) is None
    assert confusion_entry(Confusion(7, np.array([[3, 0], [0, 4]])), NAMES) == {
        "step": 7, "rows": "true class", "columns": "predicted class",
        "counts": [[3, 0], [0, 4]]}
    assert confusion_entry(Confusion(7, np.array([[1]])), ("a",))["class_names"] == ["a"]


def test_the_diagonal_share_is_the_accuracy():
    assert Confusion(1, np.array([[3, 1], [0, 4]])).diagonal_share == 7 / 8
    assert np.isnan(Confusion(1, np.zeros((2, 2), np.int64)).diagonal_share)
