"""The Auth0 adapter: Management API directory, M2M token, onboarding e-mails, pacing, password login."""
