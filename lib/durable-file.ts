/** State files written so that a crash or a power cut leaves the old content or the new, never a mix. */
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeSync } from 'fs';
import { dirname } from 'path';

/**
 * Writes `file` through `write(fd)` into a temporary file beside it (mode 0600), flushes it, renames it
 * over `file`, then flushes the directory so that the rename itself survives a power cut.
 */
export function writeDurably(file: string, write: (fd: number) => void): void {
  mkdirSync(dirname(file), { recursive: true });
  const tmp = `${file}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    write(fd);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
  syncDirectory(file);
}

/** Flushes the directory holding `file`, so that its creation or renaming survives a power cut. */
export function syncDirectory(file: string): void {
  try {
    const dir = openSync(dirname(file), 'r');
    try {
      fsyncSync(dir);
    } finally {
      closeSync(dir);
    }
  } catch {
    /* some file systems cannot fsync a directory; the file itself is flushed */
  }
}

/** writeDurably for a whole text at once. */
export function writeTextDurably(file: string, text: string): void {
  writeDurably(file, (fd) => writeSync(fd, text));
}
