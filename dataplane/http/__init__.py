"""HTTP surface of a deployment: function API, deploy endpoints, admin endpoints."""
