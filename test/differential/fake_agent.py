"""The differential tests' fake agent, Python side.

Its twin is test/differential/fake-agent.ts; both follow the contract in
test/differential/README.md and must stay identical:

- skill ``execute_workflow``: runs the child workflow whose ``metadata.id`` is
  ``params["workflow_id"]`` (a file in cases/children/) with input ``params["input"]``
  (``{}`` when absent or null) and answers the child's whole result; an unknown id or a
  failing child answers an error. Other params are ignored, as our engine ignores them.
- otherwise, after waiting ``params["delay_ms"]`` milliseconds when it is a number:
  ``params["fail"] is True`` answers an error; else ``params["reply"]`` when the key is
  present (even null); else ``{"skill": skill, "params": params}``.

This module knows nothing about Pallet: the fixture generator injects it under Pallet's
own JSON-RPC client.
"""

import asyncio
from typing import Any, Awaitable, Callable, Dict, Tuple

EXECUTE_WORKFLOW = "execute_workflow"

# (kind, value): ("result", any JSON value) or ("error", message)
Answer = Tuple[str, Any]
RunChild = Callable[[str, Dict[str, Any]], Awaitable[Dict[str, Any]]]


class ChildFailed(Exception):
    """A child workflow could not be run; its message becomes the JSON-RPC error."""


async def answer(skill: str, params: Dict[str, Any], run_child: RunChild) -> Answer:
    if skill == EXECUTE_WORKFLOW:
        workflow_id = params.get("workflow_id")
        child_input = params.get("input")
        if child_input is None:
            child_input = {}
        try:
            return ("result", await run_child(workflow_id, child_input))
        except Exception as err:  # noqa: BLE001 - every failure is the agent's error reply
            return ("error", f"fake agent: child workflow {workflow_id}: {err}")
    delay = params.get("delay_ms")
    if isinstance(delay, (int, float)) and not isinstance(delay, bool) and delay > 0:
        await asyncio.sleep(delay / 1000)
    if params.get("fail") is True:
        return ("error", f"fake agent: skill {skill} failed as asked")
    if "reply" in params:
        return ("result", params["reply"])
    return ("result", {"skill": skill, "params": params})
