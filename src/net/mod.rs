//! Network: name resolution, connect, TLS, and the HTTP client every destination uses.
