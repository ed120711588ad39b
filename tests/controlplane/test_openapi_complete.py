"""The OpenAPI document describes every request body and every success response."""

from __future__ import annotations

from drf_spectacular.generators import SchemaGenerator


def test_every_write_has_a_body_and_every_success_a_shape() -> None:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    gaps = []
    for path, operations in schema["paths"].items():
        for method, op in operations.items():
            if method in ("post", "put", "patch") and "requestBody" not in op:
                gaps.append(f"{method.upper()} {path}: no request body")
            successes = [code for code in op["responses"] if code.startswith("2")]
            if not successes:
                gaps.append(f"{method.upper()} {path}: no success response")
            for code in successes:
                if code != "204" and "content" not in op["responses"][code]:
                    gaps.append(f"{method.upper()} {path}: {code} has no content")
    assert gaps == []
    assert len(schema["paths"]) >= 50
