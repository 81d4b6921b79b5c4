"""kinto_client.utils: slugify, urljoin, quote, chunks, encode_params, json_dumps (no server)."""

from __future__ import annotations

import datetime
import decimal
import json
import threading
import uuid

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kinto_client import utils

# -- slugify ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value", ["abc", "ABC", "a-b_c", "0", "1234", "a1", "Z", "89881454-e4e9-4ef0-99a9-404d95900352"]
)
def test_slugify_keeps_valid_ids(value):
    assert utils.slugify(value) == value


@pytest.mark.parametrize(("value", "expected"), [(0, "0"), (1234, "1234"), (-1, "-1")])
def test_slugify_integers(value, expected):
    assert utils.slugify(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("Hello World", "hello-world"),
        ("  many   spaces  ", "many-spaces"),
        ("Hôtel de Ville", "hotel-de-ville"),
        ("Ça va?", "ca-va"),
        ("Ελληνικά", "ellenika"),
        ("北京", "bei-jing"),
        ("ñandú", "nandu"),
        ("_leading", "_leading"),
        ("a - b", "a-b"),
        ("what/is this?", "whatis-this"),
        ("../etc/passwd", "etcpasswd"),
    ],
)
def test_slugify_transliterates_lowercases_and_hyphenates(value, expected):
    slug = utils.slugify(value)
    assert slug == expected
    assert slug.isascii()


def test_slugify_output_is_a_valid_id_when_not_empty():
    for value in ["Hôtel", "x y z", "Ünïcödé", "a.b", "c'est l'été"]:
        assert utils.VALID_SLUG_REGEXP.match(utils.slugify(value)), value


def test_slugify_refuses_booleans():
    with pytest.raises(TypeError, match="boolean"):
        utils.slugify(True)


# -- urljoin ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("server_url", "path", "expected"),
    [
        ("http://h:8888/v1", "/buckets", "http://h:8888/v1/buckets"),
        ("http://h:8888/v1/", "/buckets", "http://h:8888/v1/buckets"),
        ("http://h:8888/v1", "buckets", "http://h:8888/v1/buckets"),
        ("http://h:8888/v1/", "buckets/b", "http://h:8888/v1/buckets/b"),
        ("http://h:8888/v1", "/", "http://h:8888/v1/"),
        ("http://h:8888", "/v1/buckets", "http://h:8888/v1/buckets"),
        ("http://h/v1", "http://other/v1/buckets?_token=x", "http://other/v1/buckets?_token=x"),
        ("http://h/v1", "https://other/x", "https://other/x"),
    ],
)
def test_urljoin(server_url, path, expected):
    assert utils.urljoin(server_url, path) == expected


# -- quote -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [(1234, '"1234"'), ("1234", '"1234"'), ('"1234"', '"1234"'), (0, '"0"'), ("*", '"*"')],
)
def test_quote_wraps_once(text, expected):
    assert utils.quote(text) == expected
    assert utils.quote(utils.quote(text)) == expected


# -- chunks -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "n", "expected"),
    [
        ([1, 2, 3, 4, 5], 2, [[1, 2], [3, 4], [5]]),
        ([1, 2, 3, 4], 2, [[1, 2], [3, 4]]),
        ([1, 2, 3], 5, [[1, 2, 3]]),
        ([1, 2, 3], 1, [[1], [2], [3]]),
        ([1, 2, 3], 0, [[1, 2, 3]]),
        ([1, 2, 3], -1, [[1, 2, 3]]),
        ([], 3, []),
        ([], 0, []),
    ],
)
def test_chunks(items, n, expected):
    assert [list(c) for c in utils.chunks(items, n)] == expected


def test_chunks_of_batch_max_requests():
    sizes = [len(c) for c in utils.chunks(list(range(60)), 25)]
    assert sizes == [25, 25, 10]


# -- encode_params --------------------------------------------------------------------------


def test_encode_params():
    encoded = utils.encode_params(
        {
            "_sort": "-last_modified",
            "_limit": 10,
            "in_id": ["a", "b", 3],
            "_fields": ("title", "done"),
            "has_done": True,
            "exclude_x": {"z", "y"},
            "gt_ts": 1.5,
            "since": datetime.date(2024, 1, 2),
            "skipped": None,
        }
    )
    assert encoded == {
        "_sort": "-last_modified",
        "_limit": "10",
        "in_id": "a,b,3",
        "_fields": "title,done",
        "has_done": "true",
        "exclude_x": "y,z",
        "gt_ts": "1.5",
        "since": "2024-01-02",
    }
    assert utils.encode_params({"done": False}) == {"done": "false"}
    assert utils.encode_params({}) == {}


def test_encode_params_names_the_bad_parameter():
    with pytest.raises(TypeError, match="weird"):
        utils.encode_params({"ok": 1, "weird": object()})


# -- json_dumps ---------------------------------------------------------------------------------


def test_json_dumps_compact_utf8():
    assert utils.json_dumps({"a": [1, "é"]}) == '{"a":[1,"é"]}'.encode()


