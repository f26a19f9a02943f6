/**
 * Node-RED's runtime API as @types/node-red declares it (where it lags Node-RED 5: types/node-red.d.ts),
 * what this package adds to its nodes, and the glue the nodes share.
 */
import { join } from 'path';
import type * as NodeRed from 'node-red';

export type NodeMessage = NodeRed.NodeMessage;
export type NodeStatus = NodeRed.NodeStatus;
export type Send = (msg: NodeMessage | Array<NodeMessage | NodeMessage[] | null>) => void;
export type Done = (err?: Error) => void;
/** A node; credentials as a config node holds them (strings, absent until set). */
export type Node = NodeRed.Node<Record<string, string | undefined>>;
/** A node's definition, with every property its editor saved (types/node-red.d.ts). */
export type NodeDef = NodeRed.NodeDef;
export type NodeAPI = NodeRed.NodeAPI;

/** The mail-server config node as mail-notify sees it. */
export interface MailServerNode extends Node {
  settings: import('../lib/mail').MailServerSettings;
  transport(): import('nodemailer').Transporter;
}

/** threshold-window, as the jail admin API (issue 21) reads it. */
export interface JailWindowNode extends Node {
  windowCounters?: () => import('../lib/jail').WindowCounters;
  /** Whether the jail's ignoreip holds `ip` (never banned, by hand either). */
  ignores?: (ip: import('../lib/ip').Address) => boolean;
}

/** firewall-ban, as the jail admin API (issue 21) reads it. */
export interface JailBanNode extends Node {
  manager?: import('../lib/firewall').BanManager;
  banCounters?: () => import('../lib/jail').BanCounters;
}

/** Where this package keeps its state: <userDir>/fail2ban. */
export function stateDir(RED: NodeAPI): string {
  return join(RED.settings.userDir ?? process.cwd(), 'fail2ban');
}

/** A number from a node property, which the editor saves as a string. */
export function numberProperty(value: unknown, fallback: number, what: string): number {
  if (value === undefined || value === null || value === '') return fallback;
  const n = typeof value === 'number' ? value : Number(String(value).trim());
  if (!Number.isFinite(n)) throw new Error(`${what} "${String(value)}" is not a number`);
  return n;
}

export function booleanProperty(value: unknown, fallback: boolean): boolean {
  if (value === undefined || value === null || value === '') return fallback;
  return value === true || value === 'true';
}

/** Lines of a multi-line text property, trimmed, empty ones dropped. */
export function linesProperty(value: unknown): string[] {
  return String(value ?? '').split(/\r?\n/).map((l) => l.trim()).filter(Boolean);
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A configuration error found at deploy: the status turns red at once, and once the flows have
 * started (so that Catch nodes exist) the error is logged and handed to them.
 * Returns a function that cancels the report when the node closes first.
 */
export function reportConfigError(RED: NodeAPI, node: Node, err: unknown): () => void {
  const text = errorText(err);
  node.status({ fill: 'red', shape: 'ring', text: shortStatus(text) });
  const report = () => node.error(text, { topic: 'configuration', payload: text, error: { message: text } });
  RED.events.once('flows:started', report);
  return () => RED.events.removeListener('flows:started', report);
}

/** Ends a node's close handler once `work` (stopping a follower, a firewall) settles; a failure is a warning. */
export function closeAfter(node: Node, work: Promise<unknown>, done: () => void): void {
  work.then(
    () => done(),
    (err) => {
      node.warn(`stopping: ${errorText(err)}`);
      done();
    },
  );
}

/** Status text shortened to fit under a node. */
export function shortStatus(text: string): string {
  return text.length > STATUS_MAX ? `${text.slice(0, STATUS_MAX - 3)}...` : text;
}

const STATUS_MAX = 60;

/**
 * A status that names a path: `before` + the path + `after`, the path shortened in its middle so that the
 * whole fits, keeping its file name (what a person needs most) and the start of its directory.
 */
export function pathStatus(before: string, path: string, after = ''): string {
  const room = STATUS_MAX - before.length - after.length;
  if (path.length <= room) return shortStatus(before + path + after);
  const name = path.slice(path.lastIndexOf('/') + 1);
  const shown = name.length + 4 >= room ? `...${name.slice(-Math.max(1, room - 3))}` : `${path.slice(0, room - name.length - 4)}.../${name}`;
  return shortStatus(before + shown + after);
}

/**
 * A count of things that happened to lines (refused, skipped, dropped), told at most once a minute: a
 * flood of hostile lines must not become a flood of errors.
 */
export class ThrottledCount {
  total = 0;
  private told = 0;
  private lastTold = 0;

  constructor(private readonly everyMs = 60_000) {}

  /** Counts `n` more; returns how many to tell of now (those since the last time), or 0 within the minute. */
  add(n = 1): number {
    this.total += n;
    return this.due();
  }

  /** How many to tell of now, counted since the last time; 0 within the minute or when there are none. */
  private due(): number {
    const now = Date.now();
    if (this.total === this.told || now - this.lastTold <= this.everyMs) return 0;
    this.lastTold = now;
    const n = this.total - this.told;
    this.told = this.total;
    return n;
  }
}

/**
 * Runs `fn` once, `ms` after the first of a burst of calls to schedule(): a status or an editor update
 * redrawn at most every `ms` while events come fast (1,000 bans in one turn would redraw 1,000 times).
 */
export class Coalesced {
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly fn: () => void,
    private readonly ms = 250,
  ) {}

  schedule(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.fn();
    }, this.ms);
  }

  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** The crowdsec-lapi config node as crowdsec-decisions and crowdsec-alert see it. */
export interface CrowdsecLapiNode extends Node {
  /** The API's base URL (checked), or null with `problem` saying why. */
  url: string | null;
  problem: string | null;
}

/** The deployed node `id`, when it is one of `type` (an id from a flow or a request may name anything). */
export function deployedNode<T extends Node>(RED: NodeAPI, id: unknown, type: string): T | null {
  const n = RED.nodes.getNode(String(id ?? ''));
  return n && n.type === type ? (n as T) : null;
}

/** The crowdsec-lapi node `id` names and its URL; throws saying what to fix (`what`: what the API is picked for). */
export function crowdsecLapi(RED: NodeAPI, id: unknown, what: string): { lapi: CrowdsecLapiNode; url: string } {
  const lapi = deployedNode<CrowdsecLapiNode>(RED, id, 'crowdsec-lapi');
  if (!lapi) throw new Error(`no crowdsec-lapi node: pick the Local API ${what}`);
  if (!lapi.url) throw new Error(lapi.problem ?? 'the crowdsec-lapi node has no URL');
  return { lapi, url: lapi.url };
}
