/**
 * The Python-to-JavaScript regex translation, checked against Python's own `re` on the places where
 * the two dialects part ways. Python answers for itself: the expected results come from python3.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { compilePython, groupDict, isAsciiText, PyRegexError } from '../../lib/filter/pyregex';

const CASES: [pattern: string, inputs: string[], flags?: 'M'][] = [
  // Conditionals, as sshd.conf and the Epoch date template use them.
  [String.raw`^Failed (?P<m>\S+) for (?P<inv>invalid user )?(?P<user>(?P<cu>\S+)|(?(inv)(?:(?! from ).)*?|[^:]+)) from (?P<h>\S+)(?(cu): |(?:(?:(?! from ).)*)$)`,
    ['Failed password for root from 1.2.3.4: x', 'Failed password for invalid user a b from 1.2.3.4 port 22', 'Failed none for x y from 5.6.7.8 zz\n', 'Failed password for root from 1.2.3.4']],
  [String.raw`((?:^|(?P<square>(?<=^\[))|(?P<selinux>(?<=\baudit\()))\d{10,11}\b(?:\.\d{3,6})?)(?:(?(selinux)(?=:\d+\)))|(?(square)(?=\])))`,
    ['[1234567890] x', 'type=AVC msg=audit(1234567890.123:45): x', '1234567890 y', 'no 1234567890']],
  [String.raw`(?P<a>x)?(?(a)y|z)`, ['xy', 'z', 'xz', 'q']],
  // Python tries every way of the start before the conditional's branches: here the first way ("a" in
  // p) only succeeds without x, and Python takes it; branches that each repeat the start took the second.
  [String.raw`^(?:(?P<p>a)|)(?P<x>a)?(?(x)b$|b$)`, ['ab', 'aab', 'b']],
  [String.raw`(?P<a>a)|b(?P=a)`, ['b', 'ba', 'a']],
  [String.raw`(?P<sep>[-/.])\d+(?P=sep)\d+`, ['2024-10-05', '2024/10-05', '10.5.6']],
  // {,n}, [^]], scoped flags, $ before a final newline, Unicode classes.
  [String.raw`a{,2}b`, ['aaab', 'b', 'a{,2}b']],
  [String.raw`\[[^]]+\]`, ['[abc] x', '[] x', '[a]b]']],
  [String.raw`(?i:ab)C`, ['ABC', 'abc', 'aBC']],
  [String.raw`(?:x|(?i:LOGIN|PLAIN)) y`, ['login y', 'PLAIN y', 'X y']],
  [String.raw`x$`, ['x\n', 'x\n\n', 'x']],
  [String.raw`^a.c$`, ['abc', 'a\rc', 'a\u2028c', 'a\nc']],
  [String.raw`^\w+ \d+ \s?\S+$`, ['héllo ٣٤ x', 'ab 12\u00a0y', 'a_1 2 z']],
  [String.raw`\bfoo\b`, ['éfoo', 'foo bar', 'xfoo']],
  [String.raw`(?=^|\b|\W)\d\d:\d\d(?=\b|\W|$)`, ['12:30', 'a12:30b', 'é12:30', ' 12:30 ', 'x 112:301', '[12:30]']],
  [String.raw`^line1$\n^line2$`, ['line1\nline2\n'], 'M'],
  [String.raw`[\w\-.^_]*\w`, ['host-name.example.com']],
  [String.raw`(?:[0-9a-fA-F]{1,4}::?|::){1,7}(?:[0-9a-fA-F]{1,4}|(?<=:):)`, ['2001:db8::1', 'fe80::', '::1']],
  [String.raw`\x41\101\u00e9\.`, ['AAé.']],
  [String.raw`a(?#comment)b`, ['ab']],
  [String.raw`^(?:Failed|(?i:in)valid|\[x\])? ?user`, ['Failed user', 'INvalid user', 'user', ' user', '[x] user', 'xuser']],
  [String.raw`(?P<x>\d+)(?:,(?P<y>\d+))?`, ['12', '12,34']],
  // Literal text is parsed in runs: a quantifier after a run applies to its last character alone.
  [String.raw`^abc*d ab+ ab?c ab{2}c ab{,2}c ab{x}$`, ['abd abbb ac abbc ac ab{x}', 'abcccd ab abc abbc abbc ab{x}', 'abd abab ac abbc ac ab{x}', 'd ab ac abbc ac ab']],
  [String.raw`^héllo+ wörld? €+x]y}z$`, ['héllooo wörl €€x]y}z', 'héllo wörld €x]y}z', 'héllo wörldd €x]y}z']],
  [String.raw`(?i)^ab+C x(?-i:Yz)*$`, ['ABBc xYzYz', 'abc XYZ', 'aBC x']],
  [String.raw`(?x) ^ a b # a comment
    c+ $`, ['abccc', 'a b c']],
  // Literal text a match may lack: optional, in one alternative only, inside a lookaround, without case.
  [String.raw`(?:fooo bar)?bazz(?:quux|quuy)(?i:CASE)(?=look)(?:rept)*(?:must)+`, ['bazzquuxcaselookmust', 'fooo barbazzquuycaselookreptmustmust', 'bazzquuxCASElooklookmust']],
  [String.raw`^(?:user (?P<u>\S+) from x|from x user (?P<v>\S+)) end`, ['user a from x end', 'from x user b end', 'user a from y end']],
];

function pythonAnswers(): unknown[] | null {
  const script = `
import json, re, sys
out = []
for pattern, inputs, flags in json.load(sys.stdin):
    rx = re.compile(pattern, re.M if flags == 'M' else 0)
    for s in inputs:
        m = rx.search(s)
        out.append(None if m is None else [m.start(), m.end(), m.groupdict()])
json.dump(out, sys.stdout)
`;
  const r = spawnSync('python3', ['-c', script], { input: JSON.stringify(CASES.map(([p, i, f]) => [p, i, f ?? ''])), encoding: 'utf8' });
  if (r.error) return null;
  if (r.status !== 0) throw new Error(`python3 refused a case: ${r.stderr}`);
  return JSON.parse(r.stdout) as unknown[];
}

const expected = pythonAnswers();

test('patterns mean in JavaScript what they mean in Python', { skip: expected ? false : 'python3 is not installed' }, () => {
  let k = 0;
  for (const [pattern, inputs, flags] of CASES) {
    const rx = compilePython(pattern, { multiline: flags === 'M' });
    for (const input of inputs) {
      const answer = (re: RegExp) => {
        const m = re.exec(input);
        return m === null ? null : [m.index, m.index + m[0].length, Object.fromEntries(Object.entries(groupDict(rx, m)).map(([n, v]) => [n, v ?? null]))];
      };
      // The first-character shortcut may only refuse what Python refuses too.
      if (rx.firstChars && !rx.firstChars.has(input.codePointAt(0) ?? -1)) assert.equal(expected![k], null, `first characters of ${pattern}`);
      // So may the required-text shortcut.
      if (rx.requiredText !== null && !input.includes(rx.requiredText)) assert.equal(expected![k], null, `required text ${JSON.stringify(rx.requiredText)} of ${pattern}`);
      // The ASCII form answers as Python does on a text of ASCII characters.
      if (isAsciiText(input)) assert.deepEqual(answer(rx.asciiRe), expected![k], `${pattern} (ASCII form) on ${JSON.stringify(input)}`);
      assert.deepEqual(answer(rx.re), expected![k++], `${pattern} on ${JSON.stringify(input)}`);
    }
  }
});

test('the ASCII form of a pattern has no Unicode property class; isAsciiText tells which texts it may search', () => {
  const rx = compilePython(String.raw`\w+\s\d\b[^\W_]`);
  assert.doesNotMatch(rx.asciiRe.source, /\\[pP]\{/);
  assert.match(rx.re.source, /\\p\{L\}/);
  assert.equal(isAsciiText('Nov 24 sshd[1]: \x00\x7f'), true);
  assert.equal(isAsciiText('user é'), false);
  assert.equal(isAsciiText('\u0085'), false);
  // Beyond ASCII only the full form is right: \w takes é, \s U+0085, \d an Arabic-Indic digit.
  const full = compilePython(String.raw`\w\s\d`);
  assert.equal(full.re.exec('é\u0085\u0661')?.[0], 'é\u0085\u0661');
  assert.equal(full.asciiRe.exec('é\u0085\u0661'), null);
});

test('requiredText: the longest literal text every match holds, of 4 characters or more', () => {
  const cases: [string, string | null][] = [
    [String.raw`^User (?P<user>\S+) from (?P<host>\S+) not allowed because not listed`, 'not allowed because not listed'],
    [String.raw`^(?:user (?P<u>\S+) from x|from x user (?P<v>\S+)) ends`, 'ends'],
    [String.raw`^(?:abcdef|abcdeg) ends`, 'ends'],
    // White space at the ends is left out (a search stops at every space of a line); 3 characters are too few.
    [String.raw`^(?:abcdef|abcdeg) end`, null],
    // Text the pattern begins with, right after ^: the engine fails at once on a line without it.
    [String.raw`^Failed password for (?P<user>\S+) from`, null],
    [String.raw`^(?P<x>Accepted) \w+ for`, null],
    [String.raw`^(?P<x>Accepted) \w+ for (?P<u>\S+) from x port`, 'from x port'],
    [String.raw`(?:fooo barr)?bazz`, 'bazz'],
    [String.raw`(?:quux|quuy)abc`, null],
    [String.raw`(?i)Failed password`, null],
    [String.raw`(?=lookahead)x`, null],
    [String.raw`(?:rept)*(?:must)+`, 'must'],
    [String.raw`a\.b\.cd`, 'a.b.cd'],
  ];
  for (const [pattern, text] of cases) assert.equal(compilePython(pattern).requiredText, text, pattern);
});

test('what Python refuses is refused with the reason and the position', () => {
  assert.throws(() => compilePython('bad (x'), (e: unknown) => e instanceof PyRegexError && /missing \), unterminated subpattern at position 4/.test((e as Error).message));
  assert.throws(() => compilePython('(?P<a>x)(?P<a>y)'), /redefinition of group name 'a'/);
  assert.throws(() => compilePython('a**'), /multiple repeat/);
  assert.throws(() => compilePython('x(?i)y'), /global flags not at the start/);
  assert.throws(() => compilePython('(?P=nope)'), /unknown group name 'nope'/);
  assert.throws(() => compilePython('\\q'), /bad escape \\q/);
});
