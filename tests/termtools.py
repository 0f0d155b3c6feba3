"""Read the glossary's term list (docs/assets/terms.yml) for the glossary and notes tests."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import yaml
from sitetools import REPO

TERMS_FILE = REPO / "docs" / "assets" / "terms.yml"
GLOSSARY = REPO / "docs" / "glossary.md"
# The glossary names each term's variants in one paragraph that starts with this label. It is
# the only place where a variant may appear.
VARIANTS_LABEL = "其他译法："


@dataclass(frozen=True)
class Term:
    """A glossary term: the Chinese term, its English equivalent and its banned variants."""

    term: str
    en: str
    variants: tuple[str, ...]


def load_terms(path: Path = TERMS_FILE) -> list[Term]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        Term(term=entry["term"], en=entry["en"], variants=tuple(entry.get("variants", ())))
        for entry in data["terms"]
    ]


def variant_pattern(variant: str) -> re.Pattern[str]:
    """Match `variant` case-insensitively; a space in it matches any whitespace or none."""
    pieces = (re.escape(piece) for piece in variant.split())
    return re.compile(r"\s*".join(pieces), re.IGNORECASE)


def find_variants(text: str, terms: list[Term]) -> list[tuple[int, str, str]]:
    """Return (line number, variant, term) for each variant in `text`, in line order.

    Lines that start with the glossary's variants label, after indentation and HTML tags,
    are skipped.
    """
    patterns = [(variant_pattern(v), v, term.term) for term in terms for v in term.variants]
    found: list[tuple[int, str, str]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if re.sub(r"<[^>]+>", "", line).lstrip().startswith(VARIANTS_LABEL):
            continue
        found.extend(
            (number, variant, term) for pattern, variant, term in patterns if pattern.search(line)
        )
    return found
