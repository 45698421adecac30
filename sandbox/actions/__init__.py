"""Auth0 Actions in the sandbox: the post-login trigger runs the tenant's bound Actions with Node."""
