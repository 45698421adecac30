"""The HTTP edge: routes' answers, the ping and login endpoints, the private routes' guard and CORS."""
