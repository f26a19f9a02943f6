// A quiet reporter for node's test runner: failures in full, skips in a line, then "N passed, N failed".
export default async function* quiet(source) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const failures = [];
  for await (const event of source) {
    if (event.type === 'test:pass') {
      if (event.data.details?.type === 'suite') continue;
      if (event.data.skip || event.data.todo) {
        skipped++;
        yield `skipped: ${event.data.name}${typeof event.data.skip === 'string' ? ` (${event.data.skip})` : ''}\n`;
      } else passed++;
    } else if (event.type === 'test:fail') {
      if (event.data.details?.type === 'suite') continue;
      failed++;
      const err = event.data.details?.error;
      const cause = err?.cause ?? err;
      const text = `FAIL ${event.data.file ? `${event.data.file.replace(process.cwd() + '/', '')}: ` : ''}${event.data.name}\n  ${String(cause?.stack ?? cause?.message ?? cause).split('\n').slice(0, 12).join('\n  ')}\n`;
      failures.push(text);
      yield text;
    } else if (event.type === 'test:stderr' || event.type === 'test:stdout') {
      if (process.env.TEST_VERBOSE) yield event.data.message;
    }
  }
  yield `\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`;
}
