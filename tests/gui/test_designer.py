"""pytest-qt tests of the designer: real widgets, real drops, undo to identical JSON."""

from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtWidgets import QApplication

from desklab.design import dumps, load_design
from desklab.gui.views.editor import ROLE_LINES


def real_drop(editor, mime, pos: QPoint) -> None:
    """Deliver drag-enter, drag-move and drop events to the editor's viewport."""
    from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent
    viewport = editor.viewport()
    actions = Qt.CopyAction | Qt.MoveAction
    for event in (QDragEnterEvent(pos, actions, mime, Qt.LeftButton, Qt.NoModifier),
                  QDragMoveEvent(pos, actions, mime, Qt.LeftButton, Qt.NoModifier),
                  QDropEvent(QPointF(pos), actions, mime, Qt.LeftButton, Qt.NoModifier)):
        QApplication.sendEvent(viewport, event)


def top_of(editor, path) -> QPoint:
    rect = editor.visualItemRect(editor.item_for(path))
    return QPoint(rect.center().x(), rect.top() + 3)


def bottom_of(editor, path) -> QPoint:
    rect = editor.visualItemRect(editor.item_for(path))
    return QPoint(rect.center().x(), rect.bottom() - 3)


def kinds(window):
    return [l.kind for l in window.doc.design.layers]


def test_drag_reorder_delete_undo_redo(window, qtbot):
    editor, palette, doc = window.network.tree, window.palette_list, window.doc
    from desklab.design.edit import set_field
    doc.edit("mark", lambda d: set_field(d, (0,), "units", 55))  # to recognise fc1 later
    doc.undo_stack.clear()
    doc.undo_stack.setClean()
    original = dumps(doc.design)
    n = len(doc.design.layers)
    conv_item = next(palette.item(i) for i in range(palette.count())
                     if palette.item(i).data(Qt.UserRole) == "flatten")
    real_drop(editor, palette.mimeData([conv_item]), top_of(editor, (2,)))
    assert kinds(window)[2] == "flatten" and len(doc.design.layers) == n + 1
    assert doc.selection == [(2,)]
    # drop the residual block tile right below the input card
    res_item = next(palette.item(i) for i in range(palette.count())
                    if palette.item(i).data(Qt.UserRole) == "residual")
    real_drop(editor, palette.mimeData([res_item]), bottom_of(editor, ("input",)))
    assert kinds(window)[0] == "residual"
    # reorder: drag fc1 (now at 1) below the 4th layer
    editor.item_for((1,)).setSelected(True)
    real_drop(editor, editor.mimeData([editor.item_for((1,))]), bottom_of(editor, (4,)))
    assert doc.design.layers[4].params == {"units": 55} and kinds(window)[2] == "flatten"
    # drop a layer into the middle of the residual block's card
    rect = editor.visualItemRect(editor.item_for((0,)))
    real_drop(editor, editor.mimeData([editor.item_for((5,))]), rect.center())
    assert [l.kind for l in doc.design.layers[0].layers] == ["dense"]
    # delete the selection with the Delete action
    doc.select([(1,)])
    window.act_delete.trigger()
    after_edits = dumps(doc.design)
    steps = doc.undo_stack.count()
    assert steps == 5
    for _ in range(steps):
        window.act_undo.trigger()
    assert dumps(doc.design) == original and not doc.modified
    for _ in range(steps):
        window.act_redo.trigger()
    assert dumps(doc.design) == after_edits


def test_duplicate_and_double_click_append(window):
    doc = window.doc
    n = len(doc.design.layers)
    doc.select([(3,)])
    window.act_duplicate.trigger()
    assert len(doc.design.layers) == n + 1 and doc.selection == [(4,)]
    window.palette_list.add_requested.emit("maxpool")  # what a double-click emits
    assert doc.design.layers[5].kind == "maxpool"  # inserted after the selection
    # a pool on a flat input: the summary under the network names the problem
    assert "maxpool needs an image input" in window.network.summary.text()


