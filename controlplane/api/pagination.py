"""Keyset pagination for every list: ?limit=&cursor= -> {"items", "nextCursor"}."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from rest_framework import serializers
from rest_framework.request import Request

MAX_LIMIT = 500


class PageParams(serializers.Serializer):
    limit = serializers.IntegerField(min_value=1, max_value=MAX_LIMIT, required=False)
    cursor = serializers.IntegerField(min_value=0, required=False)


def paginate(
    request: Request, queryset: QuerySet[Any], serializer: type[serializers.Serializer]
) -> dict[str, Any]:
    """Items ordered by id, newest first; `nextCursor` is the id to continue below."""
    params = PageParams(data=request.query_params)
    params.is_valid(raise_exception=True)
    limit = params.validated_data.get("limit", settings.STRATA_API_PAGE_SIZE)
    cursor = params.validated_data.get("cursor")
    queryset = queryset.order_by("-pk")
    if cursor is not None:
        queryset = queryset.filter(pk__lt=cursor)
    rows = list(queryset[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return {
        "items": serializer(rows, many=True).data,
        "nextCursor": rows[-1].pk if more and rows else None,
    }


def page_serializer(item: type[serializers.Serializer], name: str) -> type[serializers.Serializer]:
    """The OpenAPI shape of a page of `item`."""
    return type(
        name,
        (serializers.Serializer,),
        {
            "items": item(many=True),
            "nextCursor": serializers.IntegerField(allow_null=True),
        },
    )
