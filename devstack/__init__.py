"""The whole local stack for development: the Auth0 sandbox, `chalice local` and the example SPA."""
