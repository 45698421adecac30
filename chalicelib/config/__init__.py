"""Every setting of the service, read from the environment once and validated, with messages that name the variable.

One module per path (purchases, private routes, ``POST /login``, the reconciliation), so that a private request
reads, and loads, only its own; ``environment`` holds how one variable is read.
"""
