"""The OIDC browser flow: /authorize, the login page, the code and refresh grants, /userinfo, logout, pages."""
