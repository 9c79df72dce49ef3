"""Codebooks held in a database: read them, and edit them one audited transaction at a time.

Every edit reads the codebook, builds the edited copy, validates it with the
same rules as a codebook file, and writes only the difference. So a rename, a
nest or an alias learnt in the TUI can never leave a codebook that would not
load from YAML.
"""

from __future__ import annotations

import json
from dataclasses import replace

from sqlite_utils import Database

from coder.codebook.model import Codebook, Theme, parse_colour, slugify, validate
from coder.errors import CoderError
from coder.safe_input import LONG_TEXT, clean_text
from coder.store import audit, write


def codebook_ids(db: Database) -> list[str]:
    return [row[0] for row in db.execute("SELECT id FROM codebooks ORDER BY id")]


def read_codebook(db: Database, codebook_id: str) -> Codebook:
    row = db.execute("SELECT id, title, kind, description FROM codebooks WHERE id = ?", [codebook_id]).fetchone()
    if row is None:
        known = ", ".join(codebook_ids(db)) or "none"
        raise CoderError(f"no codebook {codebook_id!r} in the database (it has: {known})")
    rows = db.execute(
        """SELECT t.id, t.label, t.description, t.keywords, t.aliases, p.id, t.colour
           FROM themes t LEFT JOIN themes p ON p.pk = t.parent_pk
           WHERE t.codebook_id = ? ORDER BY t.position, t.pk""",
        [codebook_id],
    ).fetchall()
    themes = tuple(
        Theme(
            id=r[0],
            label=r[1],
            description=r[2],
            keywords=tuple(json.loads(r[3])),
            aliases=tuple(json.loads(r[4])),
            parent=r[5],
            colour=r[6],
        )
        for r in rows
    )
    return Codebook(id=row[0], title=row[1], kind=row[2], description=row[3], themes=themes)


def theme_pks(db: Database, codebook_id: str) -> dict[str, int]:
    return {r[0]: r[1] for r in db.execute("SELECT id, pk FROM themes WHERE codebook_id = ?", [codebook_id])}


def codings_per_theme(db: Database, codebook_id: str) -> dict[str, int]:
    """Codes per theme: final codings plus each coder's blind codes (both would be lost with the theme)."""
    return {
        r[0]: r[1]
        for r in db.execute(
            """SELECT t.id, (SELECT count(*) FROM codings c WHERE c.theme_pk = t.pk)
                            + (SELECT count(*) FROM coder_codings k WHERE k.theme_pk = t.pk)
               FROM themes t WHERE t.codebook_id = ?""",
            [codebook_id],
        )
    }


def _theme_state(theme: Theme, position: int) -> dict:
    state = {
        "label": theme.label,
        "description": theme.description,
        "keywords": list(theme.keywords),
        "aliases": list(theme.aliases),
        "parent": theme.parent,
        "position": position,
    }
    # Only when set, so audit rows of colourless codebooks read as they always have.
    if theme.colour is not None:
        state["colour"] = theme.colour
    return state


def _write(db: Database, old: Codebook | None, new: Codebook, coder: str | None, action: str) -> None:
    """Write the difference between two versions of a codebook; caller holds the transaction."""
    validate(new, new.id)
    if old is None:
        db.execute(
            "INSERT INTO codebooks (id, title, kind, description) VALUES (?, ?, ?, ?)",
            [new.id, new.title, new.kind, new.description],
        )
        audit(db, coder=coder, action=action, target=f"codebook:{new.id}", after={"title": new.title, "kind": new.kind})
    elif (old.title, old.kind, old.description) != (new.title, new.kind, new.description):
        db.execute(
            "UPDATE codebooks SET title = ?, kind = ?, description = ? WHERE id = ?",
            [new.title, new.kind, new.description, new.id],
        )
    before = {t.id: _theme_state(t, i) for i, t in enumerate(old.themes if old else ())}
    removed = set(before) - {t.id for t in new.themes}
    if removed:
        raise CoderError(f"internal: themes {sorted(removed)} would be dropped without a merge")
    for position, theme in enumerate(new.themes):
        state = _theme_state(theme, position)
        if before.get(theme.id) == state:
            continue
        db.execute(
            """INSERT INTO themes (codebook_id, id, label, description, keywords, aliases, position, colour)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (codebook_id, id) DO UPDATE SET label = excluded.label,
                 description = excluded.description, keywords = excluded.keywords,
                 aliases = excluded.aliases, position = excluded.position, colour = excluded.colour""",
            [
                new.id,
                theme.id,
                theme.label,
                theme.description,
                json.dumps(list(theme.keywords)),
                json.dumps(list(theme.aliases)),
                position,
                theme.colour,
            ],
        )
        if theme.id not in before or _other_fields_differ(before[theme.id], state):
            audit(
                db,
                coder=coder,
                action=action,
                target=f"theme:{new.id}/{theme.id}",
                before=before.get(theme.id),
                after=state,
            )
    pks = theme_pks(db, new.id)
    for theme in new.themes:
        old_parent = before.get(theme.id, {}).get("parent")
        if theme.id not in before or old_parent != theme.parent:
            db.execute(
                "UPDATE themes SET parent_pk = ? WHERE pk = ?",
                [pks[theme.parent] if theme.parent else None, pks[theme.id]],
            )


