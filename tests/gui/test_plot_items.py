"""The live view's drawing helpers: per-layer curve families drawn as a few items, and
log axes whose labels never pile up."""

import numpy as np
import pyqtgraph as pg

from desklab.gui.plots.layer_lines import MAX_ITEMS, LayerLines
from desklab.gui.plots.log_axis import LogAxis
from desklab.gui.plots import depth_colors


def curve_items(plot) -> list:
    return [i for i in plot.items if isinstance(i, pg.PlotCurveItem)]


def test_fifty_layers_become_a_few_items_with_every_layer_drawn(qtbot):
    widget = pg.PlotWidget()
    qtbot.addWidget(widget)
    plot = widget.getPlotItem()
    lines = LayerLines(plot)
    lines.set_layers(list(range(50)), depth_colors(50))
    assert len(curve_items(plot)) == MAX_ITEMS + 1  # bands + the highlight on top
    steps = np.arange(30.0)
    rows = np.arange(50)[:, None] * 10.0 + np.sin(steps)[None, :]  # (L, T)
    lines.set_data(steps, rows)
    drawn = np.concatenate([item.getData()[1] for item in curve_items(plot)
                            if item.isVisible() and item.getData()[1] is not None])
    assert sorted(drawn.tolist()) == sorted(rows.ravel().tolist())  # each value once
    for layer in (0, 17, 49):
        x, y = lines.layer_data(layer)
        assert np.array_equal(x, steps) and np.array_equal(y, rows[layer])
    # no line joins one layer's last point to the next layer's first
    band = next(item for item in curve_items(plot) if item.isVisible())
    connect = band.opts["connect"]
    assert connect.sum() == len(connect) - len(connect) // 30
    lines.highlight(17)
    top = [i for i in curve_items(plot) if i.zValue() > 0][0]
    assert top.isVisible() and top.opts["pen"].width() == 3
    assert np.array_equal(top.getData()[1], rows[17])
    lines.highlight(-1)
    assert not top.isVisible()


def test_few_layers_keep_one_item_and_colour_each(qtbot):  # qtbot: a QApplication
    widget = pg.PlotWidget()
    plot = widget.getPlotItem()
    colors = depth_colors(3)
    lines = LayerLines(plot)
    lines.set_layers([0, 2], colors)  # a subset, as the saturation family has
    bands = [i for i in curve_items(plot) if i.zValue() == 0]
    assert [b.opts["pen"].color().name() for b in bands] == [colors[0].name(),
                                                             colors[2].name()]
    widget.deleteLater()


def labels(axis, lo: int, hi: int, pixels: float) -> list[str]:
    decades = [(1.0, [float(k) for k in range(lo, hi + 1)])]  # what tickValues gives
    ticks = axis.logTickValues(lo, hi, pixels, decades)
    values = [v for _, level in ticks for v in level]
    return [s for s in axis.logTickStrings(values, 1.0, 1.0) if s]


def test_log_axis_labels_only_what_fits(qtbot):  # alone (-k) it aborted without one
    axis = LogAxis("left")
    axis.setLogMode(True)
    plain = pg.AxisItem("left")
    plain.setLogMode(True)
    assert len(labels(plain, -4, -2, 80)) == 20  # the pile-up seen on the live view
    short = labels(axis, -4, -2, 80)  # two decades on 80 px: the live view's small plots
    assert short == ["0.0001", "0.001", "0.01"]
    medium = labels(axis, -4, -2, 200)  # 100 px a decade: 1, 2 and 5
    assert {"0.0002", "0.0005"} <= set(medium) and "0.0003" not in medium
    tall = labels(axis, -4, -2, 400)  # room for every mantissa
    assert "0.0003" in tall


