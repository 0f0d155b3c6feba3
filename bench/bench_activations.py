"""Time actlib's activations and derivatives against numpy/scipy peers and print Markdown.

Run by hand, not under pytest::

    .venv/bin/python bench/bench_activations.py            # 1e6 and 1e7 elements
    .venv/bin/python bench/bench_activations.py --quick    # 1e6 elements only

bench/README.md explains the columns.
"""

# ruff: noqa: E402 -- the thread variables must be set before numpy and scipy load.
from __future__ import annotations

import os

# One thread everywhere, so that the timings compare single-threaded formulations. BLAS and
# OpenMP read these variables once, when the library loads.
for _variable in (
    "OPENBLAS_NUM_THREADS",
    "OMP_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
):
    os.environ[_variable] = "1"

import argparse
import datetime
import functools
import gc
import importlib.metadata
import logging
import platform
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import scipy
from _accuracy import check_points, max_ulp_error, mp_reference
from _formulations import BenchFunction, Formulation, bench_functions
from numpy.lib.introspect import opt_func_info
from numpy.typing import NDArray
from threadpoolctl import threadpool_info

import actlib

logger = logging.getLogger("bench")

DTYPES: tuple[type[np.floating[Any]], ...] = (np.float32, np.float64)
CHANNELS = 100
PRELU_CHECK_SLOPE = 0.25
MIB = 2**20

# Cost class of an activation from the float32 time at 1e6 elements of its fastest
# formulation within COST_ULP on ordinary inputs, as a multiple of ReLU's: up to
# LOW_COST_MAX is 低, up to MEDIUM_COST_MAX is 中, above is 高.
COST_ULP = 4
ORDINARY_X_MAX = 20.0
LOW_COST_MAX = 2.0
MEDIUM_COST_MAX = 8.0
# The agreed target: actlib at most this many times slower than the same-accuracy peer.
TARGET_RATIO = 1.5


@dataclass(frozen=True)
class Accuracy:
    """Max ULP errors of actlib and of each peer on the check points, for one dtype.

    The ordinary errors count only the points with |x| <= ORDINARY_X_MAX whose exact
    result is 0 or a normal number, and so ignore the subnormal range.
    """

    actlib: float
    peers: dict[str, float]
    ordinary_actlib: float
    ordinary_peers: dict[str, float]

    def same_accuracy(self, peer: Formulation) -> bool:
        return self.peers[peer.label] <= self.actlib


@dataclass(frozen=True)
class Timing:
    """Best time in seconds and peak extra memory in bytes of one call."""

    seconds: float
    peak_bytes: int


@dataclass(frozen=True)
class Row:
    """One line of the results table: a function on one dtype and size."""

    function: BenchFunction
    dtype: type[np.floating[Any]]
    size: int
    input_bytes: int
    accuracy: Accuracy
    actlib: Timing
    actlib_out: Timing | None
    peers: dict[str, float]

    def fastest(self, *, same_accuracy: bool) -> Formulation | None:
        candidates = [
            peer
            for peer in self.function.peers_for(self.dtype)
            if not same_accuracy or self.accuracy.same_accuracy(peer)
        ]
        return min(candidates, key=lambda peer: self.peers[peer.label], default=None)

    def cheapest_ordinary(self) -> tuple[str, float]:
        """Return the label and time of the fastest formulation within COST_ULP on ordinary inputs.

        actlib counts as a formulation, and its time is used when no formulation qualifies.
        """
        candidates = [
            (peer.label, self.peers[peer.label])
            for peer in self.function.peers_for(self.dtype)
            if self.accuracy.ordinary_peers[peer.label] <= COST_ULP
        ]
        if self.accuracy.ordinary_actlib <= COST_ULP or not candidates:
            candidates.append(("actlib", self.actlib.seconds))
        return min(candidates, key=lambda candidate: candidate[1])


# ---------------------------------------------------------------------------------------
# Measuring


def best_time(call: Callable[[], object], repeats: int) -> float:
    """Return the fastest of repeats runs of call, in seconds, after one warm-up run.

    The result is freed after the clock stops, and the garbage collector is off.
    """
    call()
    collector_was_enabled = gc.isenabled()
    gc.disable()
    try:
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            result = call()
            times.append(time.perf_counter() - start)
            del result
    finally:
        if collector_was_enabled:
            gc.enable()
    return min(times)


