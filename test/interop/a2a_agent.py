"""An A2A agent built on the Python `a2a-sdk` (1.3.0), an implementation we did not write, for
the interoperability tests. The skill comes from the message metadata `skill` (how Pallet's
A2A client names it), the inputs from the message's data parts.

  long_task         works `seconds` seconds (default 5), a working status update a second,
                    then completes with one artifact holding one data part {done: true, ...}
  ask_name          goes input-required asking "What is your name?"; the follow-up message on
                    the same task (text, or data {name}) completes it with {greeting: "Hello, <name>"}
  slow_cancellable  works for ten minutes; a cancel marks the task canceled

Every request is recorded to the JSON-lines file of --log (or INTEROP_REQUEST_LOG), with
what the executor did with it (kind "task"), so tests count sends, gets and cancels.

  python a2a_agent.py --port 8123 --log /tmp/requests.jsonl
"""

import argparse
import asyncio
from typing import Any

import uvicorn
from google.protobuf.json_format import MessageToDict
from starlette.applications import Starlette

from a2a.helpers.proto_helpers import get_data_parts, get_text_parts, new_data_part, new_task_from_user_message, new_text_part
from a2a.server.agent_execution import AgentExecutor, RequestContext
from a2a.server.events import EventQueue
from a2a.server.request_handlers import DefaultRequestHandler
from a2a.server.routes import create_agent_card_routes, create_jsonrpc_routes
from a2a.server.tasks import InMemoryTaskStore, TaskUpdater
from a2a.types.a2a_pb2 import AgentCapabilities, AgentCard, AgentInterface, AgentSkill, TaskState

from request_log import RequestLog, RequestLogMiddleware, log_path

QUESTION = 'What is your name?'
SLOW_SECONDS = 600

SKILLS = [
    AgentSkill(id='long_task', name='Long task', description='Works for `seconds` seconds, then completes with {done: true}', tags=['interop']),
    AgentSkill(id='ask_name', name='Ask name', description='Asks for a name (input-required), then greets', tags=['interop']),
    AgentSkill(id='slow_cancellable', name='Slow cancellable', description='Works for ten minutes unless canceled', tags=['interop']),
]


def agent_card(port: int) -> AgentCard:
    return AgentCard(
        name='python-interop-agent',
        description='A2A agent on the Python a2a-sdk, for interoperability tests',
        version='1.0.0',
        supported_interfaces=[AgentInterface(url=f'http://127.0.0.1:{port}/', protocol_binding='JSONRPC', protocol_version='1.0')],
        # No streaming: a client follows long tasks with GetTask, which the tests count.
        capabilities=AgentCapabilities(streaming=False, push_notifications=False),
        default_input_modes=['application/json', 'text/plain'],
        default_output_modes=['application/json'],
        skills=SKILLS,
    )


def inputs_of(parts: Any) -> dict[str, Any]:
    """The data parts' objects merged; text parts joined under "text"."""
    inputs: dict[str, Any] = {}
    for data in get_data_parts(parts):
        if isinstance(data, dict):
            inputs.update(data)
        else:
            inputs['value'] = data
    texts = get_text_parts(parts)
    if texts:
        inputs['text'] = '\n'.join(texts)
    return inputs


def whole(n: Any) -> Any:
    """protobuf Values keep numbers as doubles: 3.0 goes back to 3."""
    return int(n) if isinstance(n, float) and n.is_integer() else n


class InteropExecutor(AgentExecutor):
    def __init__(self, log: RequestLog):
        self.log = log
        # The skill of each task: a follow-up message need not name it again.
        self.skills: dict[str, str] = {}

    async def execute(self, context: RequestContext, event_queue: EventQueue) -> None:
        message = context.message
        assert message is not None and context.task_id and context.context_id
        metadata = MessageToDict(message.metadata) if message.HasField('metadata') else {}
        skill = self.skills.get(context.task_id) or str(metadata.get('skill', ''))
        self.skills[context.task_id] = skill
        self.log.write({'kind': 'task', 'event': 'execute', 'taskId': context.task_id, 'messageId': message.message_id, 'skill': skill})
        if context.current_task is None:
            await event_queue.enqueue_event(new_task_from_user_message(message))
        updater = TaskUpdater(event_queue, context.task_id, context.context_id)
        inputs = inputs_of(message.parts)
        try:
            if skill == 'long_task':
                await self.long_task(updater, whole(inputs.get('seconds', 5)))
            elif skill == 'slow_cancellable':
                await self.long_task(updater, SLOW_SECONDS)
            elif skill == 'ask_name':
                await self.ask_name(context, updater, inputs)
            else:
                await updater.reject(updater.new_agent_message([new_text_part(f'unknown skill {skill!r}')]))
        except asyncio.CancelledError:
            self.log.write({'kind': 'task', 'event': 'interrupted', 'taskId': context.task_id})
            raise

    async def long_task(self, updater: TaskUpdater, seconds: int) -> None:
        for second in range(seconds):
            progress = updater.new_agent_message([new_text_part(f'working: {second} of {seconds} s')])
            await updater.update_status(TaskState.TASK_STATE_WORKING, message=progress)
            await asyncio.sleep(1)
        await updater.add_artifact([new_data_part({'done': True, 'seconds': seconds})], name='result')
        await updater.complete()
        self.log.write({'kind': 'task', 'event': 'completed', 'taskId': updater.task_id})

    async def ask_name(self, context: RequestContext, updater: TaskUpdater, inputs: dict[str, Any]) -> None:
        task = context.current_task
        if task is None or task.status.state != TaskState.TASK_STATE_INPUT_REQUIRED:
            await updater.requires_input(updater.new_agent_message([new_text_part(QUESTION)]))
            self.log.write({'kind': 'task', 'event': 'input-required', 'taskId': updater.task_id})
            return
        name = inputs.get('name') or inputs.get('text') or inputs.get('value')
        if not isinstance(name, str) or not name.strip():
            await updater.requires_input(updater.new_agent_message([new_text_part(QUESTION)]))
            return
        await updater.add_artifact([new_data_part({'greeting': f'Hello, {name.strip()}'})], name='result')
        await updater.complete()
        self.log.write({'kind': 'task', 'event': 'completed', 'taskId': updater.task_id})

    async def cancel(self, context: RequestContext, event_queue: EventQueue) -> None:
        assert context.task_id and context.context_id
        self.log.write({'kind': 'task', 'event': 'canceled', 'taskId': context.task_id})
        await TaskUpdater(event_queue, context.task_id, context.context_id).cancel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--port', type=int, required=True)
    parser.add_argument('--log', help='JSON-lines file of the requests received (default: $INTEROP_REQUEST_LOG)')
    args = parser.parse_args()
    log = RequestLog(log_path(args.log))
    card = agent_card(args.port)
    handler = DefaultRequestHandler(agent_executor=InteropExecutor(log), task_store=InMemoryTaskStore(), agent_card=card)
    routes = create_agent_card_routes(card) + create_jsonrpc_routes(handler, rpc_url='/', enable_v0_3_compat=True)
    app = RequestLogMiddleware(Starlette(routes=routes), log)
    uvicorn.run(app, host='127.0.0.1', port=args.port, log_level='warning')


if __name__ == '__main__':
    main()
