"""Live queries: the Convex WebSocket sync protocol and the subscription manager."""