def _other_fields_differ(before: dict, after: dict) -> bool:
    return {k: v for k, v in before.items() if k != "position"} != {k: v for k, v in after.items() if k != "position"}


def install_codebook(db: Database, codebook: Codebook, coder: str | None = None) -> bool:
    """Add a codebook the database lacks; a codebook it already has is its working copy and is kept."""
    exists = db.execute("SELECT 1 FROM codebooks WHERE id = ?", [codebook.id]).fetchone()
    if exists:
        return False
    with write(db):
        _write(db, None, codebook, coder, "codebook.create")
    return True


def replace_codebook(db: Database, codebook: Codebook, coder: str | None = None) -> dict[str, int]:
    """Make the database's codebook equal to `codebook` (a YAML import).

    Themes matched by id are updated in place, so their codings stay. A theme
    missing from the new version is deleted only if nothing is coded with it.
    """
    with write(db):
        exists = db.execute("SELECT 1 FROM codebooks WHERE id = ?", [codebook.id]).fetchone()
        if not exists:
            _write(db, None, codebook, coder, "codebook.import")
            return {"added": len(codebook.themes), "updated": 0, "removed": 0}
        old = read_codebook(db, codebook.id)
        new_ids = {t.id for t in codebook.themes}
        gone = [t for t in old.themes if t.id not in new_ids]
        counts = codings_per_theme(db, codebook.id)
        blocked = [t.id for t in gone if counts.get(t.id)]
        if blocked:
            raise CoderError(
                f"the new version of codebook {codebook.id!r} drops theme(s) {', '.join(blocked)}, "
                "which have codings; merge them into another theme first"
            )
        # Drop the removed themes, then write the rest as an edit of the remainder.
        for theme in gone:
            db.execute(
                "UPDATE themes SET parent_pk = NULL WHERE parent_pk = (SELECT pk FROM themes WHERE codebook_id = ? AND id = ?)",
                [codebook.id, theme.id],
            )
            db.execute("DELETE FROM themes WHERE codebook_id = ? AND id = ?", [codebook.id, theme.id])
            audit(
                db,
                coder=coder,
                action="theme.delete",
                target=f"theme:{codebook.id}/{theme.id}",
                before=_theme_state(theme, -1),
            )
        remainder = replace(old, themes=tuple(t for t in old.themes if t.id in new_ids))
        remainder = replace(
            remainder,
            themes=tuple(replace(t, parent=t.parent if t.parent in new_ids else None) for t in remainder.themes),
        )
        old_ids = {t.id for t in old.themes}
        updated = sum(1 for t in codebook.themes if t.id in old_ids and t != old.theme(t.id))
        _write(db, remainder, codebook, coder, "codebook.import")
        return {"added": len(new_ids - old_ids), "updated": updated, "removed": len(gone)}


def _label(label: str) -> str:
    """A label as typed (the CLI, the app's prompts, discovery), on one line and within the limit."""
    label = clean_text(label, None, "a theme label")
    if not label:
        raise CoderError("a theme needs a label")
    return label


def _edit(db: Database, codebook_id: str, coder: str | None, action: str, change) -> Codebook:
    with write(db):
        old = read_codebook(db, codebook_id)
        new = change(old)
        _write(db, old, new, coder, action)
    return new


