"""The local development stack: loopback stand-ins for what the service talks to in AWS and Auth0."""
