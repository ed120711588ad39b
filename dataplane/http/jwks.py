"""`/.well-known/jwks.json`: the public keys that verify tokens minted by `ctx.auth.signJwt`."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from dataplane.http.web import app_of
from dataplane.runtime.jwt_signing import SignJwtError, jwks


def jwks_json(request: HttpRequest) -> JsonResponse:
    """Convex documents this URL (under CONVEX_CLOUD_URL) for verifying signJwt tokens."""
    try:
        keys = jwks(app_of(request).config.instance_secret)
    except SignJwtError as e:
        return JsonResponse({"code": "NoSigningKey", "message": str(e)}, status=404)
    response = JsonResponse(keys)
    response["Cache-Control"] = "public, max-age=3600"
    response["Access-Control-Allow-Origin"] = "*"
    return response


urlpatterns = [path(".well-known/jwks.json", jwks_json)]