def test_edit_actions_follow_the_selection(window):
    """Duplicate, Delete, Move up / down are greyed out with nothing to act on (they
    were always enabled and did nothing), a move also at its end of the list, and the
    enabled ones do what they say."""
    from desklab.lessons import get_preset
    doc = window.doc
    doc.replace(get_preset("cnn-digits"))  # five different layers: a move changes the design
    acts = (window.act_duplicate, window.act_delete, window.act_up, window.act_down)

    def enabled():
        return tuple(a.isEnabled() for a in acts)
    n = len(doc.design.layers)
    doc.select([])
    assert enabled() == (False, False, False, False)
    doc.select([("input",)])  # the input and output cards are not layers
    assert enabled() == (False, False, False, False)
    doc.select([(0,)])
    assert enabled() == (True, True, False, True)  # the first: only down
    first = doc.design.layers[0].kind, doc.design.layers[0].params
    window.act_down.trigger()  # the edit re-emits the selection: (1,), both ways now
    assert doc.selection == [(1,)] and enabled() == (True, True, True, True)
    assert (doc.design.layers[1].kind, doc.design.layers[1].params) == first
    doc.select([(n - 1,)])
    assert enabled() == (True, True, True, False)  # the last: only up
    doc.select([(0,), (1,)])
    assert enabled() == (True, True, False, False)  # two: no move
    window.act_undo.trigger()
    doc.select([(0,)])
    assert (doc.design.layers[0].kind, doc.design.layers[0].params) == first


def test_inspector_edit_changes_card_and_shape(window, qtbot):
    doc, editor = window.doc, window.network.tree
    doc.select([(0,)])
    units = window.inspector.editors["units"]
    units.setValue(37)
    assert doc.design.layers[0].params["units"] == 37
    assert doc.analysis.info_at((0,)).out_shape == (37,)
    title, details, problems = editor.item_for((0,)).data(0, ROLE_LINES)
    assert "37 units" in title and any("→ 37" in d for d in details) and not problems
    assert doc.analysis.info_at((1,)).params == 37 * 100 + 100
    window.inspector.editors["activation"].setCurrentIndex(
        window.inspector.editors["activation"].findData("leaky_relu"))
    assert "activation.slope" in window.inspector.editors  # the form follows the choice
    assert window.inspector.curve_plot is not None
    x, y = window.inspector._df.getData()
    assert abs(y.max() - 1.0) < 1e-6 and abs(y.min() - 0.01) < 1e-6


def test_sigmoid_derivative_peaks_at_a_quarter(window):
    doc = window.doc
    doc.select([(0,)])
    combo = window.inspector.editors["activation"]
    combo.setCurrentIndex(combo.findData("sigmoid"))
    _, df = window.inspector._df.getData()
    assert abs(df.max() - 0.25) < 1e-3
    assert "weight std" in window.inspector.init_info.text()


def test_invalid_edit_marked_then_fixed(window, qtbot):
    doc, editor = window.doc, window.network.tree
    doc.select([(1,)])
    window.inspector.editors["units"].setValue(0)
    label = window.inspector.problem_labels["units"]
    assert label.isVisibleTo(window.inspector) and "between 1 and 65536" in label.text()
    _, _, problems = editor.item_for((1,)).data(0, ROLE_LINES)
    assert problems and "units" in problems[0]
    assert "problem" in window.network.summary.text()
    window.training.train()  # an invalid design cannot be trained
    assert window.training.controller.thread is None
    window.inspector.editors["units"].setValue(12)
    assert not label.isVisibleTo(window.inspector) and doc.analysis.ok
    _, _, problems = editor.item_for((1,)).data(0, ROLE_LINES)
    assert not problems


def test_open_save_round_trip_and_bad_file(window, tmp_path):
    doc = window.doc
    doc.select([(0,)])
    window.inspector.editors["units"].setValue(21)
    assert doc.modified and window.isWindowModified()
    path = tmp_path / "mine.json"
    assert window.save_to(path)
    assert not doc.modified and not window.isWindowModified()
    assert "mine.json" in window.windowTitle()
    window.open_preset("cnn-digits")
    assert window.open_path(path)
    assert dumps(doc.design) == dumps(load_design(path))
    assert str(path.resolve()) in window.recent_files()
    before = dumps(doc.design)
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "desklab.design/1", "layers": [{"kind": "transformer"}]}')
    assert not window.open_path(bad)
    assert "unknown layer kind" in window.errors[-1]
    assert dumps(doc.design) == before and bad.read_text().startswith('{"format"')