def test_log_axis_labels_never_touch(qtbot):
    """Issue 25 item 3: a sub-decade log range on a small plot drew "0.0040.0050.006"."""
    from desklab.gui.plots import log_axis
    plot = pg.PlotWidget(axisItems=log_axis.axes())
    qtbot.addWidget(plot)
    plot.setLogMode(x=True, y=True)
    plot.resize(260, 200)
    plot.show()
    plot.setXRange(np.log10(0.003), np.log10(0.01), padding=0)
    qtbot.wait(50)
    axis = plot.getAxis("bottom")
    width = axis.width() or 200
    values = [lv for _, level in axis.tickValues(np.log10(0.003), np.log10(0.01), width)
              for lv in level]
    strings = axis.tickStrings(values, 1.0, 1.0)
    shown = sorted((v, t) for v, t in zip(values, strings) if t)
    assert len(shown) >= 2, shown
    per_decade = width / (np.log10(0.01) - np.log10(0.003))
    for (v1, t1), (v2, _) in zip(shown, shown[1:]):
        assert (v2 - v1) * per_decade >= 7 * len(t1) + 8, shown


def test_long_module_paths_are_shortened_for_axis_labels():
    """A script's module paths (BERT's) would crowd a layer axis: leading parts cut to a
    letter, the last two whole; short names untouched."""
    from desklab.gui.plots.base import layer_ticks, short_layer_name
    assert short_layer_name("bert.encoder.layer.3.output.LayerNorm") == \
        "b.e.l.3.output.LayerNorm"
    assert short_layer_name("features.0") == "features.0"
    assert short_layer_name("fc3") == "fc3"
    ticks = layer_ticks(["fc1", "bert.encoder.layer.0.attention.self.key"], 1000, 10)
    assert ticks == [[(0, "fc1"), (1, "b.e.l.0.a.self.key")]]


def test_through_time_panel_shows_the_recurrent_layer_pointed_at(qtbot):
    """Two recurrent layers: the first is shown; pointing at the second (a hover in any
    plot) shows its own ||dL/dh_t||, and pointing at the head keeps it."""
    from desklab.design import InputSpec, LayerSpec, NetworkDesign, OutputSpec, TrainConfig
    from desklab.engine.trainer import Trainer
    from desklab.gui.plots import ThroughTimePanel
    from desklab.metrics import RunHistory
    design = NetworkDesign(
        input=InputSpec("adding", {"length": 9, "samples": 256}, preprocess="none"),
        layers=[LayerSpec.make("rnn", hidden=8, returns="sequence"),
                LayerSpec.make("lstm", hidden=8)],
        output=OutputSpec("regression"),
        train=TrainConfig(batch_size=32, steps=20, probe_every=5))
    history = RunHistory()
    for event in Trainer(design).events():
        if event.kind in ("snapshot", "steps"):
            history.record(event.kind, event.payload)
    panel = ThroughTimePanel()
    qtbot.addWidget(panel)
    panel.set_layout(history.layout)
    panel.update(history)
    assert "rnn1" in panel.heat_plot.titleLabel.text
    np.testing.assert_array_equal(panel.now.yData, history.latest.time_grad[0])
    panel.highlight(1)  # lstm2
    panel.update(history)
    assert "lstm2" in panel.heat_plot.titleLabel.text
    np.testing.assert_array_equal(panel.now.yData, history.latest.time_grad[1])
    assert panel.heat.image.shape == (len(history.time_grads), 9)
    panel.highlight(2)  # the head: not recurrent, the LSTM stays
    assert "lstm2" in panel.heat_plot.titleLabel.text
    # pointing reads both plots (Qt mouse events): decades from t = 9, and both curves
    from PySide6.QtCore import QPointF
    from qt_input import mouse_move
    told = []
    panel.hover_detail.connect(told.append)
    panel.resize(400, 500)
    panel.show()
    qtbot.waitExposed(panel)
    series = history.time_grads  # (N probes, R recurrent layers, T steps)
    first_step = int(series.steps[0])
    mouse_move(panel, panel.heat_plot.vb.mapViewToScene(QPointF(1, first_step + 0.5)))
    decades = np.log10(series.values[0, 1, 0] / series.values[0, 1, -1])
    assert told[-1] == (f"layer lstm2 · step {first_step} · ‖dL/dh_t‖ at t 1 is "
                        f"{decades:+.1f} decades from t 9's")
    mouse_move(panel, panel.curve_plot.vb.mapViewToScene(QPointF(3, 0)))
    now, first = history.latest.time_grad[1], history.first.time_grad[1]
    assert told[-1] == (f"layer lstm2 · t 3 · ‖dL/dh_t‖ {now[2]:.2g} at step "
                        f"{history.latest.step}, {first[2]:.2g} at step {history.first.step}")


