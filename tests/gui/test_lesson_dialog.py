"""File ▸ New from lesson: the lessons in sections, a filter that narrows them, and
what each needs (its data, its steps, a download)."""

import re

from PySide6.QtCore import Qt

from desklab.gui.views.dialogs import LessonDialog
from desklab.lessons import GROUPS, PRESETS


def rows(dialog, hidden=False):
    items = [dialog.list.item(i) for i in range(dialog.list.count())]
    return [(i.text().strip(), i.data(Qt.UserRole)) for i in items
            if hidden or not i.isHidden()]


def test_every_lesson_once_under_its_section(qtbot):
    dialog = LessonDialog()
    qtbot.addWidget(dialog)
    shown = rows(dialog)
    sections = [text for text, slug in shown if slug is None]
    assert sections == list(GROUPS)
    slugs = [slug for _, slug in shown if slug is not None]
    assert sorted(slugs) == sorted(PRESETS) and len(slugs) == len(set(slugs))
    assert dialog.slug == slugs[0] and dialog.open_button.isEnabled()
    assert dialog.list.horizontalScrollBarPolicy() == Qt.ScrollBarAlwaysOff


def test_each_word_typed_starts_a_word_of_the_lesson(qtbot):
    """"too low" listed the LSTM lesson beside lr-too-low: its text says the gradient
    "fades too" and falls "below" the last step's. A word typed now has to start a
    word there; CamelCase parts count ("norm" finds the BatchNorm lessons)."""
    dialog = LessonDialog()
    qtbot.addWidget(dialog)

    def shown(text):
        dialog.filter.setText(text)
        return [slug for _, slug in rows(dialog) if slug is not None]

    assert shown("too low") == ["lr-too-low"]
    assert {"bad-init-no-bn", "bad-init-bn", "cnn-digits"} <= set(shown("norm"))
    assert {"bad-init-bn", "vgg-cifar"} <= set(shown("batchn"))
    assert "lstm-adding" in shown("LSTM") and "rnn-adding" not in shown("lstm")
    assert shown("resnet-56") == ["resnet-56"]
    assert shown("elow") == []  # inside "below": not a word's start


def test_the_filter_narrows_and_enter_opens_only_a_lesson(qtbot):
    dialog = LessonDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.filter, "adding")
    lessons = [slug for _, slug in rows(dialog) if slug is not None]
    expected = [s for s in sum(GROUPS.values(), ()) if re.search(r"\badding", " ".join(
        (PRESETS[s].title, PRESETS[s].summary, s, PRESETS[s].look_for)).lower())]
    assert lessons == expected and "lstm-adding" in lessons, lessons
    assert [t for t, slug in rows(dialog) if slug is None] == [
        g for g, slugs in GROUPS.items() if set(slugs) & set(expected)]
    assert dialog.slug == expected[0]
    qtbot.keyClick(dialog.filter, Qt.Key_Down)  # arrows in the filter move the list
    assert dialog.slug == expected[1]
    assert "needs" not in dialog.text.toPlainText()  # generated data: nothing to fetch
    dialog.filter.clear()
    qtbot.keyClicks(dialog.filter, "zzz no such lesson")
    assert dialog.slug is None and not dialog.open_button.isEnabled()
    assert "No lesson matches" in dialog.text.toPlainText()
    qtbot.keyClick(dialog.filter, Qt.Key_Return)
    assert dialog.isVisible()  # Enter with nothing chosen opens nothing
    dialog.filter.clear()
    qtbot.keyClicks(dialog.filter, "resnet-56")
    assert dialog.slug == "resnet-56"
    text = dialog.text.toPlainText()
    assert "CIFAR-10" in text and "163 MB download" in text and "64 000 steps" in text, text
    with qtbot.waitSignal(dialog.accepted, timeout=2000):
        qtbot.keyClick(dialog.filter, Qt.Key_Return)
