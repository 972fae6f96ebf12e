"""Regenerates test/differential/expected/*.json by running Pallet's own engine.

Run it through scripts/pallet-fixtures.sh (`npm run fixtures:pallet`), which makes the
pinned virtualenv and finds Pallet's source. Directly:

    python test/differential/pallet_fixtures.py --pallet-src DIR [--check] [--verbose]

DIR is a checkout of ipdelete/pallet (the folder holding `src/`). Nothing of Pallet is
copied here: its modules are imported from DIR and run as they are. Only two things are
replaced, both below Pallet's engine:

- `src.workflow_engine.discover_agent` (the registry lookup that Pallet's own
  `WorkflowEngine.discover_agent_for_skill` calls) answers one fake agent URL for every
  skill;
- `httpx.AsyncClient` gets an `httpx.MockTransport` that serves the fake agent
  (fake_agent.py) over JSON-RPC, so Pallet's `call_agent_skill` runs unchanged: its
  request, `raise_for_status`, the `"error" in result` check and `result.get("result", {})`.

For each case the result is built the way Pallet's orchestrator builds it
(`execute_workflow_by_id`), with its own `_extract_final_output`. The case is also run
through `execute_workflow_by_id` itself (its registry lookup replaced by the case file):
where that raises although the engine finished, the fixture records it as
`pallet_orchestrator_error` (Pallet's CLI would have failed there).

When Pallet raises (loading or running), the fixture is
`{"error": "<message>", "error_type": "<exception class>"}`.
"""

import argparse
import asyncio
import contextlib
import copy
import io
import json
import logging
import os
import sys
import tempfile
from pathlib import Path

# No __pycache__ beside the cases (nor in a PALLET_SRC checkout).
sys.dont_write_bytecode = True

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases"
CHILDREN = CASES / "children"
FIXED_BUGS = HERE / "fixed-bugs"
EXPECTED = HERE / "expected"
SOURCE_FILE = "_source.json"

FAKE_HOST = "fake-agent.differential.invalid"
FAKE_URL = f"http://{FAKE_HOST}"


def case_files():
    """Every case: cases/*.yaml and fixed-bugs/*.yaml (children are not cases)."""
    files = sorted(CASES.glob("*.yaml")) + sorted(FIXED_BUGS.glob("*.yaml"))
    names = [f.stem for f in files]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        sys.exit(f"case names must be unique across cases/ and fixed-bugs/: {duplicates}")
    return files


def read_input(case: Path):
    """The case's input: the sibling NAME.input.json, or {} when there is none."""
    input_file = case.with_name(case.stem + ".input.json")
    if not input_file.exists():
        return {}
    return json.loads(input_file.read_text(encoding="utf-8"))


def to_json(value) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False, allow_nan=False) + "\n"


