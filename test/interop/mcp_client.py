"""An MCP client on the Python `mcp` package (2.3.0), a client we did not write, for the
interoperability tests of `pallet serve`'s MCP server (Streamable HTTP).

Lists the tools, then (with --call) calls one with a progress token, and prints one JSON
object on stdout: {"tools": [{name, title, description, inputSchema}], "call": {isError,
structuredContent, content, meta}, "progress": [{progress, total, message}]}.

  python mcp_client.py --url http://127.0.0.1:8010/mcp --call code-generation-v1 \
      --arguments '{"requirements": "a CLI"}' [--token T] [--meta '{"pallet/idempotency-key": "k"}']
"""

import argparse
import asyncio
import json

from mcp import Client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client


async def run(args: argparse.Namespace) -> dict:
    headers = {'Authorization': f'Bearer {args.token}'} if args.token else {}
    transport = streamable_http_client(args.url, http_client=create_mcp_http_client(headers=headers))
    out: dict = {'progress': []}

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        out['progress'].append({'progress': progress, 'total': total, 'message': message})

    async with Client(transport, read_timeout_seconds=args.timeout) as client:
        listed = await client.list_tools()
        out['tools'] = [
            {'name': t.name, 'title': t.title, 'description': t.description, 'inputSchema': t.input_schema} for t in listed.tools
        ]
        if args.call:
            result = await client.call_tool(
                args.call,
                json.loads(args.arguments),
                progress_callback=on_progress,
                meta=json.loads(args.meta) if args.meta else None,
            )
            out['call'] = {
                'isError': result.is_error,
                'structuredContent': result.structured_content,
                'content': [c.model_dump(mode='json', by_alias=True, exclude_none=True) for c in result.content],
                'meta': result.meta,
            }
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--url', required=True, help='the MCP endpoint, e.g. http://127.0.0.1:8010/mcp')
    parser.add_argument('--token', help='a bearer token for the server')
    parser.add_argument('--call', help='the tool to call after listing')
    parser.add_argument('--arguments', default='{}', help='the call arguments, a JSON object')
    parser.add_argument('--meta', help="the call's _meta, a JSON object")
    parser.add_argument('--timeout', type=float, default=600, help='seconds to wait for an answer')
    print(json.dumps(asyncio.run(run(parser.parse_args()))))


if __name__ == '__main__':
    main()
