#!/usr/bin/env node
/** f2b-import: a fail2ban configuration (jail.conf, jail.local, jail.d) as a Node-RED flow, with a report. */
import { writeFileSync } from 'fs';
import { formatReport, importJails } from '../lib/config';

const USAGE = `usage: f2b-import [--from DIR] [--backend NAME] [--only JAIL,...] [-o FILE]
Reads a fail2ban configuration as fail2ban does and writes a Node-RED flow (JSON, for Import or POST /flows)
to stdout or FILE; the report of what each jail's keys became, and what was not carried over, goes to stderr.
options:
  --from DIR       the configuration directory (default /etc/fail2ban)
  --backend NAME   firewall-ban backend for every jail (dry-run to try an import safely)
  --only JAIL,...  these jails only, enabled or not
  -o FILE          write the flow to FILE
`;

class UsageError extends Error {}

function main(argv: string[]): void {
  let dir = '/etc/fail2ban';
  let backend: string | undefined;
  let only: string[] | undefined;
  let output: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new UsageError(`${a} needs a value`);
      return v;
    };
    if (a === '--from') dir = value();
    else if (a === '--backend') backend = value();
    else if (a === '--only') only = value().split(',');
    else if (a === '-o' || a === '--output') output = value();
    else if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE);
      return;
    } else throw new UsageError(`unknown argument ${a}`);
  }
  const result = importJails(dir, { backend, only });
  const json = JSON.stringify(result.flow, null, 2) + '\n';
  if (output) writeFileSync(output, json);
  else process.stdout.write(json);
  process.stderr.write(formatReport(result));
}

try {
  main(process.argv.slice(2));
} catch (err) {
  process.stderr.write(`f2b-import: ${err instanceof Error ? err.message : String(err)}\n${err instanceof UsageError ? USAGE : ''}`);
  process.exitCode = 1;
}
