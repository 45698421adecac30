"""The server pipeline: wire types, routing, the request gate, CORS, browser safety, limits, faults, stats, logs."""
