"""Serve MathJax 3 from the site itself and check that its configuration loads first.

MkDocs events:

- ``on_config`` checks that ``npm ci`` has installed MathJax and that ``extra_javascript``
  lists the configuration script before the MathJax script. MathJax reads ``window.MathJax``
  once, when its own script runs, so a configuration that loads later is silently ignored.
- ``on_post_build`` copies the whole ``node_modules/mathjax/es5/`` folder to
  ``assets/mathjax/`` in the built site. The whole folder ships because MathJax loads TeX
  extensions, fonts and speech rules at run time from paths next to its own script.

The version is pinned by ``package-lock.json``; no page loads MathJax from another host.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

from mkdocs.exceptions import PluginError
from mkdocs.plugins import get_plugin_logger

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig

log = get_plugin_logger("actnotes.mathjax")

# node_modules/ sits next to hooks/ in the repository, wherever mkdocs.yml is.
MATHJAX_SOURCE = Path(__file__).resolve().parent.parent / "node_modules" / "mathjax" / "es5"
MATHJAX_DEST = "assets/mathjax"
CONFIG_SCRIPT = "javascripts/mathjax.js"


def on_config(config: MkDocsConfig) -> None:
    if not MATHJAX_SOURCE.is_dir():
        raise PluginError(
            f"MathJax is not installed: {MATHJAX_SOURCE} does not exist.\n"
            "Fix: run `npm ci` in the repository root (or `make build`, which runs it)."
        )

    scripts = [str(script) for script in config.extra_javascript]
    mathjax_scripts = [s for s in scripts if s.startswith(MATHJAX_DEST + "/")]
    if not mathjax_scripts:
        raise PluginError(
            f"mkdocs.yml: extra_javascript has no MathJax script under {MATHJAX_DEST}/.\n"
            f"Fix: add '{MATHJAX_DEST}/tex-chtml.js' after '{CONFIG_SCRIPT}'."
        )

    mathjax_script = mathjax_scripts[0]
    component = MATHJAX_SOURCE / mathjax_script.removeprefix(MATHJAX_DEST + "/")
    if not component.is_file():
        raise PluginError(
            f"mkdocs.yml: extra_javascript lists '{mathjax_script}', "
            f"but MathJax has no file {component}.\n"
            f"Fix: name a component that exists in {MATHJAX_SOURCE}, e.g. tex-chtml.js."
        )

    if CONFIG_SCRIPT not in scripts or scripts.index(CONFIG_SCRIPT) > scripts.index(mathjax_script):
        raise PluginError(
            f"mkdocs.yml: extra_javascript must list '{CONFIG_SCRIPT}' before "
            f"'{mathjax_script}', because MathJax reads its configuration when it loads.\n"
            f"Got: {scripts}"
        )
    log.debug("MathJax %s loads after %s", mathjax_script, CONFIG_SCRIPT)


def on_post_build(config: MkDocsConfig) -> None:
    destination = Path(config.site_dir) / MATHJAX_DEST
    shutil.copytree(MATHJAX_SOURCE, destination, dirs_exist_ok=True)
    log.debug("Copied %s to %s", MATHJAX_SOURCE, destination)
