"""Parsing what people paste and upload; only InputError may ever escape."""

from __future__ import annotations

import io
import json
import math
import re
import zipfile

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from logitsviz import inputs
from logitsviz.errors import InputError, Where
from logitsviz.i18n import t

inf = math.inf


def values(text: str) -> list[float]:
    return inputs.parse_logits(text)[1].tolist()


# ------------------------------------------------------ accepted forms ----


@pytest.mark.parametrize(
    "text",
    [
        "2.0, 1.0, 0.1",
        "2.0 1.0 0.1",
        "2.0\n1.0\n0.1\n",
        "2.0;1.0;0.1",
        "[2.0, 1.0, 0.1]",
        "tensor([2.0, 1.0, 0.1])",
        "tensor([2.0000, 1.0000, 0.1000], grad_fn=<SelectBackward0>)",
        "torch.tensor([2.0, 1.0, 0.1])",
        "array([2. , 1. , 0.1])",
        "array([2. , 1. , 0.1], dtype=float32)",
        "np.array([[2.0, 1.0, 0.1]])",
        "[[2.0, 1.0, 0.1]]",
        "\ufeff  2.0,\t1.0 , 0.1  ",
    ],
)
def test_plain_vectors(text):
    labels, logits = inputs.parse_logits(text)
    np.testing.assert_allclose(logits, [2.0, 1.0, 0.1], rtol=1e-6)
    assert labels == ["class 0", "class 1", "class 2"]


@pytest.mark.parametrize(
    "text",
    [
        "News: 2.0\nEntertainment: 1.0\nTechnology: 0.1",
        "News,2.0\nEntertainment,1.0\nTechnology,0.1",
        "News\t2.0\nEntertainment\t1.0\nTechnology\t0.1",
        "News = 2\nEntertainment = 1\nTechnology = 0.1",
        "News:2,Entertainment:1,Technology:0.1",
        "label,logit\nNews,2.0\nEntertainment,1.0\nTechnology,0.1",
        '{"News": 2.0, "Entertainment": 1.0, "Technology": 0.1}',
        '[["News", 2.0], ["Entertainment", 1.0], ["Technology", 0.1]]',
        "# my model\nNews 2.0\nEntertainment 1.0\n\nTechnology 0.1",
    ],
)
def test_labelled_vectors(text):
    labels, logits = inputs.parse_logits(text)
    assert labels == ["News", "Entertainment", "Technology"]
    np.testing.assert_allclose(logits, [2.0, 1.0, 0.1])


def test_unicode_labels_and_separators_inside_labels():
    labels, logits = inputs.parse_logits("新闻: 2\n娱乐: 1\n科技：0.1".replace("：", ": "))
    assert labels == ["新闻", "娱乐", "科技"]
    labels, logits = inputs.parse_logits("Hello, world: 3\nratio 1:2 = 1.5\nMachine learning 0.5")
    assert labels == ["Hello, world", "ratio 1:2", "Machine learning"]
    assert logits.tolist() == [3.0, 1.5, 0.5]


@pytest.mark.parametrize("token", ["-inf", "−inf", "-Infinity", "-∞", "-INF"])
def test_masked_class_spellings(token):
    assert values(f"1, {token}, 2") == [1.0, -inf, 2.0]


def test_negative_overflow_is_a_mask_and_json_infinity():
    assert values("1, -1e999") == [1.0, -inf]
    assert values('{"a": 1, "b": -Infinity}') == [1.0, -inf]
    assert values('{"a": 1, "b": "-inf"}') == [1.0, -inf]


def test_default_label_template():
    labels, _ = inputs.parse_logits("1 2", default_label="类别 {i}")
    assert labels == ["类别 0", "类别 1"]


def test_a_million_classes_are_accepted():
    text = ",".join(["0.5"] * 1_000_000)
    labels, logits = inputs.parse_logits(text)
    assert logits.size == 1_000_000 and len(labels) == 1_000_000


# ----------------------------------------------------- rejected input ----


