"""Gumroad purchases become Auth0 course roles; Auth0 access tokens open the courses."""
