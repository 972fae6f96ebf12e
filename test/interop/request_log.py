"""Records every JSON-RPC request a fixture receives, one JSON object per line, so tests can
count what our client sent (a send, the gets that follow it, a cancel) without trusting it."""

import json
import os
import time
from typing import Any

# A2A 1.0 and 0.3 method names, by what they do.
_KINDS = {
    'SendMessage': 'send',
    'message/send': 'send',
    'SendStreamingMessage': 'send',
    'message/stream': 'send',
    'GetTask': 'get',
    'tasks/get': 'get',
    'CancelTask': 'cancel',
    'tasks/cancel': 'cancel',
    'SubscribeToTask': 'subscribe',
    'tasks/resubscribe': 'subscribe',
}


class RequestLog:
    """Appends lines to a JSON-lines file (or nowhere, without a path)."""

    def __init__(self, path: str | None):
        self.path = path

    def write(self, entry: dict[str, Any]) -> None:
        if not self.path:
            return
        line = json.dumps({'time': time.time(), **entry}, sort_keys=True)
        # One write per line, flushed at once: a test reads the file while the fixture runs.
        with open(self.path, 'a', encoding='utf-8') as f:
            f.write(line + '\n')

    def request(self, body: bytes, headers: dict[str, str]) -> None:
        try:
            rpc = json.loads(body)
        except ValueError:
            self.write({'kind': 'unparsable', 'body': body[:200].decode('utf-8', 'replace')})
            return
        for one in rpc if isinstance(rpc, list) else [rpc]:
            self.write(describe(one, headers))


def describe(rpc: Any, headers: dict[str, str]) -> dict[str, Any]:
    if not isinstance(rpc, dict):
        return {'kind': 'other'}
    method = rpc.get('method')
    params = rpc.get('params') if isinstance(rpc.get('params'), dict) else {}
    entry: dict[str, Any] = {'kind': _KINDS.get(method, 'other'), 'method': method, 'rpcId': rpc.get('id')}
    if headers.get('a2a-version'):
        entry['a2aVersion'] = headers['a2a-version']
    message = params.get('message')
    if isinstance(message, dict):
        entry['messageId'] = message.get('messageId')
        entry['taskId'] = message.get('taskId')
        entry['contextId'] = message.get('contextId')
        metadata = message.get('metadata')
        if isinstance(metadata, dict):
            entry['skill'] = metadata.get('skill')
    elif 'id' in params:
        entry['taskId'] = params.get('id')
    if method == 'tools/call':
        entry['tool'] = params.get('name')
    return entry


class RequestLogMiddleware:
    """ASGI middleware: reads a POST body, records it, and hands the same body on."""

    def __init__(self, app: Any, log: RequestLog):
        self.app = app
        self.log = log

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope['type'] != 'http' or scope['method'] != 'POST':
            await self.app(scope, receive, send)
            return
        chunks = []
        more = True
        while more:
            message = await receive()
            chunks.append(message.get('body', b''))
            more = message.get('more_body', False)
        body = b''.join(chunks)
        headers = {k.decode('latin-1').lower(): v.decode('latin-1') for k, v in scope.get('headers', [])}
        self.log.request(body, headers)
        replayed = False

        async def replay() -> Any:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {'type': 'http.request', 'body': body, 'more_body': False}
            return await receive()

        await self.app(scope, replay, send)


def log_path(flag: str | None) -> str | None:
    return flag or os.environ.get('INTEROP_REQUEST_LOG') or None
