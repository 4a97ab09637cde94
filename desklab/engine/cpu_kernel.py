"""The fused CPU probe kernel (``probe_kernel.c``): built at first use, loaded with ctypes.

On the CPU the probe's cost was memory traffic: the tensor operations of
`probe_reduce` read each activation about ten times (stack, mean, centre, norm, abs,
peak, sign, ...). The C kernel reads it twice. It is compiled with the system C
compiler the first time a CPU probe needs it (about 0.1 s; no PyTorch headers, no
OpenMP runtime) into the user cache folder, keyed by the source, the flags and the
CPU, and written there atomically, so concurrent first runs are safe.

Without a C compiler, when the build fails, or with ``DESKLAB_NO_KERNEL=1`` in the
environment, `load` returns None and the probe uses the tensor operations instead
(the tests run both paths against numpy).
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import platform
import shlex
import shutil
import subprocess
import sysconfig
import tempfile
import threading
from pathlib import Path

from platformdirs import user_cache_dir

SOURCE = Path(__file__).with_name("probe_kernel.c")
FLAGS = ["-O3", "-fopenmp-simd", "-ffp-contract=off", "-shared", "-fPIC"]
NATIVE = ["-march=native"]  # AVX where the CPU has it: ~2x on the reductions
BUILD_TIMEOUT_S = 60
MAX_COUNTS = 1024  # the histogram tables' size in probe_kernel.c (N_BINS + 2 at most)

_P = ctypes.c_void_p
_I = ctypes.c_int64
_SIGNATURES = {
    "desklab_activations": [_I, _P, _P, _P, _P, _I, _P, _P, _P],
    "desklab_gradients": [_I, _P, _P, _P],
    "desklab_weights": [_I, _P, _P, _P, _P, _P],
}
_state: dict[str, object] = {}
_lock = threading.Lock()  # the trainer's thread and the GUI's preview may both ask first


def load() -> ctypes.CDLL | None:
    """The kernel library, built on first use; None where it cannot be (see module doc)."""
    with _lock:
        if "lib" not in _state:
            built = None if os.environ.get("DESKLAB_NO_KERNEL") else _build_and_load()
            _state["lib"] = built
        return _state["lib"]  # type: ignore[return-value]


def _compiler() -> str | None:
    configured = os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc"
    words = shlex.split(configured)
    return shutil.which(words[0]) if words else None


def _cpu_signature() -> str:
    """What -march=native depends on: the CPU's feature flags (Linux), else its name."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith(("flags", "Features")):
                    return line
    except OSError:
        pass
    return platform.processor() + platform.machine()


def _cache_dir() -> Path:
    """The user cache folder; where it is not writable, a fresh private temporary folder
    (never a shared, guessable one: another user could have put a library there)."""
    folder = Path(user_cache_dir("desklab")) / "kernels"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        if os.access(folder, os.W_OK):
            return folder
    except OSError:
        pass
    return Path(tempfile.mkdtemp(prefix="desklab-kernels-"))


def _build_and_load() -> ctypes.CDLL | None:
    compiler = _compiler()
    if compiler is None:
        return None
    try:
        source = SOURCE.read_bytes()
        folder = _cache_dir()
    except OSError:
        return None
    cpu = _cpu_signature().encode()
    for flags in (FLAGS + NATIVE, FLAGS):
        key = hashlib.sha256(b"\0".join([source, " ".join(flags).encode(), compiler.encode(),
                                         cpu])).hexdigest()[:16]
        target = folder / f"probe_kernel-{key}.so"
        if not target.exists() and not _compile(compiler, flags, target):
            continue
        try:
            lib = ctypes.CDLL(str(target))
        except OSError:
            continue
        for name, argtypes in _SIGNATURES.items():
            getattr(lib, name).argtypes = argtypes
            getattr(lib, name).restype = None
        return lib
    return None


def _compile(compiler: str, flags: list[str], target: Path) -> bool:
    """Compile into a temporary name beside ``target``, then rename: atomic."""
    fd, temporary = tempfile.mkstemp(suffix=".so", dir=target.parent)
    os.close(fd)
    try:
        done = subprocess.run([compiler, *flags, str(SOURCE), "-o", temporary, "-lm"],
                              capture_output=True, timeout=BUILD_TIMEOUT_S)
        if done.returncode != 0:
            return False
        os.replace(temporary, target)
        return True
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)


def pointers(addresses: list[int]) -> ctypes.Array:
    """A C array of pointers (0 is NULL)."""
    return (ctypes.c_void_p * len(addresses))(*[a or None for a in addresses])


def int64s(values: list[int]) -> ctypes.Array:
    return (ctypes.c_int64 * len(values))(*values)
