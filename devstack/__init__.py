"""The local development stack: the runner (sandbox, `chalice local`, the SPA) and loopback stand-ins like s3/."""
