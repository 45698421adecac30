"""An offline stand-in for an Auth0 tenant, served over loopback HTTP (development and tests only)."""
