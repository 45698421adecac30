"""The Authentication API: /oauth/token for applications, /oauth/revoke, change-password e-mails, discovery."""
