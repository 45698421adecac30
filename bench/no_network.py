"""What a bench's fresh interpreter runs to refuse, and count, every network call: its numbers are then also the
proof that what it timed made none (``attempts`` lists each one tried)."""

BLOCK_SOCKETS = """
import socket
attempts = []
def _refuse(*args, **kwargs):
    attempts.append(repr(args[:2]))
    raise OSError("network blocked by the bench")
socket.socket.connect = _refuse
socket.socket.connect_ex = _refuse
socket.getaddrinfo = _refuse
socket.create_connection = _refuse
"""