def add_theme(
    db: Database,
    codebook_id: str,
    label: str,
    *,
    theme_id: str | None = None,
    description: str = "",
    keywords: tuple[str, ...] = (),
    aliases: tuple[str, ...] = (),
    parent: str | None = None,
    coder: str | None = None,
) -> Theme:
    label = _label(label)
    description = clean_text(description, None, "description", LONG_TEXT, multiline=True)
    if theme_id is not None:
        theme_id = clean_text(theme_id, None, "theme id")

    def change(cb: Codebook) -> Codebook:
        same = cb.find(label)
        if same is not None and same.label.casefold() == label.casefold():
            raise CoderError(f"codebook {cb.id!r} already has a theme labelled {label!r}")
        new_id = theme_id
        if new_id is None:
            base, n, new_id = slugify(label), 2, slugify(label)
            while new_id in cb.ids:
                new_id, n = f"{base}-{n}", n + 1
        elif new_id in cb.ids:
            raise CoderError(f"codebook {cb.id!r} already has a theme {new_id!r}")
        theme = Theme(new_id, label, description, tuple(keywords), tuple(aliases), parent)
        return replace(cb, themes=cb.themes + (theme,))

    return _edit(db, codebook_id, coder, "theme.add", change).themes[-1]  # change adds it last


def _update_theme(db: Database, codebook_id: str, theme_id: str, coder: str | None, action: str, **fields) -> Theme:
    def change(cb: Codebook) -> Codebook:
        cb.theme(theme_id)  # raises for an unknown theme
        return replace(cb, themes=tuple(replace(t, **fields) if t.id == theme_id else t for t in cb.themes))

    return _edit(db, codebook_id, coder, action, change).theme(theme_id)


def rename_theme(db: Database, codebook_id: str, theme_id: str, label: str, coder: str | None = None) -> Theme:
    return _update_theme(db, codebook_id, theme_id, coder, "theme.rename", label=_label(label))


def describe_theme(
    db: Database,
    codebook_id: str,
    theme_id: str,
    *,
    description: str | None = None,
    keywords: tuple[str, ...] | None = None,
    coder: str | None = None,
) -> Theme:
    fields: dict[str, object] = {}
    if description is not None:
        fields["description"] = clean_text(description, None, "description", LONG_TEXT, multiline=True)
    if keywords is not None:
        fields["keywords"] = tuple(k for k in (clean_text(k, None, "each keyword") for k in keywords) if k)
    return _update_theme(db, codebook_id, theme_id, coder, "theme.describe", **fields)


def nest_theme(db: Database, codebook_id: str, theme_id: str, parent: str | None, coder: str | None = None) -> Theme:
    """Put a theme under a net (parent), or back at the top level with parent None."""
    if parent == theme_id:
        raise CoderError(f"theme {theme_id!r} cannot be its own parent")
    return _update_theme(db, codebook_id, theme_id, coder, "theme.nest", parent=parent)


def add_alias(db: Database, codebook_id: str, theme_id: str, alias: str, coder: str | None = None) -> Theme:
    """Teach a names codebook a new spelling, so it is never asked again."""
    alias = clean_text(alias, None, "an alias")
    if not alias:
        raise CoderError("an alias cannot be empty")
    cb = read_codebook(db, codebook_id)
    theme = cb.theme(theme_id)
    if alias.casefold() in {a.casefold() for a in theme.aliases}:
        return theme
    return _update_theme(db, codebook_id, theme_id, coder, "theme.alias", aliases=theme.aliases + (alias,))


def move_theme(db: Database, codebook_id: str, theme_id: str, position: int, coder: str | None = None) -> None:
    """Move a theme to a new place in codebook order (ties in tables follow it)."""

    def change(cb: Codebook) -> Codebook:
        theme = cb.theme(theme_id)
        rest = [t for t in cb.themes if t.id != theme_id]
        index = max(0, min(position, len(rest)))
        rest.insert(index, theme)
        return replace(cb, themes=tuple(rest))

    with write(db):
        old = read_codebook(db, codebook_id)
        new = change(old)
        _write(db, old, new, coder, "theme.move")
        audit(
            db,
            coder=coder,
            action="theme.move",
            target=f"theme:{codebook_id}/{theme_id}",
            before=old.ids.index(theme_id),
            after=new.ids.index(theme_id),
        )


