"""Local stand-ins for a secured Temporal, in front of a plain dev server.

``temporal server start-dev`` has no TLS flags (NOTES.md). Production Temporal is
reached through TLS, mutual TLS or an API key (Temporal Cloud), so the tests put a
front that speaks each of those before the dev server's plain port:

- :class:`TlsTerminator`: an asyncio TLS server that negotiates ALPN ``h2`` and pipes
  the decrypted bytes to the dev server, optionally demanding a client certificate.
- :class:`ApiKeyFront`: a grpcio server over TLS whose generic handler checks the
  ``authorization: Bearer <key>`` metadata, as Temporal Cloud does, and forwards each
  call's raw bytes to the dev server.

Each runs on a thread of its own, so a session fixture can start it and tests on any
event loop (or a subprocess) can connect through it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc


class TlsTerminator:
    """TLS on 127.0.0.1, piping to ``upstream`` (host:port) in the clear."""

    def __init__(
        self,
        upstream: str,
        *,
        cert_chain_pem: bytes,
        private_key_pem: bytes,
        client_ca_pem: bytes | None = None,
    ) -> None:
        self._upstream_host, _, port = upstream.rpartition(":")
        self._upstream_port = int(port)
        self._context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._context.set_alpn_protocols(["h2"])
        with _pem_files(cert_chain_pem, private_key_pem) as (cert_path, key_path):
            self._context.load_cert_chain(cert_path, key_path)
        if client_ca_pem is not None:  # mutual TLS: no certificate, no connection
            self._context.verify_mode = ssl.CERT_REQUIRED
            self._context.load_verify_locations(cadata=client_ca_pem.decode())
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._server: asyncio.Server | None = None
        self.port = 0

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> TlsTerminator:
        self._thread.start()
        self._ready.wait()
        return self

    def stop(self) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0, ssl=self._context)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()
        self._server.close()
        self._loop.close()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(
                self._upstream_host, self._upstream_port
            )
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        with contextlib.suppress(ConnectionError, ssl.SSLError, RuntimeError):
            writer.close()


@contextlib.contextmanager
def _pem_files(cert_pem: bytes, key_pem: bytes) -> Iterator[tuple[str, str]]:
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        cert, key = Path(folder, "cert.pem"), Path(folder, "key.pem")
        cert.write_bytes(cert_pem)
        key.write_bytes(key_pem)
        yield str(cert), str(key)


class _Forward(grpc.GenericRpcHandler):
    """Every method: check the bearer key, then pass the bytes through."""

    def __init__(self, channel: grpc.Channel, api_key: str) -> None:
        self._channel = channel
        self._expected = f"Bearer {api_key}"

    def service(self, handler_call_details: grpc.HandlerCallDetails) -> grpc.RpcMethodHandler:
        method: str = handler_call_details.method  # type: ignore[attr-defined]
        upstream = self._channel.stream_stream(method)

        def forward(requests: Iterator[bytes], context: grpc.ServicerContext) -> Iterator[bytes]:
            metadata = dict(context.invocation_metadata())
            if metadata.get("authorization") != self._expected:
                context.abort(grpc.StatusCode.UNAUTHENTICATED, "Request unauthorized.")
            passed = [(k, v) for k, v in context.invocation_metadata() if k != "authorization"]
            call: Any = upstream(requests, metadata=passed, timeout=context.time_remaining())
            try:
                yield from call
            except grpc.RpcError as exc:
                context.set_trailing_metadata(call.trailing_metadata() or ())
                context.abort(exc.code(), exc.details() or "")  # type: ignore[attr-defined]

        return grpc.stream_stream_rpc_method_handler(forward)


class ApiKeyFront:
    """A TLS gRPC server on 127.0.0.1 that lets through calls carrying ``api_key``."""

    def __init__(
        self, upstream: str, *, api_key: str, cert_chain_pem: bytes, private_key_pem: bytes
    ) -> None:
        self._channel = grpc.insecure_channel(upstream)
        # Workers hold long polls open: enough threads that they never starve the others.
        self._server = grpc.server(
            ThreadPoolExecutor(max_workers=64),
            handlers=[_Forward(self._channel, api_key)],
        )
        credentials = grpc.ssl_server_credentials([(private_key_pem, cert_chain_pem)])
        self.port = self._server.add_secure_port("127.0.0.1:0", credentials)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> ApiKeyFront:
        self._server.start()
        return self

    def stop(self) -> None:
        self._server.stop(grace=None).wait()
        self._channel.close()
