"""The command line's CSV reader: quoting, newlines, BOM, CRLF, wide rows, duplicates."""


import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

CELL = st.text(alphabet=st.sampled_from(list('好吃难,"\n\r 	ab1\u3000，\ufeff')), max_size=30)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(CELL, st.sampled_from(["pos", "neg"])), min_size=1, max_size=30),
       st.booleans(), st.booleans())
def test_csv_quoting_newlines_bom_and_crlf_keep_every_row(tmp_path_factory, rows, bom, crlf):
    import csv
    import io

    from sk_slm.cli import read_csv

    buffer = io.StringIO()
    # A bare CR in a field is quoted with CRLF line ends; with LF ones, quote every field
    # (an unquoted CR inside a field is no valid CSV: readers take it for a line end).
    writer = csv.writer(buffer, lineterminator="\r\n" if crlf else "\n",
                        quoting=csv.QUOTE_MINIMAL if crlf else csv.QUOTE_ALL)
    writer.writerow(["text", "label"])
    writer.writerows(rows)
    path = tmp_path_factory.mktemp("csv") / "data.csv"
    path.write_text(("\ufeff" if bom else "") + buffer.getvalue(), encoding="utf-8")
    texts, labels = read_csv(str(path), "text", None)
    assert texts == [text for text, _ in rows]


def test_a_csv_with_duplicate_column_names_is_refused(tmp_path):
    from sk_slm.cli import CLIError, read_csv

    path = tmp_path / "dup.csv"
    path.write_text("text,label,text\n好,1,坏\n坏,0,好\n", encoding="utf-8")
    with pytest.raises(CLIError, match="'text' twice"):
        read_csv(str(path), "text", "label")


def test_very_wide_and_very_long_rows(tmp_path):
    from sk_slm.cli import read_csv

    path = tmp_path / "wide.csv"
    header = ",".join(["text", "label"] + [f"c{i}" for i in range(2000)])
    row = ",".join(["好" * 200_000, "1"] + ["x"] * 2000)
    path.write_text(header + "\n" + row + "\n" + row.replace(",1,", ",0,", 1) + "\n",
                    encoding="utf-8")
    texts, labels = read_csv(str(path), "text", "label")
    assert len(texts[0]) == 200_000 and list(labels) == ["1", "0"]
