"""A minimal WebSocket client (RFC 6455 text frames) for the e2e tests, on the standard library.

The test virtualenv has no WebSocket package; this is just enough to connect with a
SigV4-presigned URL (an ``AWS_IAM`` ``$connect``), send JSON and read JSON messages.
"""

import base64
import json
import os
import socket
import struct
import urllib.parse
from typing import Any

from botocore.auth import SigV4QueryAuth
from botocore.awsrequest import AWSRequest

TEXT, CLOSE, PING, PONG = 0x1, 0x8, 0x9, 0xA


class WebSocket:
    def __init__(self, url: str, credentials: Any, region: str, timeout: float = 10) -> None:
        """Connect to ``ws://host:port/path?query``, presigned for execute-api with
        ``credentials``; ``ConnectionRefusedError`` naming the status if refused."""
        request = AWSRequest(method="GET", url=url.replace("ws://", "http://", 1))
        if credentials is not None:  # None: an unsigned connection
            SigV4QueryAuth(credentials, "execute-api", region, expires=300).add_auth(request)
        parsed = urllib.parse.urlparse(request.url)
        self.socket = socket.create_connection((parsed.hostname, parsed.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        target = f"{parsed.path}?{parsed.query}" if parsed.query else parsed.path
        self.socket.sendall(
            (
                f"GET {target} HTTP/1.1\r\nHost: {parsed.netloc}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.socket.recv(4096)
            if not chunk:
                break
            head += chunk
        status_line = head.split(b"\r\n", 1)[0].decode(errors="replace")
        self._buffer = head.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in head else b""
        if " 101 " not in status_line + " ":
            self.socket.close()
            raise ConnectionRefusedError(f"handshake refused: {status_line}")

    def _read(self, size: int) -> bytes:
        while len(self._buffer) < size:
            chunk = self.socket.recv(4096)
            if not chunk:
                raise ConnectionError("the server closed the connection")
            self._buffer += chunk
        data, self._buffer = self._buffer[:size], self._buffer[size:]
        return data

    def _send(self, opcode: int, payload: bytes) -> None:
        mask = os.urandom(4)
        header = bytes([0x80 | opcode])
        if len(payload) < 126:
            header += bytes([0x80 | len(payload)])
        elif len(payload) < 1 << 16:
            header += bytes([0x80 | 126]) + struct.pack("!H", len(payload))
        else:
            header += bytes([0x80 | 127]) + struct.pack("!Q", len(payload))
        masked = bytes(byte ^ mask[index % 4] for index, byte in enumerate(payload))
        self.socket.sendall(header + mask + masked)

    def send_json(self, value: Any) -> None:
        self._send(TEXT, json.dumps(value).encode())

    def receive_json(self, timeout: float) -> Any:
        """The next text message as JSON (answers pings); ``TimeoutError`` after ``timeout``."""
        self.socket.settimeout(timeout)
        while True:
            first, second = self._read(2)
            opcode, length = first & 0x0F, second & 0x7F
            if length == 126:
                (length,) = struct.unpack("!H", self._read(2))
            elif length == 127:
                (length,) = struct.unpack("!Q", self._read(8))
            payload = self._read(length)
            if opcode == TEXT:
                return json.loads(payload)
            if opcode == PING:
                self._send(PONG, payload)
            elif opcode == CLOSE:
                raise ConnectionError("the server closed the connection")

    def close(self) -> None:
        try:
            self._send(CLOSE, struct.pack("!H", 1000))
        finally:
            self.socket.close()