def test_json_dumps_dates_and_friends():
    value = {
        "when": datetime.datetime(2024, 5, 6, 7, 8, 9, tzinfo=datetime.timezone.utc),
        "day": datetime.date(2024, 5, 6),
        "uid": uuid.UUID(int=1),
        "price": decimal.Decimal("1.50"),
        "count": decimal.Decimal("3"),
        "tags": ("a",),
    }
    decoded = json.loads(utils.json_dumps(value))
    assert decoded == {
        "when": "2024-05-06T07:08:09+00:00",
        "day": "2024-05-06",
        "uid": "00000000-0000-0000-0000-000000000001",
        "price": 1.5,
        "count": 3,
        "tags": ["a"],
    }


@pytest.mark.parametrize(
    ("payload", "where"),
    [
        ({"data": {"title": "x", "blob": object()}}, "data.blob"),
        ({"data": {"items": [1, 2, b"bytes"]}}, "data.items[2]"),
        ({"data": {"n": float("nan")}}, "data.n"),
        ({"data": {"ok": 1}, "permissions": {"read": [object()]}}, "permissions.read[0]"),
    ],
)
def test_json_dumps_names_the_bad_field(payload, where):
    with pytest.raises(TypeError) as excinfo:
        utils.json_dumps(payload)
    assert f"at {where}" in str(excinfo.value)


def test_json_dumps_names_a_circular_reference():
    looped: dict[str, object] = {"title": "x"}
    looped["items"] = [1, looped]
    with pytest.raises(TypeError) as excinfo:
        utils.json_dumps({"data": looped})
    assert "at data.items[1] (a circular reference)" in str(excinfo.value)
    # A value seen twice, but not inside itself, is not circular.
    shared = [1, 2]
    assert utils.json_dumps({"a": shared, "b": shared}) == b'{"a":[1,2],"b":[1,2]}'


def test_json_dumps_after_a_failure_is_clean():
    # The reused encoder's circular-reference markers must not leak from a
    # failed call into the next one: the same dict, once fixed, encodes.
    payload = {"ok": {"k": "v"}, "bad": object()}
    with pytest.raises(TypeError):
        utils.json_dumps(payload)
    del payload["bad"]
    assert utils.json_dumps(payload) == b'{"ok":{"k":"v"}}'


def test_json_dumps_from_threads():
    shared = {"n": list(range(50)), "s": "é" * 20}
    expected = json.dumps({"x": shared}, separators=(",", ":"), ensure_ascii=False).encode()
    errors: list[BaseException] = []

    def encode_many() -> None:
        try:
            for _ in range(2000):
                assert utils.json_dumps({"x": shared}) == expected
        except BaseException as exc:  # reported to the main thread
            errors.append(exc)

    threads = [threading.Thread(target=encode_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []


def test_json_dumps_reentrant():
    # A value whose encoding encodes the object being encoded (default()
    # calls isoformat() while the encoder is busy): the nested call works
    # and sees nothing of the outer one.
    class Reentrant(datetime.date):
        busy = False

        def isoformat(self) -> str:
            if Reentrant.busy:
                return "inner"
            Reentrant.busy = True
            try:
                return utils.json_dumps(outer).decode()
            finally:
                Reentrant.busy = False

    outer = {"a": [1, 2], "b": Reentrant(2024, 1, 1)}
    encoded = utils.json_dumps(outer)
    assert json.loads(encoded) == {"a": [1, 2], "b": '{"a":[1,2],"b":"inner"}'}


def test_json_dumps_too_deep():
    deep: list[object] = []
    for _ in range(5000):
        deep = [deep]
    with pytest.raises(TypeError, match="nested too deeply"):
        utils.json_dumps({"data": {"deep": deep}})


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(
        st.text(max_size=12) | st.from_regex(r"[a-zA-Z0-9][a-zA-Z0-9_-]{0,10}", fullmatch=True),
        max_size=40,
    )
)
def test_is_valid_id_agrees_with_the_regex(texts):
    for text in texts:
        expected = utils.VALID_SLUG_REGEXP.fullmatch(text) is not None
        assert utils.is_valid_id(text) is expected
        if expected:
            assert utils.slugify(text) == text


def test_json_ready_copies_what_it_checks():
    value = {"a": [1, {"b": 2}], "when": datetime.date(2024, 1, 2)}
    ready = utils.json_ready(value)
    value["a"][1]["b"] = 3  # the caller changes its dict afterwards
    assert ready == {"a": [1, {"b": 2}], "when": "2024-01-02"}


def test_json_ready_refuses_keys_that_collide_once_encoded():
    with pytest.raises(TypeError, match="would both be sent as the JSON key"):
        utils.json_ready({"data": {1: "int", "1": "str"}})
    assert utils.json_ready({1: "a", None: "b"}) == {"1": "a", "null": "b"}


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(value=json_values)
def test_json_dumps_matches_the_standard_library(value):
    expected = json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    assert utils.json_dumps(value) == expected.encode("utf-8")


def test_new_id_is_a_fresh_uuid4():
    a, b = utils.new_id(), utils.new_id()
    assert a != b and uuid.UUID(a).version == 4
