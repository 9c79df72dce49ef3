"""Codebook files: parse, validate and write the YAML that holds themes.

A codebook is data a researcher edits by hand, so every check here names the
file and the theme that is wrong rather than failing somewhere later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from coder.errors import CoderError
from coder.safe_input import LONG_TEXT, check_items, clean_text, excerpt, load_yaml

KINDS = ("text", "names")
ID_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_-]*$")
COLOUR_PATTERN = re.compile(r"^#[0-9A-Fa-f]{6}$")
MAX_NESTING = 20  # nets within nets; tables and .qdc exports walk the chain
THEME_FIELDS = {"id", "label", "description", "keywords", "aliases", "parent", "colour", "color"}
# An unquoted `colour: #1F77B4` is a YAML comment, so it would load as "no colour" without a word.
_UNQUOTED_COLOUR = re.compile(r"^[ \t-]*colou?r[ \t]*:[ \t]+#", re.MULTILINE)


@dataclass(frozen=True)
class Theme:
    id: str
    label: str
    description: str = ""
    keywords: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    parent: str | None = None
    colour: str | None = None  # "#RRGGBB", shared with QDA tools through REFI-QDA .qdc files


@dataclass(frozen=True)
class Codebook:
    id: str
    title: str
    kind: str = "text"
    description: str = ""
    themes: tuple[Theme, ...] = field(default_factory=tuple)

    def theme(self, theme_id: str) -> Theme:
        for theme in self.themes:
            if theme.id == theme_id:
                return theme
        raise CoderError(f"codebook {self.id!r} has no theme {theme_id!r}")

    def find(self, name: str) -> Theme | None:
        """Find a theme by id, or by label ignoring case and outer spaces."""
        for theme in self.themes:
            if theme.id == name:
                return theme
        folded = name.strip().casefold()
        for theme in self.themes:
            if theme.label.casefold() == folded:
                return theme
        return None

    @property
    def ids(self) -> list[str]:
        return [theme.id for theme in self.themes]


def slugify(label: str) -> str:
    """Make a theme id from a label: what a researcher would type by hand."""
    slug = re.sub(r"[^a-z0-9]+", "-", label.casefold()).strip("-")
    return slug[:48].strip("-") or "theme"


def parse_colour(value: Any, where: str) -> str | None:
    """A colour as `#RRGGBB` in upper case, or None for no colour."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str) or not COLOUR_PATTERN.match(value.strip()):
        raise CoderError(f"colour {excerpt(value)} must be a hex colour '#RRGGBB', such as '#1F77B4'", where=where)
    return value.strip().upper()


def _strings(value: Any, where: str, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list):
        raise CoderError(f"{what} must be a list of strings, found {type(value).__name__}", where=where)
    out = []
    for item in check_items(value, where, what):
        # A whole number reads back as typed; a float or date would not ("1.50" loads as 1.5).
        if isinstance(item, int) and not isinstance(item, bool):
            item = str(item)
        if not isinstance(item, str):
            raise CoderError(
                f"{what} must be a list of strings, found {type(item).__name__} {excerpt(item)}", where=where
            )
        text = clean_text(item, where, f"each of the {what}")
        if text:
            out.append(text)
    return tuple(out)


def _text(value: Any, where: str, what: str, required: bool = False) -> str:
    if value is None:
        if required:
            raise CoderError(f"{what} is missing", where=where)
        return ""
    if what == "description":
        text = clean_text(value, where, what, LONG_TEXT, multiline=True)
    else:
        text = clean_text(value, where, what)
    if required and not text:
        raise CoderError(f"{what} is empty", where=where)
    return text


def codebook_from_dict(data: Any, source: str = "<codebook>") -> Codebook:
    """Build and validate a codebook from parsed YAML."""
    if not isinstance(data, dict):
        raise CoderError("a codebook must be a mapping with 'id', 'title' and 'themes'", where=source)
    cb_id = _text(data.get("id"), source, "id", required=True)
    if not ID_PATTERN.fullmatch(cb_id):
        raise CoderError(f"codebook id {excerpt(cb_id)} must be lower-case letters, digits, '-' or '_'", where=source)
    kind = _text(data.get("kind", "text"), source, "kind") or "text"
    if kind not in KINDS:
        raise CoderError(f"kind must be one of {', '.join(KINDS)}, not {excerpt(kind)}", where=source)
    raw_themes = data.get("themes")
    if raw_themes is None:
        raw_themes = []  # a codebook starts empty: themes are found while coding or by discover
    if not isinstance(raw_themes, list):
        raise CoderError("'themes' must be a list (it may be empty: themes: [])", where=source)
    themes = []
    for index, raw in enumerate(check_items(raw_themes, source, "themes"), start=1):
        where = f"{source}, theme {index}"
        if not isinstance(raw, dict):
            raise CoderError("each theme must be a mapping with 'id' and 'label'", where=where)
        unknown = set(raw) - THEME_FIELDS
        if unknown:
            raise CoderError(f"unknown field(s) {excerpt(', '.join(sorted(map(str, unknown))))}", where=where)
        theme_id = _text(raw.get("id"), where, "id", required=True)
        where = f"{source}, theme {excerpt(theme_id)}"
        label = _text(raw.get("label"), where, "label", required=True)
        parent = raw.get("parent")
        if "colour" in raw and "color" in raw:
            raise CoderError("give 'colour' or 'color', not both", where=where)
        colour = parse_colour(raw.get("colour", raw.get("color")), where)
        themes.append(
            Theme(
                id=theme_id,
                label=label,
                description=_text(raw.get("description"), where, "description"),
                keywords=_strings(raw.get("keywords"), where, "keywords"),
                aliases=_strings(raw.get("aliases"), where, "aliases"),
                parent=_text(parent, where, "parent") or None,
                colour=colour,
            )
        )
    codebook = Codebook(
        id=cb_id,
        title=_text(data.get("title"), source, "title") or cb_id,
        kind=kind,
        description=_text(data.get("description"), source, "description"),
        themes=tuple(themes),
    )
    validate(codebook, source)
    return codebook