@pytest.mark.parametrize(
    ("text", "key", "where"),
    [
        ("", "input.empty", None),
        ("   \n\t ", "input.empty", None),
        ("1, nan, 2", "input.nan", Where("entry", n=2)),
        ("1, inf", "input.posinf", Where("entry", n=2)),
        ("1, +inf", "input.posinf", Where("entry", n=2)),
        ("1, 2, 1e999", "input.overflow", Where("entry", n=3)),
        ("a: 1\nb: nan", "input.nan", Where("line", n=2)),
        ("a: 1\nb: 1e999", "input.overflow", Where("line", n=2)),
        ("1, 2, three", "input.not_number", Where("line", n=1)),
        ("a: 1\nb: x", "input.not_number", Where("line", n=2)),
        ('{"a": 1, "b": NaN}', "input.nan", Where("key", label="b")),
        ('{"a": 1, "b": [1]}', "input.not_number", Where("key", label="b")),
        ('{"a": 1, "b": true}', "input.not_number", Where("key", label="b")),
        ("[1, 2, NaN]", "input.nan", Where("entry", n=3)),
        ('{"a": 1', "input.bad_json", None),
        ("[[1, 2], [3]]", "file.ragged", None),
        ("tensor([[[1., 2.]]])", "file.ndim", None),
        ("tensor([1.0, 2.0, ..., 9.0])", "input.truncated", None),
        ("[[1, 2], [3, nan]]", "input.nan", Where("row_col", row=2, col=2)),
        ("a: 1\na: 2", "input.duplicate_label", None),
        ('{"a": 1, "a": 2}', "input.duplicate_label", None),
        ("a: 1\n2", "input.mixed_labels", None),
        ("-inf, -inf", "input.all_masked", None),
        (": 3\nb: 2", "input.empty_label", None),
    ],
)
def test_rejections_name_what_and_where(text, key, where):
    with pytest.raises(InputError) as info:
        inputs.parse_logits(text)
    assert info.value.key == key
    if where is not None:
        assert info.value.params["where"] == where
        assert str(where) in str(info.value)


def test_messages_translate():
    with pytest.raises(InputError) as info:
        inputs.parse_logits("1, nan")
    err = info.value
    assert "entry 2" in str(err) and "NaN" in str(err)
    zh = t(err.key, lang="zh", **{k: v for k, v in err.params.items() if k != "where"}, where="第 2 项")
    assert "第 2 项" in zh and "NaN" in zh


def test_too_many_values_states_the_limit():
    with pytest.raises(InputError) as info:
        inputs.parse_logits(" ".join(["1"] * (inputs.MAX_CLASSES + 1)))
    assert info.value.key == "input.too_many"
    assert f"{inputs.MAX_CLASSES:,}" in str(info.value)


def test_not_text():
    with pytest.raises(InputError):
        inputs.parse_logits(b"1,2")  # type: ignore[arg-type]


# ------------------------------------------------------- round trip ----

label_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=12
).filter(lambda s: s.strip())  # a blank label is refused on input, so it is never formatted


@given(
    st.lists(st.tuples(label_text, st.floats(-1e6, 1e6) | st.just(-inf)), min_size=1, max_size=12, unique_by=lambda p: p[0])
)
def test_format_then_parse_round_trips(pairs):
    labels = [label for label, _ in pairs]
    logits = np.array([v for _, v in pairs])
    if np.all(logits == -inf):
        logits[0] = 0.0
    text = inputs.format_logits(labels, logits)
    got_labels, got = inputs.parse_logits(text)
    assert got_labels == labels
    np.testing.assert_array_equal(got, logits)


@pytest.mark.parametrize("labels", [["=0,"], ["=0,0"], ["x=1,y", "b"], ["#1", "b"], [" padded ", "q"], ["\ufeffbom", "b"], ["a:", "b"]])
def test_format_keeps_labels_the_line_forms_would_misread(labels):
    # found by the round-trip property: "k=1,v: 0" reads as two pairs, "#1: 0" as a comment
    logits = np.array([1.5, -inf][: len(labels)])
    got_labels, got = inputs.parse_logits(inputs.format_logits(labels, logits))
    assert got_labels == labels
    np.testing.assert_array_equal(got, logits)


