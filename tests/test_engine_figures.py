"""Figures: inline SVG that is reproducible, readable in both palettes, and described."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from pathlib import Path

import matplotlib
import pytest
from noteexec import ErrorKind, ExecutionOptions, NoteResult, NoteRunner
from noteexec._figures import STYLE_PATH, add_alt_text, clean_svg

REPO = Path(__file__).resolve().parent.parent
NOTO_SANS_SC = (
    REPO / "node_modules/@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf"
)
LIGHT_BACKGROUND = "#ffffff"
# Material for MkDocs' slate scheme: --md-default-bg-color is hsl(232, 15%, 14%) at the
# default hue, which is about #1e2129.
DARK_BACKGROUND = "#1e2129"

FIGURE_NOTE = """---
title: 图
---

```python alt="Sigmoid 曲线"
import numpy as np
import matplotlib.pyplot as plt
x = np.linspace(-6, 6, 50)
fig, ax = plt.subplots()
ax.plot(x, 1 / (1 + np.exp(-x)), label="S(x) 函数")
ax.set_title("激活函数 Sigmoid")
ax.set_xlabel("输入 x")
ax.grid(True)
ax.legend();
```

```python alt=["第一张", "第二张"]
for k in range(2):
    plt.figure()
    plt.plot([0, k])
```
"""


def relative_luminance(colour: str) -> float:
    """WCAG 2.x relative luminance of an sRGB colour "#rrggbb"."""

    def linear(channel: int) -> float:
        c = channel / 255
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return 0.2126 * linear(red) + 0.7152 * linear(green) + 0.0722 * linear(blue)


def contrast(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


@pytest.fixture(scope="module")
def figure_results(tmp_path_factory: pytest.TempPathFactory) -> list[NoteResult]:
    """The figure note run twice, each time by a new forkserver."""
    root = tmp_path_factory.mktemp("figures")
    path = root / "notebooks" / "figures.md"
    path.parent.mkdir()
    path.write_text(FIGURE_NOTE, encoding="utf-8")
    results = []
    for _ in range(2):
        with NoteRunner(root=root, options=ExecutionOptions(fonts=(NOTO_SANS_SC,))) as runner:
            results.append(runner.run_note(path))
    return results


def svgs(result: NoteResult) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", result.markdown, re.DOTALL)


def test_contrast_formula_reference_values() -> None:
    # WCAG's extremes: black on white is 21:1, a colour on itself 1:1.
    assert contrast("#000000", "#ffffff") == pytest.approx(21.0)
    assert contrast("#777777", "#777777") == pytest.approx(1.0)


def test_dejavu_sans_is_matplotlibs_own_copy() -> None:
    # Byte-identical glyph paths need the font file that ships with matplotlib, also on
    # machines with a system copy of DejaVu Sans (matplotlib lists its own fonts first).
    from matplotlib import font_manager

    found = Path(font_manager.findfont("DejaVu Sans", fallback_to_default=False))
    assert found.is_relative_to(Path(matplotlib.get_data_path()))


def test_line_colours_contrast_with_both_palettes() -> None:
    style = matplotlib.rc_params_from_file(STYLE_PATH, use_default_template=False)
    colours = [entry["color"] for entry in style["axes.prop_cycle"]]
    assert len(colours) >= 8
    for colour in colours:
        hex_colour = matplotlib.colors.to_hex(colour)
        assert contrast(hex_colour, LIGHT_BACKGROUND) >= 3.0, hex_colour
        assert contrast(hex_colour, DARK_BACKGROUND) >= 3.0, hex_colour


def test_figures_pass_and_are_byte_identical(figure_results: list[NoteResult]) -> None:
    first, second = figure_results
    assert first.errors == (), "\n\n".join(str(e) for e in first.errors)
    assert len(svgs(first)) == 3
    assert first.markdown == second.markdown


def test_svg_text_drawn_as_paths_with_chinese_glyphs(figure_results: list[NoteResult]) -> None:
    svg = svgs(figure_results[0])[0]
    assert "<text" not in svg
    assert "NotoSansSC" in svg
    assert "DejaVuSans" in svg


def test_svg_follows_page_palette(figure_results: list[NoteResult]) -> None:
    svg = svgs(figure_results[0])[0]
    assert "currentColor" in svg
    assert "var(--md-default-bg-color" in svg
    assert "#010203" not in svg
    assert "#fdfcfb" not in svg
    assert "fill: #ffffff" not in svg
    assert 'class="notes-figure"' in svg


def test_svg_has_no_metadata_or_page_wide_style(figure_results: list[NoteResult]) -> None:
    markdown = figure_results[0].markdown
    assert "<metadata>" not in markdown
    assert "<?xml" not in markdown
    assert "<!DOCTYPE" not in markdown
    assert "*{" not in markdown


def test_svg_ids_unique_on_page(figure_results: list[NoteResult]) -> None:
    markdown = figure_results[0].markdown
    ids = re.findall(r'\bid="([^"]+)"', markdown)
    assert ids
    assert len(ids) == len(set(ids))
    for reference in re.findall(r'href="#([^"]+)"|url\(#([^)]+)\)', markdown):
        assert (reference[0] or reference[1]) in ids


def test_alt_text_reaches_the_reader(figure_results: list[NoteResult]) -> None:
    first, second, third = svgs(figure_results[0])
    assert '<svg class="notes-figure"' in first
    assert 'role="img" aria-label="Sigmoid 曲线"><title>Sigmoid 曲线</title>' in first
    assert 'aria-label="第一张"' in second
    assert 'aria-label="第二张"' in third


def test_figure_without_alt_fails(tmp_path: Path) -> None:
    path = tmp_path / "notebooks" / "no_alt.md"
    path.parent.mkdir()
    path.write_text(
        "---\ntitle: T\n---\n\n```python\nimport matplotlib.pyplot as plt\nplt.plot([1]);\n```\n"
        '\n```python alt=["a", "b"]\nplt.plot([2]);\n```\n',
        encoding="utf-8",
    )
    with NoteRunner(root=tmp_path, options=ExecutionOptions(fonts=(NOTO_SANS_SC,))) as runner:
        result = runner.run_note(path)
    assert [(e.kind, e.cell, e.line) for e in result.errors] == [
        (ErrorKind.FIGURE_ALT, 1, 5),
        (ErrorKind.FIGURE_ALT, 2, 10),
    ]
    assert "draws 1 figure(s) but has alt text for 0" in result.errors[0].message
    assert "has alt text for 2 figure(s) but draws 1" in result.errors[1].message


def test_chinese_inside_mathtext_fails(tmp_path: Path) -> None:
    # Mathtext has no font fallback, so matplotlib logs a missing glyph; that fails the note.
    path = tmp_path / "notebooks" / "mathtext.md"
    path.parent.mkdir()
    path.write_text(
        '---\ntitle: T\n---\n\n```python alt="x"\nimport matplotlib.pyplot as plt\n'
        'plt.title("函数 $\\\\sigma(x)$");\n```\n',
        encoding="utf-8",
    )
    with NoteRunner(root=tmp_path, options=ExecutionOptions(fonts=(NOTO_SANS_SC,))) as runner:
        result = runner.run_note(path)
    assert [e.kind for e in result.errors] == [ErrorKind.WARNING]
    assert "LoggedWarning" in str(result.errors[0])
    assert "does not have a glyph" in str(result.errors[0])


def test_clean_svg_prefixes_ids_and_references() -> None:
    svg = (
        '<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg">\n'
        '<defs><style type="text/css">*{stroke-linecap: butt}</style>'
        '<path id="g1" d=""/><clipPath id="c1"/></defs>'
        '<use xlink:href="#g1" style="fill: #010203"/><g clip-path="url(#c1)"/></svg>'
    )
    cleaned = clean_svg(svg, id_prefix="fig-x-c1-f1")
    assert cleaned.startswith('<svg class="notes-figure" style="stroke-linecap: butt"')
    assert 'id="fig-x-c1-f1-g1"' in cleaned
    assert 'href="#fig-x-c1-f1-g1"' in cleaned
    assert "url(#fig-x-c1-f1-c1)" in cleaned
    assert "fill: currentColor" in cleaned


def test_add_alt_text_escapes() -> None:
    svg = add_alt_text('<svg class="notes-figure"><g/></svg>', 'a "quoted" <b>')
    assert 'aria-label="a &quot;quoted&quot; &lt;b&gt;"' in svg
    assert "<title>a &quot;quoted&quot; &lt;b&gt;</title>" in svg


def test_ipython_extension_gives_jupyter_the_same_figures() -> None:
    script = textwrap.dedent(
        """
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance()
        shell.run_line_magic("load_ext", "noteexec.ipython")
        import matplotlib.pyplot as plt
        from matplotlib.figure import Figure
        figure = plt.figure()
        plt.title("曲线")
        data, _ = shell.display_formatter.format(figure)
        print(sorted(data))
        svg = data["image/svg+xml"]
        print('class="notes-figure"' in svg, "NotoSansSC" in svg)
        """
    )
    completed = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        check=False,
        env={"NOTEEXEC_FONTS": str(NOTO_SANS_SC), "MPLBACKEND": "agg", "PATH": "/usr/bin:/bin"},
        cwd=REPO,
    )
    assert completed.returncode == 0, completed.stderr
    lines = completed.stdout.splitlines()
    assert lines[-2] == "['image/svg+xml', 'text/plain']"
    assert lines[-1] == "True True"
