"""Tests of the offline Auth0 sandbox that drive it like a browser and an SPA would."""
