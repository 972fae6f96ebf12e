import { performanceCheck } from '../../../src/agents/skills/performance';
const code = `import re, json
def report(rows, names):
    out = ""
    result = []
    for i in range(len(rows)):
        for name in names:
            for k in rows[i].keys():
                pass
        out += "row"
        result.append(rows[i])
    evens = []
    for r in rows:
        if r % 2 == 0:
            evens.append(r)
    i = 0
    while i < len(rows):
        with open("f.txt") as f:
            data = json.load(f)
        if re.match(r"\\d+", rows[i]):
            cursor.execute("SELECT 1")
        i += 1
    s = ""
    for x in names:
        s = s + x
    msg = "open( in a string"
    return out
`;
const r = performanceCheck(code);
for (const f of r.findings) console.log(f.line, f.rule, f.severity, '|', f.code, '|', f.message);
console.log(r.score, r.summary);
