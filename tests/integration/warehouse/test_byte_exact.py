"""Awkward text survives a write and a read byte for byte, through files and views."""

import json

from warehouse import Lake, format_json, run_sql

NASTY = (
    "x" * 200_000
    + " emoji 🦆🚀👩\u200d👩\u200d👧 RTL שלום مرحبا \u200fmark\u200e"
    + " controls \x01\x02\x07\x1b[31m\r\n\t"
    + " NUL>\x00<NUL lone-combining e\u0301 bom \ufeff line-sep \u2028"
)


def test_huge_unicode_log_line_is_byte_exact(root, frame, direct):
    """A 200 KB log with emoji, RTL, control characters and NUL reads back identical."""
    lake = Lake.open(root)
    lake.write(
        "logs", frame("logs", [{"id": "f" * 24, "log": NASTY, "_extra": '{"k": "\\u0000"}'}])
    )
    lake.write("logs", frame("logs", [{"id": "f" * 24, "log": "other"}]))
    raw = direct(root, "logs", "log")
    assert raw[0][0].encode() == NASTY.encode()
    through_view = run_sql(root, "SELECT log, _extra FROM logs").rows[0]
    assert through_view[0].encode("utf-8") == NASTY.encode("utf-8")
    assert json.loads(through_view[1]) == {"k": "\x00"}


def test_nul_survives_the_raw_files_and_json_output(root, frame, direct):
    """The same text reads back exact through a plain Parquet reader and the JSON format."""
    Lake.open(root).write("logs", frame("logs", [{"id": "e" * 24, "log": NASTY}]))
    assert direct(root, "logs", "log") == [(NASTY,)]
    decoded = json.loads(format_json(run_sql(root, "SELECT log FROM logs")))
    assert decoded == [{"log": NASTY}]