def test_format_compact_forms():
    assert inputs.format_logits(["a", "b"], [1.5, -inf]) == "a:1.5,b:-inf"
    assert inputs.format_logits(["class 0", "class 1"], [1.0, 2.0]) == "1,2"
    assert inputs.format_logits(["a,b", "c"], [1.0, 2.0]) == "a,b: 1\nc: 2"


# ------------------------------------------------------------ fuzzing ----


@settings(max_examples=400)
@given(st.text(max_size=300))
def test_parse_only_raises_input_error(text):
    try:
        labels, logits = inputs.parse_logits(text)
    except InputError:
        return
    assert len(labels) == logits.size > 0
    assert not np.isnan(logits).any() and not (logits == inf).any()


@settings(max_examples=300)
@given(
    st.lists(
        st.sampled_from(["1", "-2.5", "nan", "inf", "-inf", "1e999", ",", " ", "\n", ":", "a", "[", "]", "{", "}", '"', "tensor(", ")", "=", "\t", "x:", "猫"]),
        max_size=40,
    )
)
def test_parse_structured_garbage(tokens):
    try:
        inputs.parse_logits("".join(tokens))
    except InputError:
        pass


# ---------------------------------------------------------- load_array ----


def npy_bytes(arr) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    return buf.getvalue()


def npz_bytes(**arrays) -> bytes:
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def test_load_npy_keeps_float32():
    arr = np.arange(12, dtype=np.float32).reshape(3, 4)
    got = inputs.load_array(npy_bytes(arr), "x.npy")
    assert got.dtype == np.float32
    np.testing.assert_array_equal(got, arr)


def test_load_npy_refuses_pickles():
    obj = np.array([{"a": 1}], dtype=object)
    with pytest.raises(InputError) as info:
        inputs.load_array(npy_bytes(obj), "evil.npy")
    assert info.value.key == "file.dtype"


def test_load_npy_checks_shape_before_loading():
    # a header that claims 10^9 float64 values, followed by no data at all
    header = {"descr": "<f8", "fortran_order": False, "shape": (100_000, 10_000)}
    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, header)  # magic + header, no data
    with pytest.raises(InputError) as info:
        inputs.load_array(buf.getvalue(), "big.npy")
    assert info.value.key == "file.too_many_values"


def test_load_npy_three_dimensions():
    with pytest.raises(InputError) as info:
        inputs.load_array(npy_bytes(np.zeros((2, 2, 2))), "x.npy")
    assert info.value.key == "file.ndim"


def test_load_npz_picks_logits():
    data = npz_bytes(logits=np.ones((2, 3)), labels=np.array([0, 1]))
    np.testing.assert_array_equal(inputs.load_array(data, "eval.npz"), np.ones((2, 3)))
    np.testing.assert_array_equal(inputs.load_array(npz_bytes(x=np.arange(3.0)), "one.npz"), [0.0, 1.0, 2.0])
    with pytest.raises(InputError) as info:
        inputs.load_array(npz_bytes(a=np.ones(2), b=np.ones(2)), "two.npz")
    assert info.value.key == "file.npz_which"


def _zipped(member: bytes) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("logits.npy", member)
    return buf.getvalue()


def test_load_npz_reads_only_what_the_header_declares():
    # 100 MB of zeros behind a 1,000-value array compress to 0.1 MB: only the declared 8,000 bytes are inflated
    data = _zipped(npy_bytes(np.arange(1000.0)) + b"\0" * 10**8)
    assert len(data) < 200_000
    np.testing.assert_array_equal(inputs.load_array(data, "bomb.npz"), np.arange(1000.0))


