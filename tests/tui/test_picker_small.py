"""The picker on an 80x24 screen holds a dozen of the 30-odd scenarios. It used to show 9
with nothing saying more were below (a thin scroll bar, a horizontal one taking a row for
the title column that did not fit, and the description taking 12 rows); Home and End
scrolled sideways. Now the title line says which of how many is selected, in which section,
and how many rows are above and below, and Home/End reach the first and last scenario."""

from __future__ import annotations

import pytest
from textual.widgets import DataTable

from ipcviz.tui.app import IpcvizApp
from ipcviz.tui.screens.picker import PickerScreen

from .screen_text import screen_rows


async def scrolled(picker: PickerScreen, table: DataTable) -> None:
    """Until the table has scrolled its cursor's row into view (it does so after the next
    refresh) and the screen is drawn with it."""
    for _ in range(50):
        await picker.wait_for_refresh()
        row = table.cursor_row
        top = table.scroll_y
        seen = table.scrollable_content_region.height - table.header_height
        if top <= row < top + seen:
            await picker.wait_for_refresh()
            return
    raise AssertionError(f"row {row} never scrolled into view (top {top}, {seen} rows)")


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 60)])
async def test_the_picker_says_how_many_and_reaches_every_scenario(size: tuple[int, int]) -> None:
    app = IpcvizApp()
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        table = picker.query_one(DataTable)
        total = table.row_count
        await picker.wait_for_refresh()
        top = screen_rows(app)[0]
        assert f"1 of {total}" in top and "1 Multiprocessing" in top, top
        assert table.max_scroll_x == 0  # every column fits: no sideways scroll bar
        shown = [r for r in screen_rows(app) if "cpu-layouts" in r or "address-spaces" in r]
        assert len(shown) == 2
        if size == (80, 24):
            seen = table.scrollable_content_region.height - table.header_height
            assert seen >= 12, seen
            assert f"↓{total - seen}" in top, top

        await pilot.press("end")
        await scrolled(picker, table)
        last = picker.selected()
        assert table.cursor_row == total - 1
        rows = screen_rows(app)
        assert f"{total} of {total}" in rows[0]
        if size == (80, 24):
            assert "↓0" in rows[0] and f"↑{total - seen}" in rows[0], rows[0]
        assert any(last.id in r for r in rows[1:-1])
        about = "\n".join(rows)
        assert "teaches:" in about  # the description cut, not its teaching points

        await pilot.press("home")
        await scrolled(picker, table)
        assert table.cursor_row == 0 and "1 of" in screen_rows(app)[0]
        app.exit(0)


async def test_a_gloss_cut_to_its_column_says_so() -> None:
    """Korean glosses are wider: at 80 columns the table cut them bare ("동시에 실");
    a cut cell ends in "…" and fits its column."""
    from rich.cells import cell_len

    app = IpcvizApp(lang="ko")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        picker = app.screen
        assert isinstance(picker, PickerScreen)
        table = picker.query_one(DataTable)
        width = table.ordered_columns[table.get_column_index("teaches")].width
        cells = [table.get_row_at(i)[2].plain for i in range(table.row_count)]
        cut = [c for c in cells if c.endswith("…")]
        assert cut and all(cell_len(c) <= width for c in cells), (width, cells)
        app.exit(0)
