"""Message codecs: timestamps, paths, and clear errors for malformed client frames."""

from __future__ import annotations

import orjson
import pytest

from dataplane.sync.protocol import (
    AddQuery,
    Authenticate,
    Connect,
    ModifyQuerySet,
    Mutation,
    ProtocolError,
    QueryResult,
    RemoveQuery,
    StateVersion,
    canonical_udf_path,
    decode_ts,
    encode_ts,
    parse_client_message,
    transition,
    transition_chunks,
)


def test_ts_encoding_matches_the_wire_examples() -> None:
    assert encode_ts(1000) == "6AMAAAAAAAA="
    assert encode_ts(0) == "AAAAAAAAAAA="
    assert decode_ts("6QMAAAAAAAA=") == 1001
    big = 1_795_547_728_474_000_000
    assert decode_ts(encode_ts(big)) == big
    with pytest.raises(ProtocolError, match="8 bytes"):
        decode_ts("AAAA")
    with pytest.raises(ProtocolError, match="base64"):
        decode_ts("!!!")


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("messages:list", "messages:list"),
        ("messages.js:list", "messages:list"),
        ("messages", "messages:default"),
        ("dir/file.js", "dir/file:default"),
    ],
)
def test_udf_paths_are_canonicalised(raw: str, canonical: str) -> None:
    assert canonical_udf_path(raw) == canonical


def test_parses_the_client_messages() -> None:
    connect = parse_client_message(
        b'{"type":"Connect","sessionId":"s1","connectionCount":2,'
        b'"lastCloseReason":"x","maxObservedTimestamp":"6AMAAAAAAAA=","clientTs":5}'
    )
    assert connect == Connect("s1", 2, 1000, 5.0)
    mqs = parse_client_message(
        orjson.dumps(
            {
                "type": "ModifyQuerySet",
                "baseVersion": 0,
                "newVersion": 1,
                "modifications": [
                    {"type": "Add", "queryId": 0, "udfPath": "m.js:f", "args": [{"a": 1}]},
                    {"type": "Remove", "queryId": 3},
                ],
            }
        )
    )
    assert mqs == ModifyQuerySet(0, 1, (AddQuery(0, "m:f", {"a": 1}, None, None), RemoveQuery(3)))
    mutation = parse_client_message(
        b'{"type":"Mutation","requestId":7,"udfPath":"m:g","args":[{}],"componentPath":null}'
    )
    assert mutation == Mutation(7, "m:g", {}, None)
    auth = parse_client_message(
        b'{"type":"Authenticate","tokenType":"Admin","value":"k","baseVersion":0,'
        b'"impersonating":{"subject":"s"}}'
    )
    assert auth == Authenticate("Admin", "k", 0, {"subject": "s"})


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (b"not json", "not JSON"),
        (b"[]", "JSON object"),
        (b'{"type":"Nope"}', "Unknown client message"),
        (b'{"type":"Connect"}', "sessionId"),
        (b'{"type":"Mutation","requestId":-1,"udfPath":"a:b","args":[{}]}', "requestId"),
        (b'{"type":"Mutation","requestId":1,"udfPath":"","args":[{}]}', "udfPath"),
        (b'{"type":"Mutation","requestId":1,"udfPath":"a:b","args":[1,2]}', "one object"),
        (b'{"type":"Action","requestId":1,"udfPath":"a:b","args":[5]}', "object"),
        (b'{"type":"ModifyQuerySet","baseVersion":0,"newVersion":1}', "modifications"),
        (
            b'{"type":"ModifyQuerySet","baseVersion":0,"newVersion":1,'
            b'"modifications":[{"type":"Edit"}]}',
            "modification type",
        ),
        (b'{"type":"Authenticate","tokenType":"Bearer","baseVersion":0}', "tokenType"),
        (b'{"type":"Authenticate","tokenType":"User","baseVersion":0}', "needs a value"),
    ],
)
def test_malformed_frames_get_clear_errors(frame: bytes, message: str) -> None:
    with pytest.raises(ProtocolError, match=message):
        parse_client_message(frame)


def test_transition_shape_and_chunking() -> None:
    ok = QueryResult(True, orjson.Fragment(b'{"$integer":"BQAAAAAAAAA="}'), log_lines=("[LOG] x",))
    failed = QueryResult(False, None, "boom", orjson.Fragment(b'{"code":1}'))
    payload = transition(
        StateVersion(0, 0, 0),
        StateVersion(1, 0, 1000),
        [ok.modification(0), failed.modification(1)],
        123,
        None,
    )
    msg = orjson.loads(payload)
    assert msg["startVersion"] == {"querySet": 0, "identity": 0, "ts": "AAAAAAAAAAA="}
    assert msg["endVersion"] == {"querySet": 1, "identity": 0, "ts": "6AMAAAAAAAA="}
    assert msg["modifications"][0] == {
        "type": "QueryUpdated",
        "queryId": 0,
        "value": {"$integer": "BQAAAAAAAAA="},
        "logLines": ["[LOG] x"],
        "journal": None,
    }
    assert msg["modifications"][1]["errorData"] == {"code": 1}
    chunks = [orjson.loads(c) for c in transition_chunks(payload, "t1", 50)]
    assert len(chunks) > 2
    assert [c["partNumber"] for c in chunks] == list(range(len(chunks)))
    assert all(c["totalParts"] == len(chunks) for c in chunks)
    assert "".join(c["chunk"] for c in chunks).encode() == payload
