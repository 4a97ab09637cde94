"""Design files: round trip, strict structure, clear errors, atomic saves."""

import json
import os
from pathlib import Path

import pytest

from desklab.design import (
    DesignFileError, LayerSpec, design_to_dict, dumps, load_design, loads, save_design,
)
from desklab.lessons import PRESETS, get_preset


@pytest.mark.parametrize("slug", list(PRESETS))
def test_round_trip_every_preset(slug, tmp_path):
    design = get_preset(slug)
    path = tmp_path / "d.json"
    save_design(design, path)
    assert load_design(path) == design
    assert json.loads(path.read_text())["format"] == "desklab.design/1"


def test_residual_round_trip():
    design = get_preset("deep-relu")
    design.layers.insert(1, LayerSpec.make("residual", layers=[
        LayerSpec.make("dense", units=100, name="inner")]))
    assert loads(dumps(design)) == design


BAD = {
    "not json": ("{", "not valid JSON"),
    "a list": ("[]", "must be an object"),
    "no format": ("{}", "not a DeskLab design"),
    "future format": ('{"format": "desklab.design/9"}', "not supported"),
    "unknown top field": ('{"format": "desklab.design/1", "colour": 1}', "unknown field"),
    "layers not a list": ('{"format": "desklab.design/1", "layers": {}}', "must be a list"),
    "layer without kind": ('{"format": "desklab.design/1", "layers": [{}]}', "needs a \"kind\""),
    "unknown kind": ('{"format": "desklab.design/1", "layers": [{"kind": "transformer"}]}',
                     "unknown layer kind"),
    "string units": ('{"format": "desklab.design/1", "layers": [{"kind": "dense", '
                     '"units": "ten"}]}', "units must be a whole number"),
    "float units": ('{"format": "desklab.design/1", "layers": [{"kind": "dense", '
                    '"units": 1.5}]}', "units must be a whole number"),
    "typo field": ('{"format": "desklab.design/1", "layers": [{"kind": "dense", '
                   '"unts": 5}]}', "unknown field 'unts'"),
    "pool with activation": ('{"format": "desklab.design/1", "layers": [{"kind": "maxpool", '
                             '"activation": "relu"}]}', "unknown field 'activation'"),
    "bad train type": ('{"format": "desklab.design/1", "train": {"lr": "fast"}}',
                       "lr must be a number"),
    "bool as int": ('{"format": "desklab.design/1", "train": {"steps": true}}',
                    "steps must be a whole number"),
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_documents_give_clear_messages(case, tmp_path):
    text, words = BAD[case]
    path = tmp_path / "bad.json"
    path.write_text(text)
    with pytest.raises(DesignFileError, match=words.replace("(", r"\(")):
        load_design(path)
    assert path.read_text() == text  # never modified


def test_bad_files(tmp_path):
    with pytest.raises(DesignFileError, match="no such file"):
        load_design(tmp_path / "missing.json")
    with pytest.raises(DesignFileError, match="is a folder"):
        load_design(tmp_path)
    (tmp_path / "empty.json").write_text("")
    with pytest.raises(DesignFileError, match="is empty"):
        load_design(tmp_path / "empty.json")
    (tmp_path / "bin.json").write_bytes(bytes(range(256)))
    with pytest.raises(DesignFileError, match="not a text file"):
        load_design(tmp_path / "bin.json")
    deep = "[" * 100000 + "]" * 100000
    with pytest.raises(DesignFileError):
        loads(deep)


def test_out_of_range_values_load_and_are_reported_by_validation():
    from desklab.design import analyze
    design = loads('{"format": "desklab.design/1", "layers": [{"kind": "dense", '
                   '"units": 100000000}]}')
    assert not analyze(design).ok


def test_save_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "d.json"
    save_design(get_preset("deep-relu"), path)
    original = path.read_text()

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        save_design(get_preset("cnn-digits"), path)
    assert path.read_text() == original
    assert [p.name for p in tmp_path.iterdir()] == ["d.json"]  # temp file cleaned up


def test_document_is_plain_json():
    doc = design_to_dict(get_preset("cnn-digits"))
    assert json.loads(json.dumps(doc)) == doc


def test_catalog_doc_is_generated_from_the_registry():
    from pathlib import Path

    from desklab.design.docs import catalog_markdown
    doc = Path(__file__).resolve().parents[2] / "docs" / "catalog.md"
    assert doc.read_text() == catalog_markdown() + "\n", \
        "run: python -m desklab.design.docs > docs/catalog.md"


def test_format_doc_example_loads_and_validates():
    from pathlib import Path

    from desklab.design import analyze
    text = (Path(__file__).resolve().parents[2] / "docs" / "design-format.md").read_text()
    example = text.split("```json")[1].split("```")[0]
    assert analyze(loads(example)).ok


def test_atomic_save_keeps_permissions(tmp_path):
    path = tmp_path / "d.json"
    save_design(get_preset("deep-relu"), path)
    assert (path.stat().st_mode & 0o777) == (0o666 & ~_umask())  # not mkstemp's 0600
    os.chmod(path, 0o640)
    save_design(get_preset("cnn-digits"), path)
    assert (path.stat().st_mode & 0o777) == 0o640


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_atomic_path_renames_on_success_and_cleans_up_on_failure(tmp_path):
    from desklab.util.files import atomic_path
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            Path(tmp).write_bytes(b"half")
            raise RuntimeError("crash mid-write")
    assert target.read_bytes() == b"old" and [p.name for p in tmp_path.iterdir()] == ["out.bin"]
    with atomic_path(target) as tmp:
        Path(tmp).write_bytes(b"new")
    assert target.read_bytes() == b"new" and [p.name for p in tmp_path.iterdir()] == ["out.bin"]


def test_reads_never_hang_or_run_unbounded(tmp_path):
    """A FIFO named .json, a device and an oversized file are refused at once, with a
    reason naming the file; a UTF-8 byte-order mark is accepted."""
    import os
    import time

    from desklab.design import DesignFileError, NetworkDesign, dumps, load_design
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    start = time.monotonic()
    with pytest.raises(DesignFileError, match="pipe.json is not a regular file"):
        load_design(fifo)
    with pytest.raises(DesignFileError, match="not a regular file"):
        load_design("/dev/zero")
    assert time.monotonic() - start < 5
    bom = tmp_path / "bom.json"
    bom.write_bytes(b"\xef\xbb\xbf" + dumps(NetworkDesign(name="bom")).encode())
    assert load_design(bom).name == "bom"


def test_saves_write_through_links_and_refuse_what_they_must_not_replace(tmp_path):
    import os
    import stat

    from desklab.design import NetworkDesign, load_design, save_design
    real = tmp_path / "real.json"
    save_design(NetworkDesign(name="old"), real)
    link = tmp_path / "link.json"
    link.symlink_to(real)
    save_design(NetworkDesign(name="new"), link)
    assert link.is_symlink() and load_design(real).name == "new"  # the target got it
    real.chmod(0o444)
    with pytest.raises(OSError, match="read-only"):
        save_design(NetworkDesign(name="newer"), real)
    assert load_design(real).name == "new"
    with pytest.raises(OSError, match="not a regular file"):
        save_design(NetworkDesign(), "/dev/null")
    assert stat.S_ISCHR(os.stat("/dev/null").st_mode)
    with pytest.raises(OSError, match="does not exist"):
        save_design(NetworkDesign(), tmp_path / "missing" / "d.json")


def test_norm_position_is_saved_and_counts_its_parameters():
    """'after' normalises the maxout output (width / k features), 'before' the linear
    output: the parameter counts differ, and a save + load must keep the choice."""
    from desklab.design import InputSpec, LayerSpec, NetworkDesign, analyze, dumps, loads
    from desklab.engine import build
    design = NetworkDesign(input=InputSpec("moons"), layers=[LayerSpec.make(
        "dense", units=16, activation="maxout", norm="batchnorm", norm_position="after")])
    again = loads(dumps(design))
    assert again.layers[0].norm_position == "after"
    counted = sum(p.numel() for p in build(again).parameters())
    assert analyze(again).total_params == analyze(design).total_params == counted


def test_a_design_with_100k_layers_is_refused_before_anything_is_built(window, tmp_path):
    """The CLI refused it in 2 s, but the GUI built 10^5 cards first (240 s frozen)."""
    import json
    import time

    from desklab.design import dumps
    from desklab.lessons import get_preset
    doc = json.loads(dumps(get_preset("deep-relu")))
    doc["layers"] = [{"kind": "dense", "units": 8}] * 100_000  # 2.5 MB: under the size cap
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(doc))
    before = dumps(window.doc.design)
    began = time.perf_counter()
    assert window.open_path(path, confirm=False) is False
    assert time.perf_counter() - began < 5
    assert "100,000 layers" in window.errors[-1] and dumps(window.doc.design) == before


def test_generated_data_too_large_for_memory_is_a_problem_not_an_allocation():
    from desklab.design import InputSpec, LayerSpec, NetworkDesign, analyze
    design = NetworkDesign(input=InputSpec("gaussian", {"samples": 200_000, "dim": 8192}),
                           layers=[LayerSpec.make("dense", units=8)])
    problems = analyze(design).problems
    assert problems and "6.1 GiB" in problems[0].message and problems[0].field == "input.params"


def test_a_save_removes_temp_files_a_killed_save_left(tmp_path):
    import os

    from desklab.design import save_design
    from desklab.lessons import get_preset
    target = tmp_path / "d.json"
    old = tmp_path / ".d.json.abc123.tmp"  # what kill -9 mid-save leaves
    fresh = tmp_path / ".d.json.def456.tmp"  # another process saving right now
    other = tmp_path / ".e.json.abc123.tmp"  # another file's
    for f in (old, fresh, other):
        f.write_text("partial")
    os.utime(old, (0, 0))
    os.utime(other, (0, 0))
    save_design(get_preset("deep-relu"), target)
    assert not old.exists() and fresh.exists() and other.exists() and target.exists()
