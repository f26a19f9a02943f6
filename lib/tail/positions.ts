/**
 * Read positions kept on disk, so that a restart (even after SIGKILL) resumes where reading stopped.
 * A file is known by its device, inode and a hash of its first line, as fail2ban does: a file
 * renamed away keeps its device and inode, a file truncated or replaced gets a new first line.
 */
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync, constants } from 'fs';
import { dirname } from 'path';

export interface FilePosition {
  dev: number;
  ino: number;
  /** sha1 (hex) of the file's first line (with its newline, at most 1 KiB); '' while it has none. */
  head: string;
  /** Byte offset of the first line not yet delivered. */
  pos: number;
}

interface Saved {
  version: 1;
  files: Record<string, FilePosition>;
  journal?: { cursor: string };
}

/**
 * Positions of one log-tail node. save() writes synchronously, with one write() call at offset 0
 * padded to the previous length, so a process killed at any moment leaves a whole file behind.
 */
export class PositionStore {
  private data: Saved = { version: 1, files: {} };
  private fd: number | null = null;
  private written = 0;
  private dirty = false;
  /** Why the saved file could not be read, when it could not (the node warns). */
  readonly problem: string | null = null;

  constructor(readonly file: string) {
    let text: string | null = null;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.problem = `cannot read saved positions ${file}: ${(err as Error).message}`;
    }
    if (text !== null && text.trim() !== '') {
      try {
        const parsed = JSON.parse(text) as Saved;
        if (parsed && parsed.version === 1 && typeof parsed.files === 'object') this.data = parsed;
        else this.problem = `saved positions ${file} are not in a known format; starting afresh`;
      } catch {
        this.problem = `saved positions ${file} are damaged; starting afresh`;
      }
      this.written = Buffer.byteLength(text);
    }
  }

  get(path: string): FilePosition | undefined {
    return this.data.files[path];
  }

  set(path: string, pos: FilePosition | undefined): void {
    if (pos) this.data.files[path] = pos;
    else delete this.data.files[path];
    this.dirty = true;
  }

  /** Forgets every file not in `keep` (paths no longer configured). */
  retain(keep: (path: string) => boolean): void {
    for (const p of Object.keys(this.data.files)) if (!keep(p)) this.set(p, undefined);
  }

  get cursor(): string | undefined {
    return this.data.journal?.cursor;
  }

  set cursor(cursor: string | undefined) {
    this.data.journal = cursor ? { cursor } : undefined;
    this.dirty = true;
  }

  /** Writes the positions now if they changed. Throws on a write error (disk full, permissions). */
  save(): void {
    if (!this.dirty) return;
    if (this.fd === null) {
      mkdirSync(dirname(this.file), { recursive: true });
      // Not O_TRUNC: the old content stays whole until the single write below replaces it.
      this.fd = openSync(this.file, constants.O_RDWR | constants.O_CREAT, 0o600);
    }
    let text = JSON.stringify(this.data);
    // Pad with spaces (valid JSON) over what a longer earlier save left.
    const bytes = Buffer.byteLength(text);
    if (bytes < this.written) text += ' '.repeat(this.written - bytes);
    const buf = Buffer.from(text, 'utf8');
    writeSync(this.fd, buf, 0, buf.length, 0);
    this.written = Math.max(this.written, buf.length);
    this.dirty = false;
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  /** Removes the file (the node was deleted from the flow). */
  remove(): void {
    this.close();
    try {
      unlinkSync(this.file);
    } catch {
      /* never saved */
    }
  }
}
