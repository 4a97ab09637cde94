"""File ▸ New from lesson: the lessons in sections, a filter that narrows them, and
what each needs (its data, its steps, a download)."""

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


def test_the_filter_narrows_and_enter_opens_only_a_lesson(qtbot):
    dialog = LessonDialog()
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.keyClicks(dialog.filter, "adding")
    lessons = [slug for _, slug in rows(dialog) if slug is not None]
    expected = [s for s in sum(GROUPS.values(), ()) if "adding" in " ".join(
        (PRESETS[s].title, PRESETS[s].summary, s, PRESETS[s].look_for)).lower()]
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
