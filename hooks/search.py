"""Read the search plugin's jieba user dictionary relative to mkdocs.yml.

Material's search plugin (9.8) opens ``jieba_dict_user`` relative to the working directory,
so ``mkdocs build -f path/to/mkdocs.yml`` run from another directory would only warn and build
an index that splits the project's terms (梯度消失 becomes 梯度 and 消失).

MkDocs events:

- ``on_config``, with priority 100 so that it runs before the search plugin's own
  ``on_config`` loads the dictionary, rewrites a relative ``jieba_dict_user`` as a path
  relative to the directory of mkdocs.yml.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from mkdocs.plugins import event_priority, get_plugin_logger

if TYPE_CHECKING:
    from mkdocs.config.defaults import MkDocsConfig

log = get_plugin_logger("actnotes.search")

# MkDocs registers the theme's own search plugin under this name when the theme is Material.
SEARCH_PLUGINS = ("material/search", "search")


@event_priority(100)
def on_config(config: MkDocsConfig) -> None:
    plugin = next((config.plugins[name] for name in SEARCH_PLUGINS if name in config.plugins), None)
    if plugin is None:
        return

    path = getattr(plugin.config, "jieba_dict_user", None)
    if not path or os.path.isabs(path):
        return

    resolved = os.path.join(os.path.dirname(config.config_file_path), path)
    plugin.config.jieba_dict_user = resolved
    log.debug("jieba user dictionary: %s", resolved)
