"""Pure edit operations behind the editor's undo commands."""

import pytest

from desklab.design import LayerSpec, NetworkDesign, analyze, dumps
from desklab.design.edit import (
    duplicate_layers, get_field, insert_layer, move_layers, remove_layers, set_field,
)


def net(*units):
    return NetworkDesign(layers=[LayerSpec.make("dense", units=u) for u in units])


def units(design):
    return [l.params.get("units", l.kind) for l in design.layers]


def test_insert_remove_duplicate():
    d = net(1, 2, 3)
    assert insert_layer(d, (), 1, LayerSpec.make("dense", units=9)) == (1,)
    assert units(d) == [1, 9, 2, 3]
    remove_layers(d, [(0,), (2,)])
    assert units(d) == [9, 3]
    assert duplicate_layers(d, [(0,)]) == [(1,)]
    assert units(d) == [9, 9, 3]


@pytest.mark.parametrize("paths,index,expected", [
    ([(0,)], 3, [2, 3, 1, 4]),
    ([(3,)], 0, [4, 1, 2, 3]),
    ([(0,), (1,)], 4, [3, 4, 1, 2]),
    ([(2,)], 2, [1, 2, 3, 4]),
])
def test_move_keeps_order(paths, index, expected):
    d = net(1, 2, 3, 4)
    move_layers(d, paths, (), index)
    assert units(d) == expected


def test_move_into_and_out_of_a_block():
    d = net(1, 2)
    insert_layer(d, (), 1, LayerSpec.make("residual", layers=[LayerSpec.make("dense", units=7)]))
    new = move_layers(d, [(0,)], (1,), 1)  # fc 1 into the block, which shifts to index 0
    assert new == [(0, 1)] and units(d) == ["residual", 2]
    assert [l.params["units"] for l in d.layers[0].layers] == [7, 1]
    move_layers(d, [(0, 0)], (), 2)  # and 7 out to the end
    assert units(d) == ["residual", 2, 7]
    with pytest.raises(ValueError):
        move_layers(d, [(0,)], (0,), 0)


def test_fields_round_trip_and_match_problem_names():
    d = net(4)
    set_field(d, (0,), "activation", "leaky_relu")
    assert get_field(d, (0,), "activation.slope") == 0.01
    set_field(d, (0,), "activation.slope", 2.0)
    set_field(d, (0,), "units", 0)
    set_field(d, (), "train.lr", -1.0)
    set_field(d, (), "input.noise", -2.0)
    problems = {(p.path, p.field) for p in analyze(d).problems}
    assert problems == {((0,), "activation.slope"), ((0,), "units"), ((), "train.lr"),
                        ((), "input.noise")}
    set_field(d, (0,), "activation", "relu")  # choosing another activation resets settings
    assert d.layers[0].activation_params == {}
    set_field(d, ("output",), "init", "gaussian")
    assert get_field(d, ("output",), "init.std") == 0.01


def test_copy_is_independent():
    d = net(3)
    before = dumps(d)
    c = d.copy()
    set_field(c, (0,), "units", 5)
    assert dumps(d) == before