def peak_extra_bytes(call: Callable[[], object]) -> int:
    """Return the tracemalloc peak during one call, above what was allocated before it.

    numpy reports its array buffers to tracemalloc, so this counts the output array and
    every temporary array.
    """
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        result = call()
        _, peak = tracemalloc.get_traced_memory()
        del result
    finally:
        tracemalloc.stop()
    return peak - before


def measure(call: Callable[[], object], repeats: int) -> Timing:
    return Timing(best_time(call, repeats), peak_extra_bytes(call))


def measure_out(
    function: BenchFunction, x: NDArray[Any], slope: NDArray[Any], repeats: int
) -> Timing | None:
    """Time actlib's call with a preallocated out=, or return None if it rejects out=."""
    out = np.empty_like(x)
    try:
        function.actlib_out(x, slope, out)
    except TypeError as error:
        logger.warning("%s: out= not supported (%s)", function.name, error)
        return None
    return measure(lambda: function.actlib_out(x, slope, out), repeats)


def accuracy_of(function: BenchFunction, dtype: type[np.floating[Any]]) -> Accuracy:
    """Measure actlib and every peer of function against mpmath on the check points."""
    points = check_points(dtype)
    x = points.reshape(1, 1, -1)
    slope = np.array([PRELU_CHECK_SLOPE], dtype=dtype)
    expected = mp_reference(function.exact, x, PRELU_CHECK_SLOPE)
    magnitude = (
        None
        if function.magnitude is None
        else mp_reference(function.magnitude, x, PRELU_CHECK_SLOPE)
    )
    compared = (x != 0) if function.kink_at_zero else np.ones(x.shape, dtype=np.bool_)

    ordinary = (
        compared
        & (np.abs(x) <= ORDINARY_X_MAX)
        & ((expected == 0) | (np.abs(expected) >= np.finfo(dtype).tiny))
    )
    peers = function.peers_for(dtype)
    outputs = {peer.label: np.asarray(peer.call(x, slope)) for peer in peers}
    actlib_output = np.asarray(function.actlib(x, slope))

    def error(y: NDArray[Any], where: NDArray[np.bool_]) -> float:
        return max_ulp_error(y, expected, where, magnitude)

    return Accuracy(
        actlib=error(actlib_output, compared),
        peers={label: error(y, compared) for label, y in outputs.items()},
        ordinary_actlib=error(actlib_output, ordinary),
        ordinary_peers={label: error(y, ordinary) for label, y in outputs.items()},
    )


def bench_inputs(
    size: int, dtype: type[np.floating[Any]], seed: int
) -> tuple[NDArray[Any], NDArray[Any]]:
    """Return x of shape (10, CHANNELS, size / 1000), drawn from N(0, 4²), and a slope.

    The slope contains one PReLU slope per channel, drawn from [0, 0.5).
    """
    rng = np.random.default_rng(seed)
    x = (4.0 * rng.standard_normal(size)).astype(dtype).reshape(10, CHANNELS, -1)
    slope = rng.uniform(0.0, 0.5, CHANNELS).astype(dtype)
    return x, slope


def bench_row(
    function: BenchFunction,
    accuracy: Accuracy,
    x: NDArray[Any],
    slope: NDArray[Any],
    repeats: int,
) -> Row:
    """Time actlib, actlib with out=, and every peer on the same input."""
    return Row(
        function=function,
        dtype=x.dtype.type,
        size=x.size,
        input_bytes=x.nbytes,
        accuracy=accuracy,
        actlib=measure(lambda: function.actlib(x, slope), repeats),
        actlib_out=measure_out(function, x, slope, repeats),
        peers={
            peer.label: best_time(functools.partial(peer.call, x, slope), repeats)
            for peer in function.peers_for(x.dtype.type)
        },
    )


# ---------------------------------------------------------------------------------------
# Reporting


def format_ulp(error: float) -> str:
    if error == float("inf"):
        return "inf"
    return f"{error:.0f}" if error < 1e4 else f"{error:.0e}"


def format_peer(row: Row, peer: Formulation | None) -> tuple[str, str, str]:
    """Return the peer's label with its ULP error, its time in ms, and actlib's ratio to it."""
    if peer is None:
        return "none", "", ""
    seconds = row.peers[peer.label]
    # A pipe inside a code span still ends a Markdown table cell unless escaped.
    code = peer.label.replace("|", "\\|")
    label = f"`{code}` ({format_ulp(row.accuracy.peers[peer.label])})"
    return label, f"{seconds * 1e3:.2f}", f"{row.actlib.seconds / seconds:.2f}"


