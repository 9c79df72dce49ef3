"""REFI-QDA codebook exchange: read and write `.qdc` files (namespace urn:QDA-XML:codebook:1.0).

A `.qdc` file carries what QDA tools (NVivo, ATLAS.ti, MAXQDA, QualCoder) share:
the hierarchy of codes, their names, descriptions and colours. It has no place
for a codebook id, title or kind, nor for our keywords and aliases, so those
round-trip through our YAML only. Importing onto a codebook the database
already has keeps them (see `merge_onto`).

Guids are uuid5 of the codebook id and theme id, so exporting the same
codebook twice gives the same file and a re-import can find its themes again.
"""

from __future__ import annotations

import contextlib
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, replace
from pathlib import Path
from xml.parsers import expat

from coder import __version__
from coder.codebook.model import MAX_NESTING, Codebook, Theme, load_codebook, parse_colour, slugify, validate
from coder.errors import CoderError
from coder.safe_input import LONG_TEXT, MAX_ITEMS, SHORT_TEXT, clean_text, excerpt, read_capped, shorten
from coder.spreadsheet import NOT_XML

NAMESPACE = "urn:QDA-XML:codebook:1.0"
SCHEMA_LOCATION = f"{NAMESPACE} http://schema.qdasoftware.org/versions/Codebook/v1.0/Codebook.xsd"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_GUID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://github.com/coder/refi-qda")
# XML is wordier than YAML: this still holds tens of thousands of codes with descriptions.
MAX_QDC_BYTES = 10_000_000


def _tag(name: str) -> str:
    return f"{{{NAMESPACE}}}{name}"


def theme_guid(codebook_id: str, theme_id: str) -> str:
    """The stable guid of a theme in `.qdc` files."""
    return str(uuid.uuid5(_GUID_NAMESPACE, f"{codebook_id}/{theme_id}"))


def tree_order(codebook: Codebook) -> list[Theme]:
    """Themes in the order a nested file lists them: each net, then its children, siblings in codebook order."""
    children: dict[str | None, list[Theme]] = {}
    for theme in codebook.themes:
        children.setdefault(theme.parent, []).append(theme)
    out: list[Theme] = []

    def walk(parent: str | None) -> None:
        for theme in children.get(parent, []):
            out.append(theme)
            walk(theme.id)

    walk(None)
    return out


def dump_qdc(codebook: Codebook) -> str:
    """The codebook as a REFI-QDA codebook (XML text), nets holding their children."""
    # Plain tags plus a literal xmlns: ElementTree's default_namespace refuses unprefixed attributes.
    root = ET.Element(
        "CodeBook",
        {
            "xmlns": NAMESPACE,
            "xmlns:xsi": _XSI,
            "xsi:schemaLocation": SCHEMA_LOCATION,
            "origin": f"coder {__version__}",
        },
    )
    codes = ET.SubElement(root, "Codes")
    elements: dict[str | None, ET.Element] = {None: codes}
    for theme in tree_order(codebook):
        attrs = {"guid": theme_guid(codebook.id, theme.id), "name": NOT_XML.sub("", theme.label), "isCodable": "true"}
        if theme.colour:
            attrs["color"] = theme.colour
        element = ET.SubElement(elements[theme.parent], "Code", attrs)
        if theme.description:
            ET.SubElement(element, "Description").text = NOT_XML.sub("", theme.description)
        elements[theme.id] = element
    ET.indent(root)
    body = ET.tostring(root, encoding="unicode")
    return f'<?xml version="1.0" encoding="utf-8"?>\n{body}\n'


@dataclass(frozen=True)
class QdcCode:
    """One <Code> as read, before it becomes a theme."""

    guid: str
    name: str
    description: str
    colour: str | None
    parent: int | None  # index of the enclosing code in the read order


class _RootReached(Exception):
    pass


def _refuse_doctype(data: bytes | str, source: str) -> None:
    """Refuse a DOCTYPE before ElementTree reads the file: its entities can expand a few bytes into gigabytes.

    A DOCTYPE can only come before the root element, so the check stops there.
    """

    def doctype(*_args) -> None:
        raise CoderError(
            "not a REFI-QDA codebook: it has a DOCTYPE (DTDs and entities are not allowed in .qdc files)", where=source
        )

    def root(*_args) -> None:
        raise _RootReached

    parser = expat.ParserCreate()
    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    parser.StartElementHandler = root
    with contextlib.suppress(_RootReached, expat.ExpatError):  # ElementTree names the error in a file that is not XML
        parser.Parse(data, True)


def read_qdc_codes(data: bytes | str, source: str) -> list[QdcCode]:
    """Parse a `.qdc` document into its codes, in document order."""
    _refuse_doctype(data, source)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise CoderError(f"not a REFI-QDA codebook: not valid XML ({exc})", where=source) from None
    if root.tag != _tag("CodeBook"):
        found = shorten(root.tag.replace("{", "").replace("}", " "))
        hint = (
            " (a REFI-QDA project is not a codebook: export the codebook as .qdc from your QDA tool)"
            if root.tag.endswith("}Project")
            else ""
        )
        raise CoderError(
            f"not a REFI-QDA codebook: the root element is {found!r}, not 'CodeBook' in namespace {NAMESPACE}{hint}",
            where=source,
        )
    codes_element = root.find(_tag("Codes"))
    if codes_element is None:
        raise CoderError("the codebook has no <Codes> element", where=source)
    codes: list[QdcCode] = []

    def walk(element: ET.Element, parent: int | None, path: str, depth: int) -> None:
        for number, child in enumerate(element.findall(_tag("Code")), start=1):
            where = f"{source}, code {path}{number}"
            if depth > MAX_NESTING:
                raise CoderError(f"codes are nested more than {MAX_NESTING} levels deep", where=where)
            if len(codes) >= MAX_ITEMS:
                raise CoderError(f"the codebook has more than {MAX_ITEMS:,} codes", where=source)
            name = clean_text(child.get("name") or "", where, "code name")
            if not name:
                raise CoderError("a <Code> has no name", where=where)
            where = f"{source}, code {excerpt(name)}"
            description = clean_text(
                child.findtext(_tag("Description")) or "", where, "description", LONG_TEXT, multiline=True
            )
            guid = clean_text(child.get("guid") or "", where, "guid")
            codes.append(QdcCode(guid, name, description, parse_colour(child.get("color"), where), parent))
            walk(child, len(codes) - 1, f"{path}{number}.", depth + 1)

    walk(codes_element, None, "", 1)
    return codes  # none is an empty codebook, as coder itself exports one


