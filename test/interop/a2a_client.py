"""An A2A client on the Python `a2a-sdk` (1.3.0), an implementation we did not write, driving
`pallet serve` in the tests. One command a process; it prints one JSON object on stdout:
{"card": ...} or {"events": [...], "task": ...}, protobuf messages as their JSON forms.

  python a2a_client.py card      URL
  python a2a_client.py send      URL --skill ID (--data JSON | --text TEXT) [--message-id ID]   start a run, follow its task
  python a2a_client.py answer    URL --task ID (--data JSON | --text TEXT)                      the next message on a task
  python a2a_client.py get       URL --task ID
  python a2a_client.py cancel    URL --task ID
  python a2a_client.py subscribe URL --task ID

`send`, `answer` and `subscribe` stream (SendStreamingMessage, SubscribeToTask) until the task
ends or needs input; `--no-stream` sends SendMessage and waits for its answer instead.
--token TOKEN is sent as `Authorization: Bearer TOKEN`. A2A errors print {"error": ...} and exit 2.
"""

import argparse
import asyncio
import json
import sys
import uuid
from typing import Any

import httpx
from google.protobuf.json_format import MessageToDict

from a2a.client import ClientConfig, create_client
from a2a.helpers.proto_helpers import new_data_part, new_text_part
from a2a.types.a2a_pb2 import CancelTaskRequest, GetTaskRequest, Message, Role, SendMessageRequest, SubscribeToTaskRequest


def as_dict(message: Any) -> dict[str, Any]:
    return MessageToDict(message)


def parts_of(args: argparse.Namespace) -> list[Any]:
    if args.data is not None:
        return [new_data_part(json.loads(args.data))]
    if args.text is not None:
        return [new_text_part(args.text)]
    raise SystemExit('give --data JSON or --text TEXT')


async def run(args: argparse.Namespace) -> dict[str, Any]:
    headers = {'Authorization': f'Bearer {args.token}'} if args.token else {}
    async with httpx.AsyncClient(headers=headers, timeout=httpx.Timeout(600.0)) as http:
        client = await create_client(args.url, client_config=ClientConfig(httpx_client=http, streaming=not args.no_stream))
        if args.command == 'card':
            return {'card': as_dict(client._card)}  # noqa: SLF001 - the card the client resolved
        if args.command == 'get':
            return {'task': as_dict(await client.get_task(GetTaskRequest(id=args.task)))}
        if args.command == 'cancel':
            return {'task': as_dict(await client.cancel_task(CancelTaskRequest(id=args.task)))}
        if args.command == 'subscribe':
            stream = client.subscribe(SubscribeToTaskRequest(id=args.task))
        else:
            message = Message(message_id=args.message_id or str(uuid.uuid4()), role=Role.ROLE_USER, parts=parts_of(args))
            if args.command == 'send':
                message.metadata.update({'skill': args.skill})
            else:
                message.task_id = args.task
                if args.context:
                    message.context_id = args.context
            stream = client.send_message(SendMessageRequest(message=message))
        events = []
        async for event in stream:
            events.append(as_dict(event))
        task_id = args.task
        for event in events:
            for key in ('task', 'statusUpdate', 'artifactUpdate'):
                if key in event:
                    task_id = event[key].get('id') or event[key].get('taskId') or task_id
        # The task as the server has it once the stream is over.
        task = as_dict(await client.get_task(GetTaskRequest(id=task_id))) if task_id else None
        return {'events': events, 'task': task}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('command', choices=['card', 'send', 'answer', 'get', 'cancel', 'subscribe'])
    parser.add_argument('url')
    parser.add_argument('--token')
    parser.add_argument('--skill')
    parser.add_argument('--task')
    parser.add_argument('--context')
    parser.add_argument('--data')
    parser.add_argument('--text')
    parser.add_argument('--message-id')
    parser.add_argument('--no-stream', action='store_true')
    args = parser.parse_args()
    try:
        out = asyncio.run(run(args))
    except Exception as err:  # noqa: BLE001 - the test reads what went wrong
        print(json.dumps({'error': f'{type(err).__name__}: {err}'}))
        sys.exit(2)
    print(json.dumps(out))


if __name__ == '__main__':
    main()
