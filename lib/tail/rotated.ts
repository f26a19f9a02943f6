/**
 * Finding what logrotate made of a file: its first line (the file's identity), and the rotated copy
 * beside it (same directory, name starting with the file's name) that still holds lines not yet read.
 */
import { createHash } from 'crypto';
import { constants as fsConstants, promises as fsp } from 'fs';
import { basename, dirname, join } from 'path';
import { constants as zlibConstants, createGunzip, gunzipSync } from 'zlib';
import { LineSplitter } from './lines';

/** At most this much of the first line identifies a file. */
export const HEAD_MAX = 1024;

/** The first line of `buf` (with its newline) or its first HEAD_MAX bytes; null while incomplete. */
export function headOf(buf: Buffer, n: number): Buffer | null {
  const nl = buf.subarray(0, Math.min(n, HEAD_MAX)).indexOf(10);
  if (nl >= 0) return Buffer.from(buf.subarray(0, nl + 1));
  return n >= HEAD_MAX ? Buffer.from(buf.subarray(0, HEAD_MAX)) : null;
}

export function hashHead(head: Buffer | null): string {
  return head ? createHash('sha1').update(head).digest('hex') : '';
}

/** The first line of an open file (see headOf). */
export async function readHead(fh: fsp.FileHandle): Promise<Buffer | null> {
  const buf = Buffer.allocUnsafe(HEAD_MAX);
  const { bytesRead } = await fh.read(buf, 0, HEAD_MAX, 0);
  return headOf(buf, bytesRead);
}

/** The first line of a gzip file: its first 64 KiB inflated as far as they go. */
async function gzipHead(fh: fsp.FileHandle): Promise<Buffer | null> {
  const buf = Buffer.allocUnsafe(64 * 1024);
  const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
  let out: Buffer;
  try {
    out = gunzipSync(buf.subarray(0, bytesRead), { finishFlush: zlibConstants.Z_SYNC_FLUSH });
  } catch {
    return null;
  }
  return headOf(out, out.length);
}

export interface Wanted {
  /** sha1 of the first line of the content wanted ('' when unknown). */
  head: string;
  /** Bytes already read of that content: a copy must hold more to be worth reading. */
  pos: number;
  /** The file itself, if it may have been renamed (device and inode). */
  dev?: number;
  ino?: number;
  /** Never this file (the live one). */
  notIno?: number;
}

export interface Rotated {
  path: string;
  gzip: boolean;
  dev: number;
  ino: number;
  size: number;
  mtimeMs: number;
  /** sha1 of its first line ('' when it has none yet). */
  head: string;
}

/** The files beside `file` whose names start with its name (its rotations), with their first lines. */
export async function listRotated(file: string): Promise<Rotated[]> {
  const dir = dirname(file);
  const base = basename(file);
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return [];
  }
  const found: Rotated[] = [];
  for (const name of names) {
    if (name === base || !name.startsWith(base)) continue;
    const path = join(dir, name);
    let fh: fsp.FileHandle | null = null;
    try {
      // Stat and first line from one open file: the name may move to another file meanwhile.
      fh = await fsp.open(path, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
      const st = await fh.stat();
      if (!st.isFile()) continue;
      const gzip = name.endsWith('.gz');
      const head = gzip ? await gzipHead(fh) : await readHead(fh);
      found.push({ path, gzip, dev: st.dev, ino: st.ino, size: st.size, mtimeMs: st.mtimeMs, head: hashHead(head) });
    } catch {
      /* gone meanwhile, or unreadable */
    } finally {
      await fh?.close().catch(() => undefined);
    }
  }
  return found;
}

/**
 * The rotated file beside `file` holding the content wanted: the renamed file itself (same device and
 * inode and first line) first, then a plain copy with the same first line, then a gzip one; the newest
 * of several. Null when there is none.
 */
export async function findRotated(file: string, want: Wanted): Promise<Rotated | null> {
  let best: { r: Rotated; rank: number } | null = null;
  for (const r of await listRotated(file)) {
    if (r.ino === want.notIno && !r.gzip) continue;
    let rank: number;
    if (!r.gzip && want.ino !== undefined && r.ino === want.ino && r.dev === want.dev) {
      if (r.size < want.pos) continue;
      rank = 3;
    } else if (want.head === '') {
      continue;
    } else if (r.gzip) {
      rank = 1;
    } else {
      if (r.size <= want.pos) continue;
      rank = 2;
    }
    if (want.head !== '' && r.head !== want.head) continue;
    if (!best || rank > best.rank || (rank === best.rank && r.mtimeMs > best.r.mtimeMs)) best = { r, rank };
  }
  return best ? best.r : null;
}

