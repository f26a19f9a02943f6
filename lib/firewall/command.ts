/**
 * command: the user's own programs. `banCommand`, `unbanCommand` and (optional) `checkCommand` are
 * argument templates, split into arguments once (quotes group words) and run without a shell. Tags are
 * filled with values this package made or checked: `<ip>` (an address or CIDR prefix that parsed),
 * `<family>` (inet4 / inet6), `<bantime>` (seconds, -1 for ever) and `<name>` (the node's set name).
 */
import type { Address } from '../ip';
import { FirewallError, type BackendOptions, type BanRequest, type FirewallBackend } from './backend';
import { run, saidNo, type Runner } from './run';

const TAGS = new Set(['ip', 'family', 'bantime', 'name']);

/** Splits a command line into arguments: white space separates, "..." and '...' group, \ escapes outside '...'. */
export function splitArguments(text: string, what: string): string[] {
  const args: string[] = [];
  let current = '';
  let inWord = false;
  let quote: '"' | "'" | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote) {
      if (c === quote) quote = null;
      else if (c === '\\' && quote === '"' && i + 1 < text.length) current += text[++i];
      else current += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < text.length) {
      current += text[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) args.push(current);
      current = '';
      inWord = false;
    } else {
      current += c;
      inWord = true;
    }
  }
  if (quote) throw new FirewallError(`${what}: a ${quote} quote is not closed`);
  if (inWord) args.push(current);
  return args;
}

/** A parsed template; fill() gives the argument list for one ban. */
export class CommandTemplate {
  readonly args: string[];

  constructor(readonly text: string, readonly what: string) {
    this.args = splitArguments(text, what);
    if (this.args.length === 0) throw new FirewallError(`${what}: no command given`);
    if (/[<>]/.test(this.args[0])) throw new FirewallError(`${what}: the program "${this.args[0]}" must be a fixed path or name, without tags`);
    for (const arg of this.args) {
      for (const m of arg.matchAll(/<([^<>]*)>/g)) {
        if (!TAGS.has(m[1])) throw new FirewallError(`${what}: unknown tag <${m[1]}>; use <ip>, <family>, <bantime> or <name>`);
      }
    }
  }

  fill(values: Record<string, string>): string[] {
    return this.args.map((a) => a.replace(/<(ip|family|bantime|name)>/g, (_all, tag: string) => values[tag]));
  }
}

export class CommandBackend implements FirewallBackend {
  readonly name = 'command';
  private readonly run: Runner;
  private readonly banT: CommandTemplate;
  private readonly unbanT: CommandTemplate;
  private readonly checkT: CommandTemplate | null;
  /** What this backend banned since it started (a list where the firewall cannot be asked). */
  private readonly known = new Map<string, Address>();

  constructor(private readonly options: BackendOptions) {
    this.run = options.runner ?? run;
    const need = (text: string | undefined, what: string) => {
      if (!text || !text.trim()) throw new FirewallError(`${what} is empty: the command backend needs a ban and an unban command with <ip>, e.g. /usr/local/bin/block <ip>`);
      const t = new CommandTemplate(text, what);
      if (!t.args.some((a) => a.includes('<ip>'))) throw new FirewallError(`${what}: the command must contain <ip>`);
      return t;
    };
    this.banT = need(options.banCommand, 'banCommand');
    this.unbanT = need(options.unbanCommand, 'unbanCommand');
    this.checkT = options.checkCommand?.trim() ? need(options.checkCommand, 'checkCommand') : null;
  }

  private values(ip: Address, seconds = -1): Record<string, string> {
    return { ip: ip.text, family: ip.family === 4 ? 'inet4' : 'inet6', bantime: String(seconds < 0 ? -1 : Math.ceil(seconds)), name: this.options.setName };
  }

  private async each<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
    const errors: string[] = [];
    for (const item of items) await fn(item).catch((err: Error) => errors.push(err.message));
    if (errors.length) throw new FirewallError(errors.length === 1 ? errors[0] : `${errors.length} commands failed, the first: ${errors[0]}`);
  }

  async start(): Promise<void> {}

  async ban(requests: BanRequest[]): Promise<void> {
    await this.each(requests, async (r) => {
      const [file, ...args] = this.banT.fill(this.values(r.ip, r.seconds));
      await this.run(file, args);
      this.known.set(r.ip.text, r.ip);
    });
  }

  async unban(ips: Address[]): Promise<void> {
    await this.each(ips, async (ip) => {
      const [file, ...args] = this.unbanT.fill(this.values(ip));
      await this.run(file, args);
      this.known.delete(ip.text);
    });
  }

  /** With a check command: its exit status (0 = banned). Without: whether this backend banned it. */
  async check(ip: Address): Promise<boolean> {
    if (!this.checkT) return this.known.has(ip.text);
    const [file, ...args] = this.checkT.fill(this.values(ip));
    try {
      await this.run(file, args);
      return true;
    } catch (err) {
      if (saidNo(err)) return false;
      throw err;
    }
  }

  /** The bans this backend made that the check command still confirms. */
  async list(): Promise<string[]> {
    const out: string[] = [];
    for (const ip of this.known.values()) if (await this.check(ip)) out.push(ip.text);
    return out;
  }

  async stop(): Promise<void> {
    this.known.clear();
  }
}