def test_load_npz_truncated_member_is_a_clear_error():
    with pytest.raises(InputError) as info:
        inputs.load_array(_zipped(npy_bytes(np.arange(1000.0))[:-100]), "short.npz")
    assert info.value.key == "file.unreadable" and info.value.params["name"] == "short.npz"


def test_load_csv_with_header_and_ragged_rows():
    np.testing.assert_array_equal(inputs.load_array(b"a,b\n1,2\n3,4\n", "x.csv"), [[1, 2], [3, 4]])
    with pytest.raises(InputError) as info:
        inputs.load_array(b"1,2,3\n4,5\n", "x.csv")
    assert info.value.key == "file.ragged" and info.value.params["row"] == 2


def test_load_tsv_txt_json():
    np.testing.assert_array_equal(inputs.load_array(b"1\t2\n3\t4", "x.tsv"), [[1, 2], [3, 4]])
    np.testing.assert_array_equal(inputs.load_array(b"1 2 3", "x.txt"), [1, 2, 3])
    np.testing.assert_array_equal(inputs.load_array(b'{"logits": [[1, 2]]}', "x.json"), [[1, 2]])
    np.testing.assert_array_equal(inputs.load_array(b"[1, 2, -Infinity]", "x.json"), [1, 2, -inf])


@pytest.mark.parametrize(
    ("data", "name", "key"),
    [
        (b"1,nan\n", "x.csv", "input.nan"),
        (b"1,2\n3,inf\n", "x.csv", "input.posinf"),
        (b"1,2\n3,1e999\n", "x.csv", "input.posinf"),
        (b"1,x\n2,3\n", "x.csv", "input.not_number"),
        (b"\xff\xfe\x00", "x.csv", "file.not_utf8"),
        (b"1,2", "x.exe", "file.extension"),
        (b"", "x.csv", "file.empty"),
        (b"not a zip", "x.npz", "file.unreadable"),
        (b"\x93NUMPY garbage", "x.npy", "file.unreadable"),
        (b"[[1, 2], [3]]", "x.json", "file.ragged"),
        (b'{"x": 1}', "x.json", "file.json_key"),
    ],
)
def test_load_rejections(data, name, key):
    with pytest.raises(InputError) as info:
        inputs.load_array(data, name)
    assert info.value.key == key


def test_nan_position_is_named():
    with pytest.raises(InputError) as info:
        inputs.load_array(npy_bytes(np.array([[1.0, 2.0], [3.0, np.nan]])), "x.npy")
    assert info.value.params["where"] == Where("row_col", row=2, col=2)


def test_upload_size_limit(monkeypatch):
    monkeypatch.setattr(inputs.files, "MAX_UPLOAD_BYTES", 10)
    with pytest.raises(InputError) as info:
        inputs.load_array(b"1,2,3,4,5,6,7,8", "x.csv")
    assert info.value.key == "file.too_large"


@settings(max_examples=300)
@given(st.binary(max_size=400), st.sampled_from(inputs.SUPPORTED_EXTENSIONS + (".bin", "")))
def test_load_only_raises_input_error(data, ext):
    try:
        inputs.load_array(data, "upload" + ext)
    except InputError:
        pass


@settings(max_examples=100)
@given(st.binary(max_size=200))
def test_load_npz_zip_garbage(data):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("logits.npy", np.lib.format.magic(1, 0) + data)
    try:
        inputs.load_array(buf.getvalue(), "x.npz")
    except InputError:
        pass


# ---------------------------------------------------- vectors from files ----


def test_read_vector_file_forms():
    labels, logits = inputs.read_vector_file(b"label,logit\ncat,2\ndog,1\n", "x.csv")
    assert labels == ["cat", "dog"] and logits.tolist() == [2.0, 1.0]
    labels, logits = inputs.read_vector_file(npy_bytes(np.array([[1.0, 2.0, 3.0]])), "row.npy")
    assert labels == ["class 0", "class 1", "class 2"]
    labels, logits = inputs.read_vector_file(json.dumps({"logits": [1, 2]}).encode(), "x.json")
    assert logits.tolist() == [1.0, 2.0]
    labels, logits = inputs.read_vector_file(npy_bytes(np.ones((3, 4))), "matrix.npy")
    assert logits.shape == (3, 4) and labels == ["class 0", "class 1", "class 2", "class 3"]


