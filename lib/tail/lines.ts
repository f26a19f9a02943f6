/** Splits bytes read from a log into lines, keeping the byte offset of the first unfinished line. */

/** Lines longer than this are dropped whole (an attacker could hide a forged line in the tail of one). */
export const MAX_LINE = 64 * 1024;
const CHUNK = 64 * 1024;

/**
 * A buffer that bytes are read into (directly, at `buf[have]`), and that hands out whole lines.
 * `offset` is the byte offset, in the source, of `buf[0]`: the start of the first line not yet
 * complete, which is where reading must resume after a restart.
 */
export class LineSplitter {
  buf = Buffer.allocUnsafe(CHUNK);
  /** Bytes in `buf` not yet handed out (an unfinished line). */
  have = 0;
  /** Source offset of buf[0]. */
  offset = 0;
  /** Lines dropped because they were longer than MAX_LINE. */
  dropped = 0;
  private discarding = false;
  /** Source offset where the line being dropped began. */
  private dropStart = 0;
  private readonly unit: 1 | 2;

  constructor(private readonly encoding: BufferEncoding, offset = 0) {
    this.unit = encoding === 'utf16le' || encoding === 'ucs2' || encoding === 'ucs-2' || encoding === 'utf-16le' ? 2 : 1;
    this.offset = offset;
  }

  /**
   * Where to resume after a restart: the start of the first line not handed out. Inside a line being
   * dropped, that line's start, so that it is read again and dropped again: a position in the middle
   * of it would make its tail (text an attacker chose) look like a line of its own.
   */
  get resumeAt(): number {
    return this.discarding ? this.dropStart : this.offset;
  }

  /** Source offset just past the bytes taken in so far. */
  get end(): number {
    return this.offset + this.have;
  }

  /** Forgets everything and starts again at `offset`. */
  reset(offset: number): void {
    this.have = 0;
    this.offset = offset;
    this.discarding = false;
  }

  /** Free space at the end of buf, growing it when an unfinished line fills it. */
  space(): number {
    if (this.have === this.buf.length) {
      const grown = Buffer.allocUnsafe(this.buf.length * 2);
      this.buf.copy(grown, 0, 0, this.have);
      this.buf = grown;
    }
    return this.buf.length - this.have;
  }

  /** Copies `chunk` in (for sources that are streams rather than file descriptors) and splits. */
  feed(chunk: Buffer, line: (text: string) => void): number {
    let lines = 0;
    let at = 0;
    while (at < chunk.length) {
      const n = Math.min(this.space(), chunk.length - at);
      chunk.copy(this.buf, this.have, at, at + n);
      at += n;
      lines += this.took(n, line);
    }
    return lines;
  }

  /** `n` bytes were written at buf[have]: hands out the lines they complete. Returns how many. */
  took(n: number, line: (text: string) => void): number {
    const buf = this.buf;
    const end = this.have + n;
    let start = 0;
    let lines = 0;
    let from = this.have;
    for (;;) {
      const nl = this.newline(buf, from, end, start);
      if (nl < 0) break;
      if (this.discarding) {
        this.discarding = false;
      } else {
        let s = start;
        if (this.offset + s === 0) s += this.bom(buf, end);
        let e = nl;
        // Strip a CR before the LF.
        if (this.unit === 1) {
          while (e > s && buf[e - 1] === 13) e--;
        } else {
          while (e - 2 >= s && buf[e - 2] === 13 && buf[e - 1] === 0) e -= 2;
        }
        line(buf.toString(this.encoding, s, e));
        lines++;
      }
      start = nl + this.unit;
      from = start;
    }
    // Keep the unfinished line at the front.
    const rest = end - start;
    if (rest > 0 && start > 0) buf.copy(buf, 0, start, end);
    this.offset += start;
    this.have = rest;
    if (this.discarding) {
      // Still inside a line that is being dropped.
      this.offset += this.have;
      this.have = 0;
    } else if (this.have >= MAX_LINE) {
      // Too long: drop what there is, and the rest of the line up to its newline.
      this.discarding = true;
      this.dropStart = this.offset;
      this.dropped++;
      this.offset += this.have;
      this.have = 0;
    }
    return lines;
  }

  /** Hands out the unfinished line as a line of its own (the source has ended). */
  flush(line: (text: string) => void): number {
    if (this.have === 0 || this.discarding) {
      this.offset += this.have;
      this.have = 0;
      this.discarding = false;
      return 0;
    }
    const text = this.buf.toString(this.encoding, this.offset === 0 ? this.bom(this.buf, this.have) : 0, this.have).replace(/\r+$/, '');
    this.offset += this.have;
    this.have = 0;
    line(text);
    return 1;
  }

  private newline(buf: Buffer, from: number, end: number, lineStart: number): number {
    if (this.unit === 1) {
      const i = buf.indexOf(10, from);
      return i >= 0 && i < end ? i : -1;
    }
    // UTF-16LE: "\n" is 0A 00 at an even distance from the line's start.
    let i = from;
    for (;;) {
      i = buf.indexOf(10, i);
      if (i < 0 || i + 1 >= end) return -1;
      if ((i - lineStart) % 2 === 0 && buf[i + 1] === 0) return i;
      i++;
    }
  }

  /** Length of a byte order mark at buf[0], if the encoding has one there. */
  private bom(buf: Buffer, end: number): number {
    if (this.unit === 2) return end >= 2 && buf[0] === 0xff && buf[1] === 0xfe ? 2 : 0;
    if (this.encoding === 'utf8' || this.encoding === 'utf-8') return end >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
    return 0;
  }
}
