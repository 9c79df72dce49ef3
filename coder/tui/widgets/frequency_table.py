"""The question's table, live: same base, ordering and fold rules as `coder table`."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import DataTable

from coder.printable import one_line
from coder.report.tables import Table


class FrequencyTable(DataTable, can_focus=False):
    def on_mount(self) -> None:
        self.cursor_type = "none"
        self.zebra_stripes = True
        # Numbers first: in a narrow panel the label is what may be cut, never the count.
        self.add_columns("%", "n", "Theme")

    def show(self, table: Table) -> None:
        self.clear()
        for row in table.rows:
            # A net's children sit indented beneath it, as in `coder table`; the net is bold.
            label = Text("  " * row.level + one_line(row.label), style="bold" if row.net else "")
            self.add_row(Text(f"{row.percent}%", justify="right"), Text(str(row.count), justify="right"), label)
        self.border_subtitle = one_line(f"base {table.base_n} {table.base}")