def _unique_id(base: str, taken: set[str]) -> str:
    value, n = base, 2
    while value in taken:
        value, n = f"{base}-{n}", n + 1
    return value


def codebook_from_qdc(
    data: bytes | str, source: str, *, codebook_id: str, title: str | None = None, known: Codebook | None = None
) -> Codebook:
    """Build a codebook from a `.qdc` document: ids from the names, parents from the nesting.

    QDA tools allow one name under two parents ("Other"); our labels are unique,
    so a repeated name gets its parent's name added: "Other (Staff)". With
    `known` (the database's version of the codebook) see `merge_onto`.
    """
    codes = read_qdc_codes(data, source)
    labels: list[str] = []
    taken_labels: set[str] = set()
    for code in codes:
        label = code.name
        if label.casefold() in taken_labels and code.parent is not None:
            label = f"{label} ({codes[code.parent].name})"
        base, n = label, 2
        while label.casefold() in taken_labels:
            label, n = f"{base} {n}", n + 1
        taken_labels.add(label.casefold())
        labels.append(label)
    ids: list[str] = []
    for label in labels:
        ids.append(_unique_id(slugify(label), set(ids)))
    themes = tuple(
        Theme(
            id=ids[i],
            label=labels[i],
            description=code.description,
            colour=code.colour,
            parent=None if code.parent is None else ids[code.parent],
        )
        for i, code in enumerate(codes)
    )
    codebook = Codebook(id=codebook_id, title=title or codebook_id, themes=themes)
    if known is not None:
        return merge_onto(codebook, [code.guid for code in codes], known)
    validate(codebook, source)
    return codebook


def merge_onto(imported: Codebook, guids: list[str], known: Codebook) -> Codebook:
    """Fit an imported `.qdc` codebook onto the database's version of it.

    A code finds its theme by guid (our own exports), then by label; matched
    themes keep their id, keywords and aliases, so codings stay and nothing the
    file cannot carry is lost. If the file keeps the nesting order of the
    known codebook, the known flat order is kept too (ties in tables follow it),
    with new themes at the end; a file that reorders themes sets a new order.
    """
    by_guid = {theme_guid(known.id, t.id): t for t in known.themes}
    by_label = {t.label.casefold(): t for t in known.themes}
    claimed: dict[str, Theme] = {}  # imported id -> known theme
    for theme, guid in zip(imported.themes, guids):
        match = by_guid.get(guid) or by_label.get(theme.label.casefold())
        if match is not None and match.id not in {t.id for t in claimed.values()}:
            claimed[theme.id] = match
    matched = {t.id for t in claimed.values()}
    # A new theme never takes the id of a known one, even one the file drops.
    taken = {t.id for t in known.themes}
    new_ids: dict[str, str] = {}
    for theme in imported.themes:
        if theme.id in claimed:
            new_ids[theme.id] = claimed[theme.id].id
        else:
            new_ids[theme.id] = _unique_id(theme.id, taken)
            taken.add(new_ids[theme.id])
    themes = []
    for theme in imported.themes:
        old = claimed.get(theme.id)
        themes.append(
            replace(
                theme,
                id=new_ids[theme.id],
                parent=None if theme.parent is None else new_ids[theme.parent],
                keywords=old.keywords if old else (),
                aliases=old.aliases if old else (),
            )
        )
    if [t.id for t in themes if t.id in matched] == [t.id for t in tree_order(known) if t.id in matched]:
        position = {t.id: i for i, t in enumerate(known.themes)}
        themes.sort(key=lambda t: position.get(t.id, len(position)))  # stable: new themes keep file order
    merged = replace(known, themes=tuple(themes))
    validate(merged, known.id)
    return merged


def load_qdc(path: str | Path, *, codebook_id: str | None = None, known: Codebook | None = None) -> Codebook:
    """Read a `.qdc` file. The codebook id is `codebook_id`, else the file name as an id.

    With `known` (the database's codebook of that id), themes are matched to it
    by guid or label; see `merge_onto`.
    """
    path = Path(path)
    data = read_capped(path, "codebook file", MAX_QDC_BYTES)
    codebook_id = codebook_id or (known.id if known else slugify(path.stem))
    title = shorten(" ".join(path.stem.split()), SHORT_TEXT - 1)
    return codebook_from_qdc(data, str(path), codebook_id=codebook_id, title=title, known=known)


def is_qdc(path: str | Path) -> bool:
    return Path(path).suffix.casefold() == ".qdc"


def load_any_codebook(path: str | Path) -> Codebook:
    """A codebook file of either kind: REFI-QDA `.qdc`, otherwise our YAML."""
    return load_qdc(path) if is_qdc(path) else load_codebook(path)
