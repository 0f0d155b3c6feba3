"""Keep the glossary's terms whole in the search index, and make their parts searchable too.

Material's search plugin (9.8) cuts Chinese text into words with jieba and matches a query
against the start of each word only. This hook adjusts both sides.

MkDocs events:

- ``on_config``, with priority 100 so that it runs before the search plugin's own
  ``on_config`` loads the dictionary, rewrites a relative ``jieba_dict_user`` as a path
  relative to the directory of mkdocs.yml. The plugin opens the path relative to the working
  directory, so ``mkdocs build -f path/to/mkdocs.yml`` run from another directory would only
  warn and build an index that splits the project's terms (梯度消失 becomes 梯度 and 消失).
- ``on_pre_build``, which runs after every ``on_config``, adds each term of the glossary's term
  list (``docs/assets/terms.yml``) and each of its variants to jieba's dictionary. The index
  then keeps them whole, and a reader who searches for a variant (梯度弥散) finds the glossary.
  The term list is the source of the glossary's words; ``jieba_dict_user`` adds other domain
  words, and repeating a term there does no harm.
- ``on_post_build``, with priority -100 so that it runs after the search plugin has written
  ``search/search_index.json``, adds a ``parts`` field to each entry of the index: the
  dictionary words inside its longer Chinese words that do not start them, as jieba's search
  mode finds them (消失 in 梯度消失). Without it a search for 消失 finds no page that only says
  梯度消失. The field is indexed but never shown, and ranks below the text.
"""

from __future__ import annotations

import json
import logging
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import jieba
import yaml
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority, get_plugin_logger

if TYPE_CHECKING:
    from collections.abc import Iterable

    from mkdocs.config.defaults import MkDocsConfig
    from mkdocs.plugins import BasePlugin

log = get_plugin_logger("actnotes.search")

# jieba logs four INFO lines on stderr about its prefix dictionary on every build. Only its
# warnings are worth showing next to MkDocs' own log.
jieba.setLogLevel(logging.WARNING)

# MkDocs registers the theme's own search plugin under this name when the theme is Material.
SEARCH_PLUGINS = ("material/search", "search")
TERMS_FILE = "docs/assets/terms.yml"
"""The glossary's term list, relative to mkdocs.yml."""

PARTS_FIELD = "parts"
# Lunr multiplies a field's score by its boost. Material gives the text a boost of 1, so a match
# on a part weighs half as much as the same word standing alone in the text.
PARTS_BOOST = 0.5
HAN = re.compile(r"[\u3400-\u9fff]+")
TAG = re.compile(r"<[^>]+>")


@event_priority(100)
def on_config(config: MkDocsConfig) -> None:
    plugin = _search_plugin(config)
    if plugin is None:
        return

    path = getattr(plugin.config, "jieba_dict_user", None)
    if not path or os.path.isabs(path):
        return

    resolved = os.path.join(os.path.dirname(config.config_file_path), path)
    plugin.config.jieba_dict_user = resolved
    log.debug("jieba user dictionary: %s", resolved)


def on_pre_build(config: MkDocsConfig) -> None:
    if _search_plugin(config) is None:
        return

    path = Path(config.config_file_path).parent / TERMS_FILE
    if not path.is_file():
        log.debug("No term list at %s: jieba's dictionary is left as it is", path)
        return

    added = [word for word in _term_words(path) if _add_word(word)]
    log.debug("Added %d words of %s to jieba's dictionary: %s", len(added), path, added)


@event_priority(-100)
def on_post_build(config: MkDocsConfig) -> None:
    if _search_plugin(config) is None:
        return

    path = Path(config.site_dir) / "search" / "search_index.json"
    index = json.loads(path.read_text(encoding="utf-8"))
    separator = re.compile(index["config"]["separator"])

    for entry in index["docs"]:
        parts = word_parts(_entry_words(entry, separator))
        if parts:
            entry[PARTS_FIELD] = " ".join(parts)
    index["config"]["fields"][PARTS_FIELD] = {"boost": PARTS_BOOST}

    # The same JSON form as the search plugin writes.
    path.write_text(json.dumps(index, separators=(",", ":")), encoding="utf-8")
    log.debug("Indexed the parts of compound words in %s", path)


def word_parts(words: Iterable[str]) -> list[str]:
    """Return the dictionary words inside `words` that do not start the word, sorted.

    A query matches the start of an indexed word, so 梯度 already finds 梯度消失 and only
    消失 needs an entry of its own.
    """
    parts: set[str] = set()
    for word in words:
        if len(word) < 3 or HAN.fullmatch(word) is None:
            continue
        parts.update(
            part
            for part in jieba.cut_for_search(word)
            if len(part) >= 2 and part != word and not word.startswith(part)
        )
    return sorted(parts)


def _search_plugin(config: MkDocsConfig) -> BasePlugin[Any] | None:
    return next((config.plugins[name] for name in SEARCH_PLUGINS if name in config.plugins), None)


def _term_words(path: Path) -> list[str]:
    """Return the Chinese words of every term and variant in the term list at `path`."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        entries = data["terms"]
        names = [name for entry in entries for name in (entry["term"], *entry.get("variants", ()))]
    except (yaml.YAMLError, KeyError, TypeError) as exc:
        raise PluginError(
            f"{path}: invalid term list\n{exc}\n"
            "Fix: keep the form `terms: [{term: ..., en: ..., variants: [...]}, ...]`."
        ) from exc
    return [word for name in names for word in HAN.findall(name)]


def _add_word(word: str) -> bool:
    """Add `word` to jieba's dictionary unless its dictionary alone already keeps it whole."""
    if jieba.lcut(word, HMM=False) == [word]:
        return False
    jieba.add_word(word)
    return True


def _entry_words(entry: dict[str, Any], separator: re.Pattern[str]) -> list[str]:
    """Split an index entry's title, text and tags into words, as Material's search does."""
    text = TAG.sub(" ", " ".join([entry["title"], entry["text"], *entry.get("tags", [])]))
    return [word for word in separator.split(text) if word]
