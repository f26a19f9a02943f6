#!/usr/bin/env node
/** f2b-client: fail2ban-client's daily commands against the jails of a running Node-RED. */
import { createInterface } from 'readline';
import { AuthNeededError, ClientError, formatBannedByJail, formatJail, formatJailsOfAddresses, formatOverview, JailClient, type JailChange, type JailStatus } from '../lib/jail';

const USAGE = `usage: f2b-client [--url URL] [--token TOKEN] [--json] COMMAND
commands:
  status                      the number of jails and their names
  status JAIL                 a jail's counters and banned addresses
  set JAIL banip IP...        ban addresses in a jail (its firewall-ban nodes, its bantime)
  set JAIL unbanip IP...      lift addresses in a jail
  unban IP...                 lift addresses in every jail
  banned [IP...]              every jail's banned addresses, or the jails that ban each IP
options:
  --url URL      Node-RED's address (default F2B_URL, else http://127.0.0.1:1880)
  --token TOKEN  an admin API token when adminAuth is on (default F2B_TOKEN); without one, on a
                 terminal, f2b-client asks for a login
  --bantime T    with banip: seconds or a fail2ban time (10m, 1d, -1 for ever)
  --json         the same facts as one JSON document
`;

interface Args {
  url: string;
  token?: string;
  json: boolean;
  bantime?: string;
  command: string[];
}

function parseArgs(argv: string[]): Args {
  const args: Args = { url: process.env.F2B_URL || 'http://127.0.0.1:1880', token: process.env.F2B_TOKEN || undefined, json: false, command: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new ClientError(`${a} needs a value\n${USAGE}`, 2);
      return v;
    };
    if (a === '--url') args.url = value();
    else if (a === '--token') args.token = value();
    else if (a === '--bantime') args.bantime = value();
    else if (a === '--json') args.json = true;
    else if (a === '-h' || a === '--help') {
      process.stdout.write(USAGE);
      process.exit(0);
    } else if (a === '--') {
      args.command.push(...argv.slice(i + 1));
      break;
    } else if (a.startsWith('--')) throw new ClientError(`unknown option ${a}\n${USAGE}`, 2);
    else args.command.push(a);
  }
  return args;
}

/** One line read from the terminal; without echo when `hidden`. */
function ask(question: string, hidden: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    if (hidden) {
      // Nothing typed is echoed: readline writes through this, and only the prompt gets out.
      (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
        if (s.startsWith(question)) process.stderr.write(question);
      };
    }
    rl.question(question, (answer) => {
      rl.close();
      if (hidden) process.stderr.write('\n');
      resolve(answer);
    });
    rl.on('SIGINT', () => {
      rl.close();
      reject(new ClientError('login cancelled', 130));
    });
  });
}

/** Runs `fn`; when Node-RED asks for a login and none was given, logs in on the terminal and runs it again. */
async function withLogin<T>(client: JailClient, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof AuthNeededError) || client.token) throw err;
    if (!process.stdin.isTTY) throw err;
    process.stderr.write(`Node-RED at ${client.base} asks for a login.\n`);
    const username = await ask('Username: ', false);
    const password = await ask('Password: ', true);
    await client.login(username, password);
    return fn();
  }
}

function jailNamed(jails: JailStatus[], name: string): JailStatus {
  const j = jails.find((x) => x.jail === name);
  if (j) return j;
  const known = jails.map((x) => x.jail);
  throw new ClientError(`jail ${JSON.stringify(name)} does not exist; ${known.length ? `the jails are: ${known.join(', ')}` : 'no jail is deployed'}`);
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const [command, ...rest] = args.command;
  const client = new JailClient({ url: args.url, token: args.token });
  const out = (json: unknown, text: string) => process.stdout.write(`${args.json ? JSON.stringify(json, null, 2) : text}\n`);
  const needIps = (ips: string[]) => {
    if (ips.length === 0) throw new ClientError(`name one or more IP addresses\n${USAGE}`, 2);
    return ips;
  };
  const change = async (c: JailChange) => {
    const answer = await withLogin(client, () => client.change(c));
    out(answer, String(answer.count));
  };

  if (command === 'status' && rest.length <= 1) {
    const { jails } = await withLogin(client, () => client.jails());
    if (rest.length === 0) out({ jails: jails.map((j) => j.jail) }, formatOverview(jails));
    else {
      const j = jailNamed(jails, rest[0]);
      out(j, formatJail(j));
    }
  } else if (command === 'set' && rest.length >= 2 && (rest[1] === 'banip' || rest[1] === 'unbanip')) {
    const [jail, action, ...ips] = rest;
    await change({ action: action as 'banip' | 'unbanip', jail, ips: needIps(ips), ...(action === 'banip' && args.bantime !== undefined ? { bantime: args.bantime } : {}) });
  } else if (command === 'unban') {
    await change({ action: 'unban', ips: needIps(rest) });
  } else if (command === 'banned') {
    const { jails } = await withLogin(client, () => client.jails());
    if (rest.length === 0) out(Object.fromEntries(jails.map((j) => [j.jail, j.banned])), formatBannedByJail(jails));
    else {
      const found = rest.map((ip) => jails.filter((j) => j.banned.includes(ip.trim())).map((j) => j.jail));
      out(Object.fromEntries(rest.map((ip, i) => [ip, found[i]])), formatJailsOfAddresses(found));
    }
  } else {
    throw new ClientError(`${command === undefined ? 'no command given' : `unknown command: ${args.command.join(' ')}`}\n${USAGE}`, 2);
  }
}

main().catch((err: unknown) => {
  const code = err instanceof ClientError ? err.exitCode : 1;
  process.stderr.write(`f2b-client: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = code;
});
