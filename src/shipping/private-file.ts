import { promises as fs } from 'node:fs';

/**
 * Appends `text` to `file` and flushes it to disk (fdatasync) before resolving: what the sinks, the
 * spill and the dead-letter files acknowledge is on the disk, not only in the page cache. The file
 * is created 0600, and an existing one with a looser mode is narrowed to 0600 (it holds token and
 * project ids). Opened per call, so an operator's logrotate may move the file at any time.
 */
export async function appendPrivate(file: string, text: string): Promise<void> {
  const fh = await fs.open(file, 'a', 0o600);
  try {
    if (((await fh.stat()).mode & 0o077) !== 0) await fh.chmod(0o600);
    await fh.writeFile(text);
    await fh.datasync();
  } finally {
    await fh.close();
  }
}