def test_preview_updates_after_an_edit(window, qtbot):
    doc = window.doc
    first = window.preview.last_snapshot
    doc.select([(0,)])
    with qtbot.waitSignal(window.preview.updated, timeout=10000):
        window.inspector.editors["units"].setValue(7)
    snap = window.preview.last_snapshot
    assert snap is not first and snap.layout.layers[0].out_shape == (7,)
    x, y = window.preview.std_curve.getData()
    assert len(x) == len(snap.layout)


def test_pointing_at_the_preview_names_a_layer_and_its_numbers(window, qtbot):
    """The at-init plot has a point per layer and no room for values: the mouse at a
    layer's depth says both in the status bar (Qt mouse events); beside the plot,
    nothing."""
    from qt_input import mouse_move
    window.resize(1400, 900)
    preview = window.preview
    view = preview.plot.getPlotItem().vb
    qtbot.waitUntil(lambda: view.width() > 100)
    names = preview.last_snapshot.layout.names
    (y0, y1) = view.viewRange()[1]
    mouse_move(preview.plot, view.mapViewToScene(QPointF(2.2, (y0 + y1) / 2)))
    std, grad = preview.std_curve.yData[2], preview.grad_curve.yData[2]  # as drawn at 2
    assert window.statusBar().currentMessage() == (
        f"layer {names[2]} at init: activation std {std:.2g} · mean |dL/dh| {grad:.2g}")
    box = view.sceneBoundingRect()
    mouse_move(preview.plot, QPointF(box.left() - 8, box.center().y()))  # on the axis
    assert window.statusBar().currentMessage() == ""


def test_the_preview_names_as_many_layers_as_its_width_holds(window, qtbot):
    """Resizing the dock re-thins the layer names under the at-init plot (they were
    thinned once, for the width the plot had when the preview arrived)."""
    preview, dock = window.preview, window.docks["preview"]
    view, axis = preview.plot.getPlotItem().vb, preview.plot.getAxis("bottom")
    names = preview.last_snapshot.layout.names
    assert len(names) >= 8  # (the default design: enough names to crowd a narrow plot)
    dock.setFloating(True)  # (the test screen is 800 px: a floating dock takes any width)
    for width, every in ((270, False), (700, True)):
        dock.resize(width, 400)
        qtbot.waitUntil(lambda w=width: abs(view.width() - (w - 70)) < 40)
        preview.plot.grab()
        drawn = set(axis.drawn_labels)
        assert names[0] in drawn and drawn <= set(names)
        assert (drawn == set(names)) == every, (view.width(), drawn)


def test_stale_previews_are_dropped(window, qtbot):
    doc = window.doc
    doc.select([(0,)])
    for units in (3, 4, 5, 6):  # a burst of edits
        window.inspector.editors["units"].setValue(units)
    qtbot.waitUntil(lambda: window.preview.last_snapshot is not None and
                    window.preview.last_snapshot.layout.layers[0].out_shape == (6,),
                    timeout=10000)
    assert window.preview.in_flight is None


def test_closing_with_unsaved_changes_asks(window, qtbot):
    from PySide6.QtWidgets import QMessageBox
    window.doc.select([(0,)])
    window.inspector.editors["units"].setValue(9)
    asked = []
    window.ask_save_changes = lambda: asked.append(1) or QMessageBox.Cancel
    assert not window.close()
    assert asked and window.isVisible()
    window.ask_save_changes = lambda: QMessageBox.Discard
    assert window.close()


def test_mixed_fields_show_no_one_layers_number(window):
    """Issue 25 item 14: two cards with different widths selected: "units (mixed)" shows
    an empty field reading "mixed", not the first card's number; a value typed then
    applies to both."""
    from desklab.design.edit import set_field
    doc = window.doc
    doc.edit("widths", lambda d: (set_field(d, (0,), "units", 40),
                                  set_field(d, (1,), "units", 70)))
    doc.select([(0,), (1,)])
    units = window.inspector.editors["units"]
    assert units.lineEdit().text() == "" and units.lineEdit().placeholderText() == "mixed"
    units.setValue(55)
    assert [doc.design.layers[i].params["units"] for i in (0, 1)] == [55, 55]
    assert units.lineEdit().text() == "55"