def format_memory(timing: Timing | None, input_bytes: int) -> str:
    if timing is None:
        return ""
    return f"{timing.peak_bytes / MIB:.1f} ({timing.peak_bytes / input_bytes:.1f}x)"


def results_table(rows: Sequence[Row]) -> list[str]:
    lines = [
        "| function | dtype | actlib ms (ULP) | out= ms | same-accuracy peer (ULP) | ms | ratio "
        "| fastest peer (ULP) | ms | ratio | peak MiB (x input) | out= peak MiB |",
        "|---|---|--:|--:|---|--:|--:|---|--:|--:|--:|--:|",
    ]
    for row in rows:
        same = format_peer(row, row.fastest(same_accuracy=True))
        fastest = format_peer(row, row.fastest(same_accuracy=False))
        out_ms = f"{row.actlib_out.seconds * 1e3:.2f}" if row.actlib_out else ""
        lines.append(
            f"| {row.function.name} | {np.dtype(row.dtype).name} "
            f"| {row.actlib.seconds * 1e3:.2f} ({format_ulp(row.accuracy.actlib)}) | {out_ms} "
            f"| {' | '.join(same)} | {' | '.join(fastest)} "
            f"| {format_memory(row.actlib, row.input_bytes)} "
            f"| {format_memory(row.actlib_out, row.input_bytes)} |"
        )
    return lines


def cost_class(ratio_to_relu: float) -> str:
    if ratio_to_relu <= LOW_COST_MAX:
        return "低"
    if ratio_to_relu <= MEDIUM_COST_MAX:
        return "中"
    return "高"


def cost_table(rows: Sequence[Row]) -> list[str]:
    """Suggest a cost class per activation from float32 times at the smallest size.

    The class rests on the fastest formulation within COST_ULP on ordinary inputs, so that
    it measures the activation rather than how actlib implements it or handles
    subnormal results.
    """
    size = min(row.size for row in rows)
    float32_rows = {
        row.function.name: row for row in rows if row.dtype is np.float32 and row.size == size
    }
    _, relu = float32_rows["relu"].cheapest_ordinary()
    lines = [
        f"| activation | actlib ms | fastest within {COST_ULP} ULP | ms | f xReLU | f' xReLU "
        "| suggested cost |",
        "|---|--:|---|--:|--:|--:|---|",
    ]
    activations = dict.fromkeys(row.function.activation for row in float32_rows.values())
    for name in activations:
        forward, derivative = (r for r in float32_rows.values() if r.function.activation == name)
        label, seconds = forward.cheapest_ordinary()
        ratio = seconds / relu
        derivative_ratio = derivative.cheapest_ordinary()[1] / relu
        code = label.replace("|", "\\|")
        lines.append(
            f"| {name} | {forward.actlib.seconds * 1e3:.2f} | `{code}` | {seconds * 1e3:.2f} "
            f"| {ratio:.1f} | {derivative_ratio:.1f} | {cost_class(ratio)} |"
        )
    return lines


def target_misses(rows: Sequence[Row]) -> list[str]:
    misses = []
    for row in rows:
        peer = row.fastest(same_accuracy=True)
        if peer is None:
            continue
        ratio = row.actlib.seconds / row.peers[peer.label]
        if ratio > TARGET_RATIO:
            misses.append(
                f"- {row.function.name}, {np.dtype(row.dtype).name}, {row.size:.0e}: "
                f"{ratio:.2f}x `{peer.label}`"
            )
    return misses or ["- none"]


def environment_lines() -> list[str]:
    """Describe the machine, library versions, thread settings and SIMD targets."""
    lines = [
        f"- date: {datetime.datetime.now(datetime.UTC):%Y-%m-%d %H:%M} UTC",
        f"- machine: {cpu_model()}, {os.cpu_count()} logical cores, {platform.system()}",
        f"- Python {platform.python_version()}, numpy {np.__version__}, scipy "
        f"{scipy.__version__}, actlib {importlib.metadata.version('actlib')} "
        f"({actlib_revision()})",
        "- OPENBLAS_CORETYPE="
        f"{os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, OPENBLAS_L2_SIZE="
        f"{os.environ.get('OPENBLAS_L2_SIZE', '(unset)')}",
    ]
    for pool in threadpool_info():
        lines.append(
            f"- {pool['internal_api']} {pool['version']} ({pool['prefix']}): kernel "
            f"{pool.get('architecture', '?')}, {pool['num_threads']} thread(s)"
        )
    targets = opt_func_info(func_name="^(exp|expm1|tanh|maximum)$", signature="^(float32|float64)")
    current = sorted({info["current"] for loops in targets.values() for info in loops.values()})
    lines.append(f"- numpy SIMD target of exp, expm1, tanh, maximum: {', '.join(current)}")
    return lines


