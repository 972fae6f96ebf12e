// security_scan: pattern rules for common Python security mistakes, matched on code with
// string contents blanked (so "eval(" in a message is not a finding) except where the
// string itself is the problem (secrets, SQL text, /tmp paths). Each finding has its line.
import { countBySeverity, lineMatching, scoreFindings, snippet, tidy, type Finding, type FindingSeverity } from './findings';
import { lexPython, type LogicalLine, type PythonSource } from './python';

export interface SecurityReport {
  findings: Finding[];
  risk_level: 'none' | 'low' | 'medium' | 'high';
  score: number;
  summary: string;
}

interface Rule {
  rule: string;
  severity: FindingSeverity;
  /** Matched against the logical line's code (strings blanked) unless `on: 'text'`. */
  pattern: RegExp;
  on?: 'code' | 'text';
  /** The finding is dropped when the logical line's code also matches this. */
  unless?: RegExp;
  /** Only when the logical line's code also matches this. */
  and?: RegExp;
  message: (m: RegExpExecArray) => string;
}

const RULES: Rule[] = [
  {
    rule: 'eval-exec',
    severity: 'high',
    pattern: /(?:^|[^\w.])(eval|exec)\s*\(/,
    message: (m) => `${m[1]}() runs arbitrary code; never pass it untrusted input (ast.literal_eval parses literals safely)`,
  },
  {
    rule: 'subprocess-shell',
    severity: 'high',
    pattern: /\b(?:run|call|check_call|check_output|Popen)\s*\(/,
    and: /\bshell\s*=\s*True\b/,
    message: () => 'subprocess call with shell=True: a crafted argument can inject shell commands; pass a list of arguments without a shell',
  },
  {
    rule: 'subprocess-shell',
    severity: 'high',
    pattern: /\bsubprocess\.(getoutput|getstatusoutput)\s*\(/,
    message: (m) => `subprocess.${m[1]}() always runs through the shell; use subprocess.run([...]) with a list of arguments`,
  },
  {
    rule: 'os-system',
    severity: 'high',
    pattern: /\bos\.(system|popen)\s*\(/,
    message: (m) => `os.${m[1]}() runs a shell command line; use subprocess.run([...]) without a shell`,
  },
  {
    rule: 'insecure-deserialization',
    severity: 'high',
    pattern: /\b(pickle|cPickle|_pickle|dill|marshal|jsonpickle)\.(loads?|Unpickler|decode)\s*\(/,
    message: (m) => `${m[1]}.${m[2]}() on untrusted data executes arbitrary code; use JSON or another data-only format`,
  },
  {
    rule: 'yaml-load',
    severity: 'high',
    pattern: /\byaml\.(load|load_all)\s*\(/,
    unless: /Loader\s*=\s*(?:yaml\.)?C?(?:Safe|Base)Loader\b/,
    message: (m) => `yaml.${m[1]}() without SafeLoader can construct arbitrary Python objects; use yaml.safe_load()`,
  },
  {
    rule: 'yaml-load',
    severity: 'high',
    pattern: /\byaml\.(unsafe_load|unsafe_load_all)\s*\(/,
    message: (m) => `yaml.${m[1]}() can construct arbitrary Python objects; use yaml.safe_load()`,
  },
  {
    rule: 'tls-verify-disabled',
    severity: 'high',
    pattern: /\bverify\s*=\s*False\b/,
    message: () => 'verify=False turns off TLS certificate checks, allowing man-in-the-middle attacks',
  },
  {
    rule: 'tls-verify-disabled',
    severity: 'high',
    pattern: /\b(_create_unverified_context|CERT_NONE)\b|check_hostname\s*=\s*False/,
    message: () => 'TLS certificate or hostname verification is disabled',
  },
  {
    rule: 'insecure-temp-file',
    severity: 'medium',
    pattern: /(["'])(\/tmp|\/var\/tmp|\/dev\/shm)(?:\/|\1)/,
    on: 'text',
    message: (m) => `hard-coded ${m[2]} path: other local users can predict, read or replace it; use the tempfile module`,
  },
  {
    rule: 'insecure-temp-file',
    severity: 'medium',
    pattern: /\btempfile\.mktemp\s*\(/,
    message: () => 'tempfile.mktemp() is racy (the name can be taken before you open it); use NamedTemporaryFile or mkstemp',
  },
  {
    rule: 'debug-enabled',
    severity: 'medium',
    pattern: /\.run\s*\(.*\bdebug\s*=\s*True\b/,
    message: () => 'web app started with debug=True: the interactive debugger allows code execution',
  },
  {
    rule: 'insecure-random',
    severity: 'medium',
    pattern: /\brandom\.(random|randint|randrange|choice|choices|getrandbits)\s*\(/,
    and: /(token|secret|password|passwd|salt|nonce|api_?key|otp)/i,
    message: (m) => `random.${m[1]}() is predictable; use the secrets module for tokens and passwords`,
  },
  {
    rule: 'bind-all-interfaces',
    severity: 'low',
    pattern: /(["'])0\.0\.0\.0\1/,
    on: 'text',
    message: () => 'binds to 0.0.0.0: the service is reachable from every network interface',
  },
];

/** Assignment or dict entry of a secret-looking name to a string literal. */
const SECRET_ASSIGNMENT =
  /(["']?)\b([A-Za-z_]*(?:password|passwd|pwd|secret|api_?key|apikey|access_?key|private_?key|auth_?token|token|credentials?)[A-Za-z0-9_]*)\1\s*(?::\s*[\w[\], .]+\s*)?(?<![=!<>])[:=](?!=)\s*[rbuRBU]?(["'])([^"'\n]{4,})\3/i;
const SECRET_FORMATS: [RegExp, string][] = [
  [/\bAKIA[0-9A-Z]{16}\b/, 'an AWS access key id'],
  [/\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}/, 'an API secret key (sk-...)'],
  [/\bgh[pousr]_[A-Za-z0-9]{36,}\b/, 'a GitHub token'],
  [/\bxox[abprs]-[A-Za-z0-9-]{10,}/, 'a Slack token'],
  [/-----BEGIN (?:RSA |EC |DSA |OPENSSH )?PRIVATE KEY-----/, 'a private key'],
  [/\b[a-z][a-z0-9+.-]*:\/\/[^\s:/@"']+:([^\s@"'/]+)@/i, 'credentials in a URL'],
];
/** Values that are clearly not secrets: empty-ish, placeholders, environment lookups. */
const NOT_A_SECRET = /^(?:\s*|x+|\*+|\.\.\.|<[^>]*>|\$\{?\w+\}?|%\(?\w+\)?s?|\{\w*\}|changeme|none|null|your[_ -].*|example.*|test|dummy)$/i;

const SQL = /\b(?:SELECT\b[\s\S]*?\bFROM|INSERT\s+INTO|UPDATE\s+\w+\s+SET|DELETE\s+FROM)\b/i;
/** A string built at run time: f-string, % operator, .format(), or + with a non-literal. */
const FORMATTED = /(?:^|[^\w])[fF][rRbB]?["']|\b[rRbB][fF]["']|["']\s*%\s*[\w(]|["']\s*\.format\s*\(|["']\s*\+\s*[\w(]|[\w)\]]\s*\+\s*[rRbBuU]?["']/;
const PASSWORD_CONTEXT = /pass(?:word|wd|phrase)?\b|\bpwd\b|credential/i;

export function securityScan(code: string): SecurityReport {
  const src = lexPython(code);
  const findings: Finding[] = [];
  const add = (rule: string, severity: FindingSeverity, line: number, message: string, masked?: string) =>
    findings.push({ rule, severity, line, message, code: masked ?? snippet(src, line) });

  for (const l of src.logical) {
    for (const r of RULES) {
      const subject = r.on === 'text' ? l.text : l.code;
      const m = r.pattern.exec(subject);
      if (!m || (r.unless && r.unless.test(l.code)) || (r.and && !r.and.test(l.code))) continue;
      add(r.rule, r.severity, lineMatching(src, l, r.pattern, r.on ?? 'code'), r.message(m));
    }
    weakHash(src, l, add);
    sqlInjection(src, l, add);
  }
  for (const line of src.lines) secrets(line.no, line.text, add);

  const all = tidy(findings);
  const risk_level = all.some((f) => f.severity === 'high') ? 'high' : all.some((f) => f.severity === 'medium') ? 'medium' : all.length ? 'low' : 'none';
  const rules = [...new Set(all.map((f) => f.rule))];
  return {
    findings: all,
    risk_level,
    score: scoreFindings(all, { high: 3, medium: 1.5, low: 0.5 }),
    summary: all.length
      ? `${all.length} security finding${all.length === 1 ? '' : 's'} (${countBySeverity(all)}): ${rules.join(', ')}; risk ${risk_level}.`
      : 'No known insecure patterns found; risk none.',
  };
}

type Add = (rule: string, severity: FindingSeverity, line: number, message: string, masked?: string) => void;

function weakHash(src: PythonSource, l: LogicalLine, add: Add): void {
  const m = /\bhashlib\.(md5|sha1)\s*\(/.exec(l.code) ?? /\bhashlib\.new\s*\(\s*["'](md5|sha1)["']/i.exec(l.text);
  if (!m || /usedforsecurity\s*=\s*False/.test(l.code)) return;
  // md5/sha1 are fine for checksums; for passwords (named in the same statement) they are a real weakness.
  const line = lineMatching(src, l, /hashlib/, 'text');
  if (PASSWORD_CONTEXT.test(l.text))
    add('weak-password-hash', 'high', line, `${m[1]} used to hash a password: it is fast to brute-force; use hashlib.scrypt, pbkdf2_hmac, bcrypt or argon2`);
  else add('weak-hash', 'low', line, `${m[1]} is broken for security purposes; fine for checksums (say so with usedforsecurity=False)`);
}

function sqlInjection(src: PythonSource, l: LogicalLine, add: Add): void {
  // The SQL must be inside a string (absent from the blanked code) and the string built at run time.
  if (!SQL.test(l.text) || SQL.test(l.code) || !FORMATTED.test(l.code)) return;
  add(
    'sql-injection',
    'high',
    lineMatching(src, l, /\b(SELECT|INSERT|UPDATE|DELETE)\b/i, 'text'),
    'SQL built by string formatting/concatenation: pass values as query parameters (cursor.execute(sql, params))',
  );
}

function secrets(no: number, text: string, add: Add): void {
  if (/^\s*#/.test(text)) return;
  const m = SECRET_ASSIGNMENT.exec(text);
  if (m && !NOT_A_SECRET.test(m[4].trim())) {
    add('hardcoded-secret', 'high', no, `hard-coded secret in "${m[2]}": load it from the environment or a secret store`, mask(text, m[4]));
    return;
  }
  for (const [pattern, what] of SECRET_FORMATS) {
    const f = pattern.exec(text);
    if (f) return add('hardcoded-secret', 'high', no, `hard-coded secret: ${what}`, mask(text, f[1] ?? f[0]));
  }
}

function mask(text: string, secret: string): string {
  const shown = secret.length > 8 ? `${secret.slice(0, 3)}${'*'.repeat(5)}` : '*'.repeat(5);
  return text.trim().replace(secret, shown).slice(0, 160);
}
