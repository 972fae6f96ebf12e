// The real Python syntax check: `ast.parse` in a python3 subprocess (parse only, nothing is
// executed). Optional: when no interpreter is found the review falls back to the lexer's
// bracket/string/indentation checks and says so in its result.
import { spawn } from 'node:child_process';

export type SyntaxVerdict = { ok: true } | { ok: false; line: number | null; message: string };

export interface SyntaxCheck {
  /** Which checker was used, reported in review_code's result. */
  checker: string;
  verdict?: SyntaxVerdict;
}

const SCRIPT = `
import ast, json, sys
source = sys.stdin.buffer.read()
try:
    ast.parse(source)
    print(json.dumps({"ok": True}))
except SyntaxError as e:
    print(json.dumps({"ok": False, "line": e.lineno, "message": "%s: %s" % (type(e).__name__, e.msg)}))
except (ValueError, MemoryError, RecursionError) as e:
    print(json.dumps({"ok": False, "line": None, "message": "%s: %s" % (type(e).__name__, e)}))
`;
const TIMEOUT_MS = 10_000;

/**
 * Parses `code` with `python` (PALLET_PYTHON, default python3; "" or "none" disables).
 * Returns no verdict when the interpreter is missing, fails or times out.
 */
export async function pythonSyntax(code: string, python: string | undefined): Promise<SyntaxCheck> {
  const exe = python === undefined ? 'python3' : python.trim();
  if (!exe || exe.toLowerCase() === 'none') return { checker: 'built-in checks (python disabled by PALLET_PYTHON)' };
  const verdict = await new Promise<SyntaxVerdict | undefined>((resolve) => {
    let out = '';
    let settled = false;
    const done = (v: SyntaxVerdict | undefined) => {
      if (settled) return;
      settled = true;
      resolve(v);
    };
    const child = spawn(exe, ['-I', '-c', SCRIPT], { stdio: ['pipe', 'pipe', 'ignore'], timeout: TIMEOUT_MS });
    child.on('error', () => done(undefined));
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.on('close', (status) => {
      try {
        done(status === 0 ? (JSON.parse(out) as SyntaxVerdict) : undefined);
      } catch {
        done(undefined);
      }
    });
    child.stdin.on('error', () => {}); // the child may exit before reading everything
    child.stdin.end(code);
  });
  return verdict ? { checker: `${exe} ast.parse`, verdict } : { checker: `built-in checks (${exe} not available)` };
}
