#!/usr/bin/env bash
# What bench/gpu_check.sh needs on the lent GPU machine and that machine lacks, fetched
# here (it reaches no package index): Python 3.12 wheels into .whl/ and the system
# libraries Qt's offscreen platform loads into .gl/ (both ignored by git; name both in
# the device call's `carry`). PySide6-Essentials is 97 MB, over the 64 MiB a call may
# carry: the copy here keeps QtCore, QtGui, QtWidgets, QtSvg, QtOpenGL(Widgets), QtTest
# and their Qt libraries and plugins (about 45 MB), which is all the app imports.
#
#   bash bench/gpu_wheels.sh && du -sh .whl .gl
set -eu
cd "$(dirname "$0")/.."
mkdir -p .whl .gl
PLATFORMS=(--platform manylinux_2_28_x86_64 --platform manylinux_2_17_x86_64
           --platform manylinux2014_x86_64)
python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 \
    --implementation cp "${PLATFORMS[@]}" -d .whl platformdirs "pyqtgraph>=0.13" \
    "shiboken6>=6.7,<6.12" "PySide6-Essentials>=6.7,<6.12"

python3 - <<'EOF'
"""Rewrite .whl/pyside6_essentials-*.whl without what DeskLab never loads."""
import pathlib, re, zipfile
KEEP = {"QtCore", "QtGui", "QtWidgets", "QtSvg", "QtOpenGL", "QtOpenGLWidgets", "QtTest",
        "QtDBus", "QtXcbQpa", "QtNetwork"}
DROP_DIRS = ("Qt/qml/", "Qt/translations/", "Qt/metatypes/", "Qt/libexec/", "include/",
             "typesystems/", "glue/", "scripts/")
for wheel in pathlib.Path(".whl").glob("pyside6_essentials-*.whl"):
    src = zipfile.ZipFile(wheel)
    kept = []
    for info in src.infolist():
        name = info.filename
        rest = name.split("/", 1)[1] if name.startswith("PySide6/") else None
        if rest is None:
            kept.append(info)  # the dist-info
            continue
        if rest.startswith(DROP_DIRS) or rest.endswith(".pyi"):
            continue
        lib = re.match(r"Qt/lib/libQt6(\w+?)\.so", rest)
        if lib and "Qt" + lib.group(1) not in KEEP:
            continue
        module = re.match(r"(Qt\w+)\.abi3\.so$", rest)
        if module and module.group(1) not in KEEP:
            continue
        if "/" not in rest and re.fullmatch(r"[a-z0-9_-]+", rest):  # tools: lupdate, qmlls...
            continue
        kept.append(info)
    tmp = wheel.with_suffix(".tmp")
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as out:
        for info in kept:
            out.writestr(info, src.read(info))
    src.close()
    tmp.replace(wheel)
    print(f"{wheel.name}: {len(kept)} files, {wheel.stat().st_size / 1e6:.0f} MB")
EOF

# Qt's offscreen platform and its fonts (the amd64 packages, whatever this machine is)
O=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64)
mkdir -p /tmp/amd64/partial
apt-get "${O[@]}" update -qq >/dev/null
(cd .gl && apt-get "${O[@]}" download -qq libegl1 libgl1 libglvnd0 libglx0 libopengl0 \
    libxkbcommon0 libfontconfig1 libfreetype6 libdbus-1-3 libglib2.0-0 fontconfig-config \
    fonts-dejavu-core libpng16-16 libbrotli1 libexpat1 >/dev/null)
du -sh .whl .gl