def validate(codebook: Codebook, source: str = "<codebook>") -> None:
    """Reject what would make tables or suggestions ambiguous."""
    seen_ids: dict[str, Theme] = {}
    seen_labels: dict[str, Theme] = {}
    alias_owner: dict[str, str] = {}
    clean_text(codebook.title, source, "title")
    clean_text(codebook.description, source, "description", LONG_TEXT, multiline=True)
    check_items(list(codebook.themes), source, "themes")
    for theme in codebook.themes:
        where = f"{source}, theme {excerpt(theme.id)}"
        if clean_text(theme.id, where, "theme id") != theme.id or not ID_PATTERN.fullmatch(theme.id):
            raise CoderError(
                f"theme id {excerpt(theme.id)} must be lower-case letters, digits, '-' or '_'", where=where
            )
        if theme.id in seen_ids:
            raise CoderError(f"duplicate theme id {theme.id!r}", where=where)
        _check_theme_text(theme, where)
        if theme.colour is not None and not COLOUR_PATTERN.fullmatch(theme.colour):
            raise CoderError(f"colour {excerpt(theme.colour)} must be a hex colour '#RRGGBB'", where=where)
        folded = theme.label.casefold()
        if folded in seen_labels:
            raise CoderError(
                f"label {theme.label!r} is also the label of theme {seen_labels[folded].id!r}", where=where
            )
        seen_ids[theme.id] = theme
        seen_labels[folded] = theme
        for alias in theme.aliases:
            key = alias.casefold()
            owner = alias_owner.setdefault(key, theme.id)
            if owner != theme.id:
                raise CoderError(f"alias {alias!r} is also an alias of theme {owner!r}", where=where)
    for theme in codebook.themes:
        if theme.parent is None:
            continue
        where = f"{source}, theme {theme.id!r}"
        if theme.parent not in seen_ids:
            raise CoderError(f"parent {theme.parent!r} is not a theme in this codebook", where=where)
        # Walk up the chain; a cycle would make nets count forever.
        chain = [theme.id]
        current: str | None = theme.parent
        while current is not None:
            if current in chain:
                raise CoderError(f"nesting cycle: {excerpt(' -> '.join(chain + [current]), 200)}", where=where)
            if len(chain) >= MAX_NESTING:
                raise CoderError(f"nets are nested more than {MAX_NESTING} levels deep", where=where)
            chain.append(current)
            current = seen_ids[current].parent


def _check_theme_text(theme: Theme, where: str) -> None:
    """The same limits as a codebook file, for themes edited in the database."""
    label = clean_text(theme.label, where, "label")
    if not label:
        raise CoderError("label is empty", where=where)
    if label != theme.label:
        raise CoderError(f"label {excerpt(theme.label)} must be one line without extra spaces", where=where)
    clean_text(theme.description, where, "description", LONG_TEXT, multiline=True)
    for what, values in (("keywords", theme.keywords), ("aliases", theme.aliases)):
        check_items(list(values), where, what)
        for value in values:
            clean_text(value, where, f"each of the {what}")
    if theme.parent is not None:
        clean_text(theme.parent, where, "parent")


def _has_empty_colour(data: Any) -> bool:
    themes = data.get("themes") if isinstance(data, dict) else None
    return isinstance(themes, list) and any(
        isinstance(t, dict) and any(k in t and t[k] is None for k in ("colour", "color")) for t in themes
    )


def load_codebook(path: str | Path) -> Codebook:
    path = Path(path)
    data, text = load_yaml(path, "codebook file")
    unquoted = _UNQUOTED_COLOUR.search(text) if _has_empty_colour(data) else None
    if unquoted:
        line = text.count("\n", 0, unquoted.start()) + 1
        raise CoderError(
            "quote the colour, as in colour: '#1F77B4' (in YAML an unquoted # starts a comment)",
            where=f"{path}, line {line}",
        )
    return codebook_from_dict(data, str(path))


def codebook_to_dict(codebook: Codebook) -> dict[str, Any]:
    themes = []
    for theme in codebook.themes:
        item: dict[str, Any] = {"id": theme.id, "label": theme.label}
        if theme.description:
            item["description"] = theme.description
        if theme.keywords:
            item["keywords"] = list(theme.keywords)
        if theme.aliases:
            item["aliases"] = list(theme.aliases)
        if theme.parent:
            item["parent"] = theme.parent
        if theme.colour:
            item["colour"] = theme.colour
        themes.append(item)
    out: dict[str, Any] = {"id": codebook.id, "title": codebook.title, "kind": codebook.kind}
    if codebook.description:
        out["description"] = codebook.description
    out["themes"] = themes
    return out


def dump_codebook(codebook: Codebook) -> str:
    """YAML that load_codebook reads back to an equal codebook."""
    return yaml.safe_dump(codebook_to_dict(codebook), sort_keys=False, allow_unicode=True, width=100)