def actlib_revision() -> str:
    """Return the last git commit that changed actlib/, marked if actlib/ has changes."""
    package = Path(actlib.__file__).parent
    try:
        commit = subprocess.run(
            ["git", "-C", str(package), "log", "-1", "--format=%h", "--", "."],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changes = subprocess.run(
            ["git", "-C", str(package), "status", "--porcelain", "--", "."],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "not in a git checkout"
    return f"commit {commit}" + (" with uncommitted changes in actlib/" if changes else "")


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


# ---------------------------------------------------------------------------------------
# Main


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--quick", action="store_true", help="time arrays of 1e6 elements only, not 1e7"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=5,
        help="timed runs per call at 1e6 elements, of which the fastest counts (default 5). "
        "1e7 elements use half as many, at least 3.",
    )
    parser.add_argument(
        "--only",
        nargs="+",
        metavar="ACTIVATION",
        help="benchmark only these activations (names as in actlib.REGISTRY)",
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of the input data")
    return parser.parse_args(argv)


def selected_functions(only: Sequence[str] | None) -> list[BenchFunction]:
    functions = bench_functions()
    known = {function.activation for function in functions}
    missing = sorted(set(actlib.REGISTRY) - known)
    if missing:
        logger.warning("no benchmark for actlib.REGISTRY entries: %s", ", ".join(missing))
    if only is None:
        return functions
    unknown = sorted(set(only) - known)
    if unknown:
        raise SystemExit(
            f"error: unknown activation(s) {', '.join(unknown)}; "
            f"choose from {', '.join(sorted(known))}"
        )
    return [function for function in functions if function.activation in only]


def main(argv: Sequence[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    arguments = parse_arguments(argv)
    functions = selected_functions(arguments.only)
    sizes = [10**6] if arguments.quick else [10**6, 10**7]
    started = time.perf_counter()

    # The naive peers overflow and divide inf by inf on purpose.
    with np.errstate(all="ignore"):
        logger.info("checking accuracy against mpmath")
        accuracies = {
            (function.name, dtype): accuracy_of(function, dtype)
            for function in functions
            for dtype in DTYPES
        }
        rows_by_size: dict[int, list[Row]] = {}
        for size in sizes:
            repeats = arguments.repeats if size == sizes[0] else max(3, arguments.repeats // 2)
            for dtype in DTYPES:
                x, slope = bench_inputs(size, dtype, arguments.seed)
                for function in functions:
                    logger.info("timing %s %s %.0e", function.name, np.dtype(dtype).name, size)
                    row = bench_row(function, accuracies[function.name, dtype], x, slope, repeats)
                    rows_by_size.setdefault(size, []).append(row)

    lines = ["# actlib benchmark", "", *environment_lines(), ""]
    for size, rows in rows_by_size.items():
        lines += [f"## {size:.0e} elements", "", *results_table(rows), ""]
    all_rows = [row for rows in rows_by_size.values() for row in rows]
    if any(row.function.name == "relu" for row in all_rows):
        lines += ["## Suggested cost classes", "", *cost_table(all_rows), ""]
        lines.append(
            f"Rule: float32 time at {sizes[0]:.0e} elements of the activation's fastest "
            f"formulation (actlib or a peer) within {COST_ULP} ULP for |x| <= "
            f"{ORDINARY_X_MAX:g} where the result is normal, as a multiple of ReLU's: "
            f"≤ {LOW_COST_MAX:g}x 低, ≤ {MEDIUM_COST_MAX:g}x 中, above 高."
        )
        lines.append("")
    lines += [
        f"## Slower than {TARGET_RATIO}x the same-accuracy peer",
        "",
        *target_misses(all_rows),
    ]
    lines += ["", f"Run time: {time.perf_counter() - started:.0f} s."]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