def merge_themes(db: Database, codebook_id: str, source: str, target: str, coder: str | None = None) -> int:
    """Merge theme `source` into `target`: its codings, aliases and children move; it is deleted.

    Returns how many codings moved. An answer already coded with the target
    keeps one coding, confirmed if either of the two was.
    """
    if source == target:
        raise CoderError("cannot merge a theme into itself")
    with write(db):
        old = read_codebook(db, codebook_id)
        src, dst = old.theme(source), old.theme(target)
        pks = theme_pks(db, codebook_id)
        src_pk, dst_pk = pks[source], pks[target]
        moved = 0
        for coding_id, answer_id, status in db.execute(
            "SELECT id, answer_id, status FROM codings WHERE theme_pk = ?", [src_pk]
        ).fetchall():
            existing = db.execute(
                "SELECT id, status FROM codings WHERE answer_id = ? AND theme_pk = ?", [answer_id, dst_pk]
            ).fetchone()
            if existing:
                if status == "confirmed" and existing[1] != "confirmed":
                    db.execute("UPDATE codings SET status = 'confirmed' WHERE id = ?", [existing[0]])
                db.execute("DELETE FROM codings WHERE id = ?", [coding_id])
            else:
                db.execute("UPDATE codings SET theme_pk = ? WHERE id = ?", [dst_pk, coding_id])
            moved += 1
        # Each coder's blind codes move too (a coder who had both keeps one).
        db.execute(
            """INSERT OR IGNORE INTO coder_codings (answer_id, theme_pk, coder, status, coded_at)
               SELECT answer_id, ?, coder, status, coded_at FROM coder_codings WHERE theme_pk = ?""",
            [dst_pk, src_pk],
        )
        db.execute("DELETE FROM coder_codings WHERE theme_pk = ?", [src_pk])
        # What discovery found in it (coder/suggest/seeds.py) now teaches the target.
        db.execute(
            "INSERT OR IGNORE INTO theme_seeds (theme_pk, answer_id) SELECT ?, answer_id FROM theme_seeds WHERE theme_pk = ?",
            [dst_pk, src_pk],
        )
        db.execute("DELETE FROM theme_seeds WHERE theme_pk = ?", [src_pk])
        # Questions that fold the source theme now fold the target.
        for qid, fold_json in db.execute(
            "SELECT id, fold FROM questions WHERE codebook_id = ? AND fold IS NOT NULL", [codebook_id]
        ).fetchall():
            fold = json.loads(fold_json)
            renamed = {
                "into": target if fold["into"] == source else fold["into"],
                "themes": list(dict.fromkeys(target if t == source else t for t in fold.get("themes") or [])),
                "all_except": None
                if fold.get("all_except") is None
                else list(dict.fromkeys(target if t == source else t for t in fold["all_except"])),
            }
            if renamed != fold:
                db.execute("UPDATE questions SET fold = ? WHERE id = ?", [json.dumps(renamed), qid])
        known = {a.casefold() for t in old.themes if t.id != source for a in t.aliases}
        extra_aliases = [
            a for a in (src.label, *src.aliases) if a.casefold() not in known and a.casefold() != dst.label.casefold()
        ]
        if old.kind != "names":
            extra_aliases = [a for a in src.aliases if a.casefold() not in known]
        merged = replace(
            dst,
            aliases=dst.aliases + tuple(dict.fromkeys(extra_aliases)),
            keywords=dst.keywords + tuple(k for k in src.keywords if k not in dst.keywords),
        )
        themes = []
        for theme in old.themes:
            if theme.id == source:
                continue
            theme = merged if theme.id == target else theme
            if theme.parent == source:
                theme = replace(theme, parent=target if theme.id != target else src.parent)
            themes.append(theme)
        db.execute("UPDATE themes SET parent_pk = NULL WHERE parent_pk = ?", [src_pk])
        db.execute("DELETE FROM themes WHERE pk = ?", [src_pk])
        remainder = replace(old, themes=tuple(t for t in old.themes if t.id != source))
        remainder = replace(
            remainder, themes=tuple(replace(t, parent=None) if t.parent == source else t for t in remainder.themes)
        )
        _write(db, remainder, replace(old, themes=tuple(themes)), coder, "theme.merge")
        audit(
            db,
            coder=coder,
            action="theme.merge",
            target=f"theme:{codebook_id}/{source}",
            before={"source": source, "label": src.label},
            after={"target": target, "codings_moved": moved},
        )
    return moved


def colour_theme(db: Database, codebook_id: str, theme_id: str, colour: str | None, coder: str | None = None) -> Theme:
    """Give a theme a `#RRGGBB` colour (shared with QDA tools via .qdc), or clear it with None."""
    return _update_theme(
        db, codebook_id, theme_id, coder, "theme.colour", colour=parse_colour(colour, f"theme {theme_id!r}")
    )
