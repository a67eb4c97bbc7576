"""What the download buttons hand out: CSV and JSON of a table, exact and valid."""

from __future__ import annotations

import io
import json

import numpy as np
import pandas as pd

from logitsviz.ui import widgets


def table() -> pd.DataFrame:
    return pd.DataFrame({
        "label": ["猫", "a,b", 'q"uote', "masked"],
        "logit": [1.5, -2.0, 0.0, -np.inf],
        "p": [0.7, 0.2, 0.1, 0.0],
        "count": np.array([3, 0, 1, 0], dtype=np.int64),
        "nan": [np.nan, 1.0, 2.0, 3.0],
    })


def test_csv_reads_back_to_the_same_table():
    back = pd.read_csv(io.BytesIO(widgets.table_csv(table())), keep_default_na=True)
    pd.testing.assert_frame_equal(back, table(), check_dtype=False)


def test_json_is_strict_json_with_null_for_inf_and_nan():
    data = widgets.table_json(table())
    # strict: no NaN / Infinity literals, which most JSON readers refuse
    records = json.loads(data, parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))
    assert [r["label"] for r in records] == ["猫", "a,b", 'q"uote', "masked"]
    assert records[3]["logit"] is None and records[0]["nan"] is None
    assert records[0]["logit"] == 1.5 and records[0]["count"] == 3 and isinstance(records[0]["count"], int)
    assert "猫".encode() in data  # UTF-8, not \\u escapes


def test_json_keeps_fifteen_significant_digits():
    df = pd.DataFrame({"p": [0.14024438316608848, 1 / 3, 2.5e-300]})
    back = [r["p"] for r in json.loads(widgets.table_json(df))]
    np.testing.assert_allclose(back, df["p"], rtol=1e-14, atol=0)
