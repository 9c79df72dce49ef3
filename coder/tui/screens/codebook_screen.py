"""The codebook: add, rename, merge, nest, reorder and describe themes; each change saved at once."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Static

from coder.codebook import db as theme_ops
from coder.coding.session import CodingSession
from coder.errors import CoderError
from coder.printable import one_line, printable
from coder.tui.screens.message_screen import MessageScreen
from coder.tui.screens.text_prompt import TextPrompt
from coder.tui.screens.theme_search import ThemeSearch


class CodebookScreen(Screen[None]):
    BINDINGS = [
        Binding("escape,c", "close", "Back", id="codebook.close"),
        Binding("a", "add", "Add", id="codebook.add"),
        Binding("r", "rename", "Rename", id="codebook.rename"),
        Binding("m", "merge", "Merge into…", id="codebook.merge"),
        Binding("p", "nest", "Nest under…", id="codebook.nest"),
        Binding("left_square_bracket", "move(-1)", "Up", id="codebook.up"),
        Binding("right_square_bracket", "move(1)", "Down", id="codebook.down"),
        Binding("e", "describe", "Description", id="codebook.describe"),
        Binding("w", "keywords", "Keywords", id="codebook.keywords"),
        Binding("j", "cursor(1)", "Next", show=False, id="codebook.next"),
        Binding("k", "cursor(-1)", "Previous", show=False, id="codebook.previous"),
    ]

    def __init__(self, session: CodingSession) -> None:
        super().__init__()
        self.session = session

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(Text(one_line(f"Codebook {self.session.codebook.title}")), id="codebook-title")
        yield DataTable(id="codebook-table", cursor_type="row", zebra_stripes=True)
        yield Static(id="codebook-detail")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        table.add_columns("#", "id", "label", "under", "codes")
        self.refresh_table()
        table.focus()

    @property
    def db(self):
        return self.session.db

    def selected_theme(self) -> str | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        return self.session.codebook.themes[table.cursor_row].id

    def refresh_table(self, select: str | None = None) -> None:
        self.session.reload_codebook()
        counts = theme_ops.codings_per_theme(self.db, self.session.codebook_id)
        table = self.query_one(DataTable)
        keep = select or self.selected_theme()
        table.clear()
        for index, theme in enumerate(self.session.codebook.themes, start=1):
            table.add_row(
                str(index),
                Text(one_line(theme.id)),
                Text(one_line(theme.label)),
                Text(one_line(theme.parent or "")),
                str(counts.get(theme.id, 0)),
            )
        if keep in self.session.codebook.ids:
            table.move_cursor(row=self.session.codebook.ids.index(keep))
        self.show_detail()

    def show_detail(self) -> None:
        theme_id = self.selected_theme()
        if theme_id is None:
            self.query_one("#codebook-detail", Static).update(
                "No themes yet: press a to add one, or run coder discover"
            )
            return
        theme = self.session.codebook.theme(theme_id)
        detail = Text()
        detail.append(printable(theme.description) or "(no description)")
        if theme.keywords:
            detail.append("\nkeywords: ", style="dim")
            detail.append(one_line(", ".join(theme.keywords)))
        if theme.aliases:
            detail.append("\naliases: ", style="dim")
            detail.append(one_line(", ".join(theme.aliases[:30])) + (" …" if len(theme.aliases) > 30 else ""))
        self.query_one("#codebook-detail", Static).update(detail)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self.show_detail()

    def run(self, change, select: str | None = None) -> None:
        """Run one codebook change; a refused change is explained, never half-done."""
        try:
            result = change()
        except CoderError as exc:
            self.app.push_screen(MessageScreen("Not changed", str(exc)))
            return
        self.refresh_table(select or (result if isinstance(result, str) else None))

    def action_cursor(self, step: int) -> None:
        table = self.query_one(DataTable)
        table.move_cursor(row=max(0, table.cursor_row + step))

    def action_close(self) -> None:
        self.dismiss(None)

    def action_add(self) -> None:
        def done(label: str | None) -> None:
            if label:
                self.run(
                    lambda: theme_ops.add_theme(self.db, self.session.codebook_id, label, coder=self.session.coder).id
                )

        self.app.push_screen(TextPrompt("New theme label"), done)

    def action_rename(self) -> None:
        theme_id = self.selected_theme()
        if theme_id is None:
            return
        current = self.session.codebook.theme(theme_id).label

        def done(label: str | None) -> None:
            if label and label != current:  # enter on the label as it was changes nothing
                self.run(
                    lambda: (
                        theme_ops.rename_theme(
                            self.db, self.session.codebook_id, theme_id, label, self.session.coder
                        ).id
                    )
                )

        self.app.push_screen(TextPrompt(f"Rename {theme_id}", current), done)

    def action_merge(self) -> None:
        source = self.selected_theme()
        if source is None:
            return

        def done(target: str | None) -> None:
            if target and target != source:
                self.run(
                    lambda: (
                        theme_ops.merge_themes(self.db, self.session.codebook_id, source, target, self.session.coder),
                        target,
                    )[1]
                )

        self.app.push_screen(ThemeSearch(self.session.search_themes), done)

    def action_nest(self) -> None:
        theme_id = self.selected_theme()
        if theme_id is None:
            return

        def done(parent: str | None) -> None:
            if parent:
                target = None if parent == theme_id else parent  # picking the theme itself un-nests it
                self.run(
                    lambda: (
                        theme_ops.nest_theme(self.db, self.session.codebook_id, theme_id, target, self.session.coder).id
                    )
                )

        self.app.push_screen(ThemeSearch(self.session.search_themes), done)

    def action_move(self, step: int) -> None:
        theme_id = self.selected_theme()
        if theme_id is None:
            return
        position = self.session.codebook.ids.index(theme_id) + step
        self.run(
            lambda: theme_ops.move_theme(self.db, self.session.codebook_id, theme_id, position, self.session.coder),
            theme_id,
        )

    def action_describe(self) -> None:
        theme_id = self.selected_theme()
        if theme_id is None:
            return
        current = self.session.codebook.theme(theme_id).description

        def done(text: str | None) -> None:
            if text is not None and text != current:
                self.run(
                    lambda: (
                        theme_ops.describe_theme(
                            self.db, self.session.codebook_id, theme_id, description=text, coder=self.session.coder
                        ).id
                    )
                )

        self.app.push_screen(TextPrompt(f"Description of {theme_id}", current), done)

    def action_keywords(self) -> None:
        theme_id = self.selected_theme()
        if theme_id is None:
            return

        def done(text: str | None) -> None:
            if text is not None:
                words = tuple(w.strip() for w in text.split(",") if w.strip())
                if words == tuple(theme.keywords):
                    return
                self.run(
                    lambda: (
                        theme_ops.describe_theme(
                            self.db, self.session.codebook_id, theme_id, keywords=words, coder=self.session.coder
                        ).id
                    )
                )

        theme = self.session.codebook.theme(theme_id)
        self.app.push_screen(TextPrompt(f"Keywords of {theme_id} (comma separated)", ", ".join(theme.keywords)), done)
