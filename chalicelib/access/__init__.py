"""Access -> API: Bearer tokens, their verification against the tenant's JWKS, and the errors of that path."""