def test_validate_pairs():
    labels, logits = inputs.validate_pairs(["a", None, " b  c "], [1, "2.5", -inf])
    assert labels == ["a", "class 1", "b c"] and logits.tolist() == [1.0, 2.5, -inf]
    with pytest.raises(InputError) as info:
        inputs.validate_pairs(["a", "b"], [1.0, None])
    assert info.value.key == "input.missing_value" and info.value.params["row"] == 2
    with pytest.raises(InputError) as info:
        inputs.validate_pairs(["a", "b"], [1.0, float("nan")])
    assert info.value.key == "input.nan"


# ------------------------------------------------------- quoted CSV ----


@pytest.mark.parametrize("text", ['"Smith, J",2\nB,1', '"Smith, J", 2\n"B",1\n', 'label,logit\n"Smith, J",2\nB,1', '"Smith, J"\t2\nB\t1'])
def test_quoted_csv_labels_keep_their_commas(text):
    # regression: the hand-written splitter kept the quotes and split inside them
    labels, logits = inputs.parse_logits(text)
    assert labels == ["Smith, J", "B"]
    assert logits.tolist() == [2.0, 1.0]


def test_quoted_csv_labels_in_an_upload():
    labels, logits = inputs.read_vector_file(b'"Smith, J",2\r\nB,1\r\n', "people.csv")
    assert labels == ["Smith, J", "B"] and logits.tolist() == [2.0, 1.0]


def test_quoted_csv_table():
    got = inputs.load_array(b'"a, first","b"\n"1",2\n3,"4"\n', "eval.csv")
    np.testing.assert_array_equal(got, [[1.0, 2.0], [3.0, 4.0]])
    with pytest.raises(InputError) as info:
        inputs.load_array(b'1,"2,5"\n3,4\n', "x.csv")
    assert info.value.key == "input.not_number" and info.value.params["where"] == Where("row_col", row=1, col=2)


@given(st.lists(st.tuples(label_text, st.floats(-1e6, 1e6)), min_size=1, max_size=8, unique_by=lambda p: p[0]))
def test_csv_written_by_the_csv_module_reads_back(pairs):
    buf = io.StringIO()
    csv_writer = __import__("csv").writer(buf)
    csv_writer.writerows(pairs)
    try:
        labels, logits = inputs.read_vector_file(buf.getvalue().encode(), "x.csv")
    except InputError:
        return  # a label such as "1e5" or "#x" may be read as a number or a comment: refused, never misread silently
    if labels != [p[0] for p in pairs]:
        # a label that is itself a number turns the file into a plain table of numbers
        assert any(inputs.base._to_float(p[0]) is not None for p in pairs)
        return
    np.testing.assert_array_equal(logits, [p[1] for p in pairs])


# ------------------------------------------------------------- rows (2-D) ----

ROWS = [[1.2, -0.3, 4.1], [0.5, 2.0, -1.0]]


@pytest.mark.parametrize(
    "text",
    [
        "tensor([[1.2, -0.3, 4.1], [0.5, 2.0, -1.0]])",
        "tensor([[ 1.2000, -0.3000,  4.1000],\n        [ 0.5000,  2.0000, -1.0000]], grad_fn=<AddmmBackward0>)",
        "logits: tensor([[1.2, -0.3, 4.1], [0.5, 2.0, -1.0]], device='cuda:0')",
        "array([[ 1.2, -0.3,  4.1],\n       [ 0.5,  2. , -1. ]], dtype=float32)",
        "Array([[ 1.2, -0.3,  4.1],\n       [ 0.5,  2. , -1. ]], dtype=float32)",
        "z = jnp.Array([[1.2, -0.3, 4.1], [0.5, 2.0, -1.0]])",
        "[[1.2, -0.3, 4.1], [0.5, 2.0, -1.0]]",
        "1.2, -0.3, 4.1\n0.5, 2.0, -1.0",
        "1.2 -0.3 4.1\n0.5 2.0 -1.0\n",
        '{"logits": [[1.2, -0.3, 4.1], [0.5, 2.0, -1.0]]}',
    ],
)
def test_rows_in_every_form(text):
    labels, logits = inputs.parse_logits(text)
    np.testing.assert_allclose(logits, ROWS, rtol=1e-6)
    assert labels == ["class 0", "class 1", "class 2"]