class PalletHarness:
    """Pallet's engine with the fake agent plugged in under its HTTP client."""

    def __init__(self, pallet_src: Path, verbose: bool):
        self.verbose = verbose
        sys.path.insert(0, str(HERE))
        sys.path.insert(0, str(pallet_src))
        import fake_agent  # noqa: E402 - the path is set just above
        import httpx  # noqa: E402
        from src import orchestrator, workflow_engine  # noqa: E402 - Pallet's own modules

        self.fake_agent = fake_agent
        self.httpx = httpx
        self.engine_module = workflow_engine
        self.orchestrator = orchestrator
        # Pallet's loggers have no handler until its CLI sets them up; keep Python's
        # last-resort handler from printing its error tracebacks.
        pallet_logger = logging.getLogger("pallet")
        pallet_logger.addHandler(logging.NullHandler())
        pallet_logger.propagate = False

        self.children = {}
        import yaml  # noqa: E402

        for child in sorted(CHILDREN.glob("*.yaml")):
            child_id = (yaml.safe_load(child.read_text(encoding="utf-8")) or {}).get("metadata", {}).get("id")
            if child_id in self.children:
                sys.exit(f"two children have metadata.id {child_id}")
            self.children[child_id] = child

        workflow_engine.discover_agent = lambda skill_id, *args, **kwargs: FAKE_URL
        transport = httpx.MockTransport(self._serve)
        real_client = httpx.AsyncClient

        class FakeAgentClient(real_client):
            def __init__(self, *args, **kwargs):
                kwargs["transport"] = transport
                super().__init__(*args, **kwargs)

        httpx.AsyncClient = FakeAgentClient

    async def _serve(self, request):
        """The fake agent's HTTP side: Pallet's JSON-RPC over POST /execute."""
        httpx = self.httpx
        if request.url.host != FAKE_HOST or request.method != "POST" or request.url.path != "/execute":
            return httpx.Response(404, json={"error": "not found"})
        rpc = json.loads(request.content)
        kind, value = await self.fake_agent.answer(rpc["method"], rpc["params"], self._run_child)
        if kind == "error":
            body = {"jsonrpc": "2.0", "error": {"code": -1, "message": value}, "id": rpc.get("id")}
        else:
            body = {"jsonrpc": "2.0", "result": value, "id": rpc.get("id")}
        return httpx.Response(200, json=body)

    async def _run_child(self, workflow_id, child_input):
        path = self.children.get(workflow_id) if isinstance(workflow_id, str) else None
        if path is None:
            raise self.fake_agent.ChildFailed(f"no workflow with metadata.id {workflow_id!r} in cases/children")
        workflow = self.engine_module.load_workflow_from_yaml(path.read_text(encoding="utf-8"))
        return await self.run_engine(workflow, child_input)

    async def run_engine(self, workflow, workflow_input):
        """WorkflowEngine.execute_workflow, and the result dict as Pallet's orchestrator builds it."""
        context = await self.engine_module.WorkflowEngine().execute_workflow(workflow, workflow_input)
        return {
            "workflow_id": workflow.metadata.id,
            "workflow_name": workflow.metadata.name,
            "workflow_version": workflow.metadata.version,
            "initial_input": workflow_input,
            "step_outputs": context.step_outputs,
            "final_output": self.orchestrator._extract_final_output(context),
        }

    async def run_case(self, case: Path):
        text = case.read_text(encoding="utf-8")
        workflow_input = read_input(case)
        try:
            workflow = self.engine_module.load_workflow_from_yaml(text)
            result = await self.run_engine(workflow, copy.deepcopy(workflow_input))
            # Through JSON, as the fixture file will hold it (and to drop shared references).
            record = json.loads(json.dumps(result, allow_nan=False))
        except Exception as err:  # noqa: BLE001 - whatever Pallet raises is the expectation
            return {"error": str(err), "error_type": type(err).__name__}

        async def discover_case(workflow_id, version="v1"):
            return self.engine_module.load_workflow_from_yaml(text)

        self.orchestrator.discover_workflow = discover_case
        try:
            via_orchestrator = await self.orchestrator.execute_workflow_by_id(workflow.metadata.id, copy.deepcopy(workflow_input))
        except Exception as err:  # noqa: BLE001
            record["pallet_orchestrator_error"] = f"{type(err).__name__}: {err}"
        else:
            if to_json(via_orchestrator) != to_json(record):
                sys.exit(f"{case.name}: execute_workflow_by_id gave another result than the engine:\n{to_json(via_orchestrator)}")
        return record

    async def run_all(self):
        fixtures = {}
        for case in case_files():
            captured = io.StringIO()
            # Pallet's engine print()s progress; keep it out of the way unless asked.
            with contextlib.redirect_stdout(sys.stderr if self.verbose else captured):
                fixtures[case.stem + ".json"] = to_json(await self.run_case(case))
        return fixtures


def source_record(commit: str):
    import httpx
    import pydantic
    import yaml

    return to_json(
        {
            "pallet_commit": commit,
            "python": sys.version.split()[0],
            "pydantic": pydantic.VERSION,
            "pyyaml": yaml.__version__,
            "httpx": httpx.__version__,
        }
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pallet-src", required=True, type=Path, help="checkout of ipdelete/pallet (holds src/)")
    parser.add_argument("--commit", default="unknown", help="Pallet commit, recorded in expected/_source.json")
    parser.add_argument("--out", type=Path, default=EXPECTED)
    parser.add_argument("--check", action="store_true", help="compare with the committed fixtures instead of writing")
    parser.add_argument("--verbose", action="store_true", help="show Pallet's own progress output")
    args = parser.parse_args()
    pallet_src = args.pallet_src.resolve()
    if not (pallet_src / "src" / "workflow_engine.py").exists():
        sys.exit(f"{pallet_src} is not a Pallet checkout (no src/workflow_engine.py)")
    out = args.out.resolve()

    # Pallet's logging module makes logs/ folders in the working directory on import.
    with tempfile.TemporaryDirectory(prefix="pallet-fixtures-") as work:
        os.chdir(work)
        harness = PalletHarness(pallet_src, args.verbose)
        fixtures = asyncio.run(harness.run_all())

    if args.check:
        problems = []
        for name, text in fixtures.items():
            current = out / name
            if not current.exists():
                problems.append(f"missing {current}")
            elif current.read_text(encoding="utf-8") != text:
                problems.append(f"differs: {current}")
        stale = sorted(p.name for p in out.glob("*.json") if p.name not in fixtures and p.name != SOURCE_FILE)
        problems += [f"no case for {out / name}" for name in stale]
        if problems:
            print("\n".join(problems), file=sys.stderr)
            sys.exit(1)
        print(f"{len(fixtures)} fixtures match Pallet's engine")
        return

    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.json"):
        if stale.name not in fixtures and stale.name != SOURCE_FILE:
            stale.unlink()
    for name, text in fixtures.items():
        (out / name).write_text(text, encoding="utf-8")
    (out / SOURCE_FILE).write_text(source_record(args.commit), encoding="utf-8")
    errors = sum(1 for text in fixtures.values() if "error" in json.loads(text))
    print(f"wrote {len(fixtures)} fixtures to {out} ({errors} where Pallet raised)")


if __name__ == "__main__":
    main()