def test_heatmap_column_reaches_from_its_probe_to_the_next(qtbot):
    """Each snapshot's column starts at its own step and ends at the next probe's; the
    columns once spread over [first, last] only, leaving a blank gap after the last
    probe (seen in the compare window) and each column up to a gap left of its step."""
    from desklab.gui.plots import ActivationPanel
    from desklab.metrics import N_BINS, N_STATS, LayerMeta, ProbeLayout, RunHistory, Snapshot
    from desklab.metrics.snapshot import STAT_INDEX
    layout = ProbeLayout((LayerMeta("fc1", "dense", "relu", (8,), 40, (-1.0, 1.0), True),))
    history = RunHistory()
    for step in range(0, 100, 10):  # act_std 10^-(step / 30): each column its own colour
        stats = np.ones((1, N_STATS))
        stats[0, STAT_INDEX["act_std"]] = 10 ** (-step / 30)
        history.record("snapshot", Snapshot(step, layout, stats, np.ones((1, N_BINS + 2)),
                                            1.0, 0.01), diagnose=False)
    panel = ActivationPanel()
    qtbot.addWidget(panel)
    panel.set_layout(layout)
    panel.update(history)
    rect = panel.heat.mapRectToParent(panel.heat.boundingRect())
    assert (rect.left(), rect.right()) == (0.0, 100.0)  # the probe at 90 reaches to 100
    image = panel.heat.image  # (L, T) after the panel's log10
    width = rect.width() / image.shape[1]
    column = int((55 - rect.left()) // width)  # what is drawn at step 55: the probe at 50
    assert np.isclose(image[0, column], -50 / 30)


def test_long_module_names_never_squeeze_the_activation_plots(qtbot):
    """A BERT followed from its script: "b.e.l.3.output.LayerNorm" labels took 160 of the
    panel's 290 px and cut its plots off at the right (docs/img/huggingface.png showed
    it). Labels longer than a third of the panel give way to layer numbers. Closing the
    shown panel then segfaulted (its resize after pyqtgraph's close touched deleted
    items): the test's end closes it."""
    from desklab.gui.plots import ActivationPanel
    from desklab.metrics import LayerMeta, ProbeLayout
    names = [f"bert.encoder.layer.{i // 6}.attention.self.query" for i in range(36)]
    layout = ProbeLayout(tuple(LayerMeta(n, "dense", "relu", (8,), 40, (-1.0, 1.0), True)
                               for n in names))
    panel = ActivationPanel()
    qtbot.addWidget(panel)
    panel.resize(290, 360)
    panel.show()
    qtbot.waitExposed(panel)
    panel.set_layout(layout)

    def labels() -> list:
        panel.grab()  # painted: the axes drew their labels (over a layout pass or two)
        return panel.shown()["plots"][0]["y_labels"]
    qtbot.waitUntil(lambda: bool(labels()), timeout=3000)
    assert all(label.isdigit() for label in labels()), labels()
    assert panel.shown()["fits"], "the plots are wider than the panel: cut off"
    panel.resize(1400, 360)  # room enough: the (shortened) names come back
    qtbot.waitUntil(lambda: any("query" in label for label in labels()), timeout=3000)
    panel.close()


def test_a_confusion_matrix_names_its_classes_as_the_data_does(qtbot):
    """Catalog names follow the class's number on the rows ("1 versicolor"); a file's
    numeric labels (classes 0, 1, 2 of labels 3, 7, 9) stand alone on both axes."""
    from desklab.gui.plots import ConfusionPanel
    from desklab.metrics import Confusion
    panel = ConfusionPanel()
    qtbot.addWidget(panel)
    panel.resize(400, 400)
    panel.show()
    counts = np.array([[5, 1, 0], [0, 6, 0], [2, 0, 4]])
    for names, columns, rows in (
            (("setosa", "versicolor", "virginica"), ["0", "1", "2"],
             ["0 setosa", "1 versicolor", "2 virginica"]),
            (("3", "7", "9"), ["3", "7", "9"], ["3", "7", "9"]),
            ((), ["0", "1", "2"], ["0", "1", "2"])):
        panel.reset()
        panel.set_class_names(names)
        panel.update_counts(Confusion(10, counts))
        def labelled(want=(columns, rows)):  # (laid out once painted)
            shown = panel.grab() is not None and panel.shown()["plots"][0]
            return (shown["x_labels"], shown["y_labels"]) == want
        qtbot.waitUntil(labelled, timeout=3000)
        (shown,) = panel.shown()["plots"]
        assert f"{15 / 18:.1%} on the diagonal" in shown["title"]
    panel.close()


def test_a_narrow_linear_axis_leaves_out_labels_that_would_touch(qtbot):
    """A step axis 0..2000 in ~130 px drew "500 10001500"; labels that would touch the
    one before are left out (ticks stay), as on log axes."""
    widget = pg.PlotWidget(axisItems={"bottom": LogAxis("bottom")})
    qtbot.addWidget(widget)
    widget.resize(170, 120)
    widget.show()
    plot = widget.getPlotItem()
    plot.setXRange(0, 2000, padding=0)
    axis = plot.getAxis("bottom")
    qtbot.waitUntil(lambda: widget.grab() is not None and len(axis.drawn_labels) > 0,
                    timeout=3000)
    px = plot.vb.width() / 2000  # pixels per step
    values = [float(t) for t in axis.drawn_labels]
    assert values == sorted(values) and len(values) >= 1
    for (a, b), text in zip(zip(values, values[1:]), axis.drawn_labels[1:]):
        assert (b - a) * px >= 7 * len(text) + 8, (axis.drawn_labels, px)
    widget.resize(900, 120)  # with room, the labels it left out come back
    qtbot.waitUntil(lambda: widget.grab() is not None and len(axis.drawn_labels) > len(
        values), timeout=3000)


def drawn_at(plot, lo: float, hi: float) -> list[tuple[float, float, float]]:
    """(value, left, right) of each label ``plot``'s step axis draws for ``lo .. hi``,
    sorted by value: where pyqtgraph puts each label's text."""
    plot.setXRange(lo, hi, padding=0)
    return [(value, rect.left(), rect.right())
            for value, rect in drawn_texts(plot.getAxis("bottom"))]


def drawn_specs(axis) -> list:
    """(rectangle, text) of each label ``axis`` draws now: what pyqtgraph works out for
    its next paint (the cached picture dropped first)."""
    from PySide6.QtGui import QImage, QPainter
    axis.picture = None
    image = QImage(10, 10, QImage.Format_ARGB32)
    painter = QPainter(image)
    try:
        _, _, texts = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return [(rect, text) for rect, _, text in texts]


def drawn_texts(axis) -> list:
    """(value, rectangle) of each label ``axis`` draws now, sorted by value."""
    return sorted(((float(text.replace("\N{MINUS SIGN}", "-")), rect)
                   for rect, text in drawn_specs(axis)), key=lambda pair: pair[0])


def test_labels_of_two_tick_levels_never_touch_and_stay_evenly_spaced(qtbot):
    """The loss plot at 1280 x 720 (a 114 px step axis, 0..400) drew "50  20050": the
    100s thinned on their own, then the 50s thinned on their own, one beside the other.
    At any width the labels drawn are evenly spaced and never touch, whichever tick
    level they come from."""
    from desklab.gui.plots.base import small_font
    widget = pg.PlotWidget(axisItems={"bottom": LogAxis("bottom")})
    qtbot.addWidget(widget)
    widget.show()
    plot = widget.getPlotItem()
    axis = plot.getAxis("bottom")
    axis.setStyle(tickFont=small_font())  # as the panels have it (base._plot)
    axis.setTickDensity(0.7)
    for width in range(120, 420, 7):
        widget.resize(width, 120)
        qtbot.waitUntil(lambda w=width: abs(widget.width() - w) < 2, timeout=1000)
        for hi in (400, 600, 1000, 2000, 50_000):
            drawn = drawn_at(plot, 0, hi)
            assert drawn, (width, hi)
            values = [v for v, _, _ in drawn]
            assert len(set(np.diff(values))) <= 1, (values, width, hi)
            for (_, _, right), (_, left, _) in zip(drawn, drawn[1:]):
                assert left - right >= 2, (drawn, width, hi)


def test_a_short_colour_bar_labels_its_ends_without_touching(qtbot):
    """The layer x time heatmap at 1280 x 720 has a ~21 px colour bar over -4..1: its
    "0", "-2" and "-4" were drawn into each other. Now labels never overlap and, where
    only two fit, they are the ends of the scale."""
    from desklab.gui.plots.colour_image import colour_image
    widget = pg.GraphicsLayoutWidget()
    qtbot.addWidget(widget)
    plot = widget.addPlot()
    image, bar = colour_image(plot, "inferno", (-4, 1))
    image.setImage(np.zeros((4, 4), np.float32), levels=(-4, 1))
    widget.show()
    seen_short = False
    for height in (60, 65, 75, 90, 120, 200, 400):
        widget.resize(300, height)
        qtbot.waitUntil(lambda h=height: abs(widget.height() - h) < 2, timeout=1000)
        drawn = drawn_texts(bar.axis)
        assert len(drawn) >= 2, (height, drawn)
        for (_, low), (_, high) in zip(drawn, drawn[1:]):  # value up, y down
            assert low.top() >= high.bottom(), (height, drawn)
        values = [v for v, _ in drawn]
        assert len(set(np.diff(values))) == 1, values
        seen_short |= bar.axis.height() < 25
        if bar.axis.height() < 25:  # 2 of the 5 units fit no more labels than two
            assert values == [-4, 0], (height, drawn)
    assert seen_short


def test_a_layer_axis_names_its_first_and_last_layers(qtbot):
    """The depth plots drew "fc4 fc7 fc10" of fc1..head: every k-th name from the
    first, and the first left out by pyqtgraph as it reached past the axis' end. Now
    the input and the output side are named at every width where two names fit, the
    names between evenly, none touching."""
    from desklab.gui.plots.base import small_font
    from desklab.gui.plots.layer_names import layer_ticks, overhanging_names
    names = [f"fc{i}" for i in range(1, 11)] + ["head"]
    widget = pg.PlotWidget(axisItems={"bottom": LogAxis("bottom")})
    qtbot.addWidget(widget)
    widget.show()
    plot = widget.getPlotItem()
    axis = plot.getAxis("bottom")
    axis.setStyle(tickFont=small_font())
    overhanging_names(axis)
    plot.setXRange(-0.5, len(names) - 0.5, padding=0)
    for width in range(110, 700, 37):
        widget.resize(width, 120)
        qtbot.waitUntil(lambda w=width: abs(widget.width() - w) < 2, timeout=1000)
        axis.setTicks(layer_ticks(names, plot.vb.width(), 7 * 4 + 10))
        drawn = drawn_texts_named(axis)
        shown = [text for _, text in drawn]
        assert shown[0] == "fc1" and shown[-1] == "head", (width, shown)
        for (a, _), (b, _) in zip(drawn, drawn[1:]):
            assert b.left() - a.right() >= 2, (width, shown)


def drawn_texts_named(axis) -> list:
    """(rectangle, text) of each label ``axis`` draws now, left to right."""
    return sorted(drawn_specs(axis), key=lambda pair: pair[0].left())


def test_class_labels_are_evenly_spaced_and_end_at_the_last_class():
    """The confusion matrix's rows read "0 2 4 7 9" once the ends were both named:
    whole classes at an even step where one fits (0, 3, 6, 9), never closer than a
    label's room."""
    from desklab.gui.plots.layer_names import layer_ticks
    classes = [str(c) for c in range(10)]
    for pixels in range(30, 300, 3):
        (ticks,) = layer_ticks(classes, pixels, 14)
        shown = [i for i, _ in ticks]
        assert shown[0] == 0 and len(set(np.diff(shown))) <= 1, (pixels, shown)
        if len(shown) > 1:
            assert shown[-1] == 9 and (shown[1] - shown[0]) * pixels / 10 >= 14, shown


def test_a_log_axis_within_one_decade_is_labelled_where_its_values_are(qtbot):
    """The compare window fits its log loss axis to two runs' losses around 1.6: no
    1..9 x 10^k lay inside, so the axis had no number. It now labels evenly spaced
    values (1, 2 or 5 x 10^k apart), each drawn at the height of the value it reads,
    and never two touching. Checked at three heights and five narrow ranges."""
    widget = pg.PlotWidget(axisItems=log_axis_axes())
    qtbot.addWidget(widget)
    widget.show()
    plot = widget.getPlotItem()
    plot.setLogMode(y=True)
    axis = plot.getAxis("left")
    for height in (110, 180, 300):
        widget.resize(300, height)
        qtbot.waitUntil(lambda h=height: abs(widget.height() - h) < 2, timeout=1000)
        for low, high in ((1.45, 1.8), (1.52, 1.68), (0.0112, 0.0127), (230.0, 270.0),
                          (2.1, 2.9)):
            plot.setYRange(np.log10(low), np.log10(high), padding=0)
            qtbot.wait(30)  # the axis widens for longer labels before it paints
            drawn = drawn_texts(axis)
            assert len(drawn) >= 2, (height, low, high, drawn)
            for value, rect in drawn:
                assert low <= value <= high, (value, low, high)
                # where pyqtgraph puts the label: the value's height on the view
                y = plot.vb.mapViewToScene(pg.Point(0, np.log10(value))).y()
                centre = axis.mapToScene(rect.center()).y()
                assert abs(centre - y) < 2, (value, centre, y)
            for (_, low_rect), (_, high_rect) in zip(drawn, drawn[1:]):
                assert low_rect.top() >= high_rect.bottom(), drawn
            steps = np.diff([v for v, _ in drawn])
            assert np.allclose(steps, steps[0], rtol=1e-6), drawn


def log_axis_axes():
    from desklab.gui.plots import log_axis
    return log_axis.axes()


def test_a_panel_refits_its_plots_when_their_minimum_shrinks(qtbot):
    """pyqtgraph fits a panel's plots to it only when the panel is resized. A followed
    script's through-time panel (163 px at 1280 x 720) stayed 185 px wide, cut off at
    the right: its minimum shrank after its last resize (the colour bar's labels were
    measured at the first paint). Here a title's minimum is made wide, then narrow."""
    from desklab.gui.plots.through_time import ThroughTimePanel
    panel = ThroughTimePanel()
    qtbot.addWidget(panel)
    panel.resize(163, 260)
    panel.show()
    label = panel.heat_plot.titleLabel
    label.setMinimumWidth(300)
    panel.resize(164, 260)  # laid out now: as wide as that minimum
    qtbot.waitUntil(lambda: panel.ci.geometry().width() > 250, timeout=2000)
    label.setMinimumWidth(60)  # the minimum shrinks; no resize follows
    panel.viewport().update()
    qtbot.waitUntil(lambda: panel.ci.geometry().width() <= panel.width() + 1, timeout=2000)


def test_an_axis_title_wider_than_its_axis_stays_on_the_plot(qtbot):
    """The gradient panel at 163 px: "layer (input → output)" is wider than the data
    column pyqtgraph centres it under, and ran 12 px past the panel's right edge."""
    widget = pg.PlotWidget(axisItems=log_axis_axes())
    qtbot.addWidget(widget)
    widget.getPlotItem().setLabel("bottom", "layer (input → output)")
    widget.getPlotItem().setLabel("left", "gradient")
    widget.resize(163, 160)
    widget.show()
    qtbot.wait(50)
    axis = widget.getPlotItem().getAxis("bottom")
    rect = axis.label.mapRectToScene(axis.label.boundingRect())
    assert rect.right() <= widget.width() and rect.left() >= 0, rect
    widget.resize(400, 160)  # room to spare: centred under the data, as pyqtgraph has it
    qtbot.wait(50)
    rect = axis.label.mapRectToScene(axis.label.boundingRect())
    centre = axis.mapRectToScene(axis.boundingRect()).center().x()
    assert abs(rect.center().x() - centre) < 2