def test_rows_with_class_names():
    for text in ("cat,dog,bird\n1.2,-0.3,4.1\n0.5,2.0,-1.0", '{"labels": ["cat", "dog", "bird"], "logits": [[1.2, -0.3, 4.1], [0.5, 2.0, -1.0]]}',
                 '"cat","dog","bird"\n1.2,-0.3,4.1\n0.5,2,-1'):
        labels, logits = inputs.parse_logits(text)
        assert labels == ["cat", "dog", "bird"] and logits.shape == (2, 3)


def test_a_shortened_print_says_how_to_print_in_full():
    for text in ("tensor([[ 0.1, 0.2, ..., 0.9],\n        [ 0.3, 0.1, ..., 0.2]])", "array([1., 2., …, 9.])"):
        with pytest.raises(InputError) as info:
            inputs.parse_logits(text)
        assert info.value.key == "input.truncated"
        assert 'torch.set_printoptions(profile="full")' in str(info.value) and "np.set_printoptions(threshold=sys.maxsize)" in str(info.value)


def test_one_row_stays_a_vector_and_ragged_rows_are_named():
    assert inputs.parse_logits("[[2.0, 1.0, 0.1]]")[1].shape == (3,)
    with pytest.raises(InputError) as info:
        inputs.parse_logits("1 2 3\n4 5")
    assert info.value.key in ("file.ragged", "input.not_number", "input.mixed_labels")
    with pytest.raises(InputError) as info:
        inputs.parse_logits("[[1, 2, 3], [4, 5]]")
    assert info.value.key == "file.ragged" and info.value.params["row"] == 2
    with pytest.raises(InputError) as info:
        inputs.parse_logits("[[1, 2], [-inf, -inf]]")
    assert info.value.key == "input.all_masked"


@given(hnp.arrays(np.float64, st.tuples(st.integers(2, 5), st.integers(2, 6)), elements=st.floats(-1e6, 1e6) | st.just(-inf)),
       st.booleans())
def test_rows_round_trip_through_format(z, labelled):
    z[:, 0] = np.where(np.all(z == -inf, axis=1), 0.0, z[:, 0])
    labels = [f"c{i}," for i in range(z.shape[1])] if labelled else None
    got_labels, got = inputs.parse_logits(inputs.format_logits(labels, z))
    np.testing.assert_array_equal(got, z)
    assert got_labels == (labels or inputs.default_labels(z.shape[1]))


@given(st.lists(st.text(alphabet=st.characters(blacklist_characters="\r\n\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"), max_size=8), max_size=6),
       st.sampled_from(["\n", "\r\n", "\r"]), st.booleans())
def test_text_tables_read_lines_as_splitlines_does(lines, ending, trailing):
    # large tables are read one line at a time; the lines are the ones str.splitlines finds, whatever the line endings
    from logitsviz.inputs.files import _lines

    text = ending.join(lines) + (ending if trailing and lines else "")
    assert list(_lines(text)) == text.splitlines()


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_an_evaluation_csv_with_any_line_endings(ending):
    z, y = inputs.read_eval_set(ending.join(["a,b,c,label", "2,1,0,0", "0,3,1,1", ""]).encode(), "eval.csv")
    assert z.tolist() == [[2.0, 1.0, 0.0], [0.0, 3.0, 1.0]] and y.tolist() == [0, 1]


