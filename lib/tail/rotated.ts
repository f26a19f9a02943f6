/**
 * Finding what logrotate made of a file: its first line (the file's identity), and the rotated copy
 * beside it (same directory, name starting with the file's name) that still holds lines not yet read.
 */
import { createHash } from 'crypto';
import { createReadStream, promises as fsp } from 'fs';
import { basename, dirname, join } from 'path';
import { createGunzip } from 'zlib';
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

async function gzipHead(path: string): Promise<Buffer | null> {
  const chunks: Buffer[] = [];
  let got = 0;
  const stream = createReadStream(path).pipe(createGunzip());
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      got += chunk.length;
      if (got >= HEAD_MAX || chunk.indexOf(10) >= 0) break;
    }
  } catch {
    /* not gzip, or cut short: judged on what came out */
  } finally {
    stream.destroy();
  }
  const all = Buffer.concat(chunks);
  return headOf(all, all.length);
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
}

/**
 * The rotated file beside `file` holding the content wanted: the renamed file itself (same device and
 * inode and first line) first, then a plain copy with the same first line, then a gzip one; the newest
 * of several. Null when there is none.
 */
export async function findRotated(file: string, want: Wanted): Promise<Rotated | null> {
  const dir = dirname(file);
  const base = basename(file);
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return null;
  }
  let best: { path: string; gzip: boolean; rank: number; mtime: number } | null = null;
  for (const name of names) {
    if (name === base || !name.startsWith(base)) continue;
    const path = join(dir, name);
    let st;
    try {
      st = await fsp.stat(path);
    } catch {
      continue;
    }
    if (!st.isFile() || st.ino === want.notIno) continue;
    const gzip = name.endsWith('.gz');
    let rank: number;
    if (!gzip && want.ino !== undefined && st.ino === want.ino && st.dev === want.dev) {
      if (st.size < want.pos) continue;
      rank = 3;
    } else if (want.head === '') {
      continue;
    } else if (gzip) {
      rank = 1;
    } else {
      if (st.size <= want.pos) continue;
      rank = 2;
    }
    let head: Buffer | null = null;
    try {
      if (gzip) {
        head = await gzipHead(path);
      } else {
        const fh = await fsp.open(path, 'r');
        try {
          head = await readHead(fh);
        } finally {
          await fh.close();
        }
      }
    } catch {
      continue;
    }
    if (want.head !== '' && hashHead(head) !== want.head) continue;
    const mtime = st.mtimeMs;
    if (!best || rank > best.rank || (rank === best.rank && mtime > best.mtime)) best = { path, gzip, rank, mtime };
  }
  return best && { path: best.path, gzip: best.gzip };
}

/**
 * Reads `rotated` from byte `from` to its end, line by line (the last line even without a newline).
 * `batch` runs after each chunk with the offset reached, to save it. Returns the lines read.
 */
export async function readRotated(
  rotated: Rotated,
  from: number,
  encoding: BufferEncoding,
  line: (text: string) => void,
  batch: (offset: number) => void,
  stopped: () => boolean,
): Promise<number> {
  const split = new LineSplitter(encoding, from);
  let lines = 0;
  if (rotated.gzip) {
    let skip = from;
    const stream = createReadStream(rotated.path).pipe(createGunzip());
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
        batch(split.offset);
      }
    } finally {
      stream.destroy();
    }
  } else {
    const fh = await fsp.open(rotated.path, 'r');
    try {
      for (;;) {
        if (stopped()) return lines;
        const space = split.space();
        const { bytesRead } = await fh.read(split.buf, split.have, space, split.end);
        if (bytesRead === 0) break;
        lines += split.took(bytesRead, line);
        batch(split.offset);
      }
    } finally {
      await fh.close();
    }
  }
  lines += split.flush(line);
  batch(split.offset);
  return lines;
}
