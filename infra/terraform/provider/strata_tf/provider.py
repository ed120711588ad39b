"""The provider: configuration (endpoint, token) and the list of resources and data sources."""

from __future__ import annotations

import os
from typing import Any

from tf import schema, types
from tf.iface import Config, DataSource, Resource
from tf.provider import Provider
from tf.utils import Diagnostics

from . import PROVIDER_ADDRESS
from .api import StrataApi


class StrataProvider(Provider):
    def __init__(self) -> None:
        self._api: StrataApi | None = None

    @property
    def api(self) -> StrataApi:
        if self._api is None:
            raise RuntimeError("The strata provider is not configured")
        return self._api

    def get_model_prefix(self) -> str:
        return "strata_"

    def full_name(self) -> str:
        return PROVIDER_ADDRESS

    def get_provider_schema(self, diags: Diagnostics) -> schema.Schema:
        return schema.Schema(
            attributes=[
                schema.Attribute(
                    "endpoint",
                    types.String(),
                    optional=True,
                    description="Control-plane URL, e.g. https://strata.example.com "
                    "(default: env STRATA_ENDPOINT).",
                ),
                schema.Attribute(
                    "token",
                    types.String(),
                    optional=True,
                    sensitive=True,
                    description="Personal or team access token (default: env STRATA_TOKEN).",
                ),
            ]
        )

    def _settings(self, config: Config) -> tuple[str, str]:
        endpoint = config.get("endpoint") or os.environ.get("STRATA_ENDPOINT", "")
        token = config.get("token") or os.environ.get("STRATA_TOKEN", "")
        return str(endpoint), str(token)

    def validate_config(self, diags: Diagnostics, config: Config) -> None:
        endpoint = config.get("endpoint")
        if isinstance(endpoint, str) and not endpoint.startswith(("http://", "https://")):
            diags.add_error(
                "Invalid endpoint", f"endpoint must be an http(s) URL, got {endpoint!r}"
            )

    def configure_provider(self, diags: Diagnostics, config: Config) -> None:
        endpoint, token = self._settings(config)
        if not endpoint:
            diags.add_error("Missing endpoint", "Set `endpoint` or the STRATA_ENDPOINT variable.")
        if not token:
            diags.add_error("Missing token", "Set `token` or the STRATA_TOKEN variable.")
        if endpoint and token:
            self._api = StrataApi(endpoint, token)

    def get_resources(self) -> list[type[Resource]]:
        from .resources import RESOURCES

        return list(RESOURCES)

    def get_data_sources(self) -> list[type[DataSource]]:
        from .data_sources import DATA_SOURCES

        return list(DATA_SOURCES)

    def new_resource(self, klass: type[Resource]) -> Resource:
        return klass(self)

    def new_data_source(self, klass: type[DataSource]) -> DataSource:
        return klass(self)


def state_str(value: Any) -> str | None:
    return None if value is None else str(value)
