"""An MCP server built on the Python `mcp` package (2.3.0; `MCPServer`, FastMCP's new name), an
implementation we did not write, for the interoperability tests. Streamable HTTP at /mcp.

  add(a, b)       -> structuredContent {sum: a + b}
  fail(reason)    -> isError, with the text "refused: <reason>"

Every request is recorded to the JSON-lines file of --log (or INTEROP_REQUEST_LOG).

  python mcp_server.py --port 8124 --log /tmp/mcp-requests.jsonl
"""

import argparse

import uvicorn
from pydantic import BaseModel

from mcp.server.mcpserver import MCPServer
from mcp.server.mcpserver.exceptions import ToolError

from request_log import RequestLog, RequestLogMiddleware, log_path

server = MCPServer('python-interop-tools')


class Sum(BaseModel):
    sum: float


@server.tool(description='Adds two numbers')
def add(a: float, b: float) -> Sum:
    return Sum(sum=a + b)


@server.tool(description='Always fails, saying why')
def fail(reason: str) -> str:
    raise ToolError(f'refused: {reason}')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--log', help='JSON-lines file of the requests received (default: $INTEROP_REQUEST_LOG)')
    args = parser.parse_args()
    app = server.streamable_http_app(streamable_http_path='/mcp', host='127.0.0.1')
    uvicorn.run(RequestLogMiddleware(app, RequestLog(log_path(args.log))), host='127.0.0.1', port=args.port, log_level='warning')


if __name__ == '__main__':
    main()