def test_a_bad_cell_deep_in_a_large_csv_is_named():
    rows = ["1,2,3"] * 5000 + ["1,x,3"]
    with pytest.raises(InputError) as err:
        inputs.load_array("\n".join(rows).encode(), "big.csv")
    assert err.value.key == "input.not_number" and err.value.params["token"] == "x"
    assert err.value.params["where"] == Where("row_col", row=5001, col=2)


def test_parse_token_ids():
    labels = ["the", "␣cat", "sat", "7", "cat"]
    assert inputs.parse_token_ids("the, sat  the", labels) == (0, 2, 0)
    assert inputs.parse_token_ids("cat ␣cat", labels) == (4, 1)  # an exact token first; "cat" is one here
    assert inputs.parse_token_ids("7 2", labels) == (3, 2)  # "7" is a token's text; "2" an id
    assert inputs.parse_token_ids("  ", labels) == ()
    assert inputs.parse_token_ids("cat", ["␣cat"]) == (0,)  # the leading-space token, typed without its ␣
    for bad in ("dog", "9", "-1"):
        with pytest.raises(InputError) as info:
            inputs.parse_token_ids(f"the {bad}", labels)
        assert info.value.key == "input.token_unknown" and info.value.params["token"] == bad
        assert str(info.value.params["where"]) == str(Where("entry", n=2))


# ------------------------------------------------- prints that were cut off ----


@pytest.mark.parametrize("text", ["[[1, 2], [3", "[1, 2, 3", "[[1, 2], [3, 4", "tensor([1., 2.", "logits: tensor([[1.0, 2.0],",
                                  "array([0.5, -1.0, 2.5", "[[1, 2], [3, 4]"])
def test_a_print_that_was_cut_off_is_refused_not_read_short(text):
    # these were read as the vector [1, 2] (or [1, 2, 3]): the values after the cut silently lost
    with pytest.raises(InputError) as err:
        inputs.parse_logits(text)
    assert err.value.key == "input.cut_off" and "cut off" in str(err.value)


@given(st.lists(st.lists(st.integers(-9, 9), min_size=2, max_size=4), min_size=1, max_size=4), st.data())
def test_every_cut_inside_a_print_is_refused(rows, data):
    text = json.dumps(rows if len(rows) > 1 else rows[0])
    cut = data.draw(st.integers(1, len(text) - 1))
    prefix = text[:cut]
    if prefix.count("[") == prefix.count("]"):
        return  # a complete list: nothing was cut
    with pytest.raises(InputError) as err:
        inputs.parse_logits(prefix)
    assert err.value.key in ("input.cut_off", "input.empty")


def test_brackets_inside_labels_are_text():
    assert inputs.parse_logits('[["a]", 1], ["(b", 2]]')[0] == ["a]", "(b"]
    with pytest.raises(InputError) as err:
        inputs.parse_logits("[1, 2]]")
    assert err.value.key == "input.unbalanced"


@pytest.mark.parametrize(("data", "name"), [(b"hello 1,2,3", "a.npy"), (b"PK\x03\x04junk", "a.npz"), (b'{"a": ', "a.json"),
                                            (b"[1, 2,", "a.json")])
def test_unreadable_files_are_explained_in_the_readers_language(data, name):
    # numpy's and json's own messages are English ("the magic string is not correct", "Expecting value"): not shown
    from logitsviz import i18n

    with pytest.raises(InputError) as err:
        inputs.load_array(data, name)
    zh = i18n.t(err.value.key, lang="zh", **err.value.params)
    i18n.set_language("zh")
    try:
        zh = i18n.t(err.value.key, **err.value.params)  # parameters that are phrases follow the language too
    finally:
        i18n.set_language("en")
    english = [w for w in re.findall(r"[A-Za-z]{3,}", zh) if w not in ("numpy", "npy", "npz", "savez", "save", "txt", "csv", "zip",
                                                                          "JSON", "json")]
    assert english == [], zh
