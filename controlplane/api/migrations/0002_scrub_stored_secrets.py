"""Idempotency records kept the raw token or deploy key of the answers they replay: drop it."""

from typing import Any

from django.db import migrations

SECRET_FIELDS = ("accessToken", "deployKey", "adminKey")


def scrub(apps: Any, schema_editor: Any) -> None:
    IdempotentRequest = apps.get_model("strata_api", "IdempotentRequest")
    for record in IdempotentRequest.objects.all().iterator():
        body = record.body
        if not isinstance(body, dict):
            continue
        withheld = [f for f in SECRET_FIELDS if f in body]
        if withheld:
            kept = {k: v for k, v in body.items() if k not in withheld}
            record.body = {**kept, "_withheld": withheld}
            record.save(update_fields=["body"])


class Migration(migrations.Migration):
    dependencies = [("strata_api", "0001_initial")]
    operations = [migrations.RunPython(scrub, migrations.RunPython.noop)]