def test_lesson_panel_and_the_first_launch_welcome(window, qtbot):
    """Issue 25 item 9: the welcome's lesson opens deep-sigmoid with its story in the
    Lesson panel; its sign (vanishing) is ticked when the run's findings show it; the
    welcome is offered once."""
    from PySide6.QtWidgets import QPushButton
    assert window.offer_welcome() and window.welcome.isVisible()
    assert window.welcome.geometry() == window.training.plots_area.rect()
    window.welcome.findChild(QPushButton, "welcome_lesson").click()
    assert not window.welcome.isVisible() and window.doc.design.name == "deep-sigmoid"
    panel = window.lesson_panel
    assert "Look for" in panel.text.text() and "What should happen" in panel.text.text()
    sign = panel.signs["vanishing"]
    assert not sign.isChecked()
    window.doc.design.train.steps = 60
    window.training.act_train.trigger()
    qtbot.waitUntil(lambda: window.training.controller.state == "finished", timeout=30000)
    qtbot.waitUntil(sign.isChecked, timeout=5000)
    assert "seen from step" in sign.text()
    window.training.stop_and_reset()
    assert not sign.isChecked()  # the ticks are the run's on screen
    assert not window.offer_welcome()  # once
    window.new_design()
    assert panel.preset is None and "No lesson open" in panel.title.text()


def test_card_lines_read_whole_at_1280x720(window, qtbot):
    """At 1280 x 720 every init with the longest activation name reads whole on a card
    (the registries give long labels a short card name), and a card's tooltip has every
    line in full for narrower docks."""
    from PySide6.QtGui import QFontMetrics

    from desklab.design import ACTIVATIONS, INITS, LayerSpec
    from desklab.gui.views.cards import CardDelegate
    window.resize(1280, 720)

    def card_name(entry):
        return entry.meta.get("short", entry.label)
    longest = max(ACTIVATIONS.names(), key=lambda n: len(card_name(ACTIVATIONS[n])))
    window.doc.edit("inits", lambda d: setattr(d, "layers", [
        LayerSpec.make("dense", units=32, activation=longest, init=init)
        for init in INITS.names()]))
    tree = window.network.tree
    qtbot.waitUntil(lambda: window.width() == 1280)
    qtbot.wait(100)
    fm = QFontMetrics(tree.font())
    for row in range(1, len(INITS.names()) + 1):
        item = tree.topLevelItem(row)
        text_width = tree.visualItemRect(item).width() - 4 - 2 * CardDelegate.PAD - 28
        details = item.data(0, ROLE_LINES)[1]  # as paint() lays it out
        assert fm.horizontalAdvance(details[0]) <= text_width, (details[0], text_width)
        assert details[0] in item.toolTip(0)


def test_undo_and_redo_from_the_keyboard(window, qtbot):
    """Ctrl+Z undoes; Ctrl+Shift+Z (as the README says) and Ctrl+Y redo, on any platform:
    the offscreen one's standard Redo is Ctrl+Y, and Ctrl+Shift+Z did nothing there."""
    from PySide6.QtCore import Qt
    from PySide6.QtTest import QTest
    doc = window.doc
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    n = len(doc.design.layers)
    doc.select([(1,)])
    window.act_duplicate.trigger()
    for redo in (Qt.ControlModifier | Qt.ShiftModifier, Qt.ControlModifier):
        QTest.keyClick(window, Qt.Key_Z, Qt.ControlModifier)
        assert len(doc.design.layers) == n
        QTest.keyClick(window, Qt.Key_Z if redo & Qt.ShiftModifier else Qt.Key_Y, redo)
        assert len(doc.design.layers) == n + 1, redo
    assert window.act_quit.shortcut().toString()  # F1 lists it; Windows names no Quit key
