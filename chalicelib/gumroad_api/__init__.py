"""The Gumroad adapter: Gumroad's API v2 over requests (the only requests code outside the Auth0 adapter)."""