/**
 * Where a rotated name sits in logrotate's order, larger being older: app.log.3 is older than app.log.1,
 * and with dateext app.log-20240101 older than app.log-20240102. Null for names without such a number.
 */
export function rotationAge(file: string, rotated: string): number | null {
  const m = /^[.-](\d+)(?:\.[A-Za-z0-9]+)?$/.exec(basename(rotated).slice(basename(file).length));
  if (!m) return null;
  const n = Number(m[1]);
  return m[1].length >= 8 ? -n : n;
}

/** A content known by identity (device:inode) and/or first-line hash. */
export interface Known {
  id?: string;
  head: string;
}

/** By first line when both have one; by device:inode otherwise (only safe for a file held open). */
function isKnown(r: Rotated, k: Known | undefined): boolean {
  if (!k) return false;
  if (k.head !== '' && r.head !== '') return r.head === k.head;
  return k.id !== undefined && k.id === `${r.dev}:${r.ino}`;
}

/**
 * Rotations beside `file` that are newer than `finished` (the content read last), older than `live`
 * (the content to read next), and never read (by first line): logrotate ran more than
 * once while the follower was behind (a burst) or stopped. Oldest first; of a plain file and its gzip,
 * only one. Order comes from logrotate's numbered names; for other names only plain files last written
 * between `after` and `before` (mtime, ms) are taken, ordered by mtime (a gzip's mtime is when it was
 * compressed, which says nothing of its content).
 */
export async function findUnread(
  file: string,
  finished: Known,
  live: Known | undefined,
  window: { after: number; before: number },
  heads: Set<string>,
): Promise<Rotated[]> {
  const all = await listRotated(file);
  const unread = (r: Rotated) => r.head !== '' && !heads.has(r.head) && !isKnown(r, live);
  let fresh: Array<{ r: Rotated; key: number }>;
  const ages = all.map((r) => rotationAge(file, r.path));
  const lower = all.findIndex((r) => isKnown(r, finished));
  if (ages.every((a) => a !== null) && lower >= 0) {
    const upperAt = all.findIndex((r) => isKnown(r, live));
    const upper = upperAt >= 0 ? ages[upperAt]! : -Infinity;
    fresh = all.map((r, i) => ({ r, key: -ages[i]! })).filter(({ r, key }) => unread(r) && -key < ages[lower]! && -key > upper);
  } else {
    fresh = all.filter((r) => !r.gzip && unread(r) && r.mtimeMs >= window.after && r.mtimeMs <= window.before).map((r) => ({ r, key: r.mtimeMs }));
  }
  fresh.sort((a, b) => a.key - b.key || Number(a.r.gzip) - Number(b.r.gzip));
  const taken = new Set<string>();
  return fresh
    .map(({ r }) => r)
    .filter((r) => {
      if (taken.has(r.head)) return false;
      taken.add(r.head);
      return true;
    });
}

/**
 * Reads `rotated` from byte `from` to its end, line by line (the last line even without a newline).
 * `batch` runs after each chunk with the offset reached, to save it. Returns the lines read, or null
 * when the name no longer holds that file (logrotate renamed it meanwhile): look for it again.
 */
export async function readRotated(
  rotated: Rotated,
  from: number,
  encoding: BufferEncoding,
  line: (text: string) => void,
  batch: (offset: number) => void,
  stopped: () => boolean,
): Promise<number | null> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(rotated.path, 'r');
  } catch {
    return null;
  }
  const split = new LineSplitter(encoding, from);
  let lines = 0;
  try {
    const st = await fh.stat();
    if (st.ino !== rotated.ino || st.dev !== rotated.dev) return null;
    if (rotated.gzip) {
      let skip = from;
      const source = fh.createReadStream({ autoClose: false, start: 0 });
      const stream = source.pipe(createGunzip());
      source.on('error', () => undefined);
      try {
        for await (let chunk of stream as AsyncIterable<Buffer>) {
          if (stopped()) return lines;
          if (skip > 0) {
            if (chunk.length <= skip) {
              skip -= chunk.length;
              continue;
            }
            chunk = chunk.subarray(skip);
            skip = 0;
          }
          lines += split.feed(chunk, line);
          batch(split.resumeAt);
        }
      } finally {
        source.unpipe();
        source.destroy();
        stream.destroy();
      }
    } else {
      for (;;) {
        if (stopped()) return lines;
        const space = split.space();
        const { bytesRead } = await fh.read(split.buf, split.have, space, split.end);
        if (bytesRead === 0) break;
        lines += split.took(bytesRead, line);
        batch(split.resumeAt);
      }
    }
  } finally {
    await fh.close().catch(() => undefined);
  }
  lines += split.flush(line);
  batch(split.resumeAt);
  return lines;
}
