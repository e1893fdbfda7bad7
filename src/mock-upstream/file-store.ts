import { rm } from 'node:fs/promises';
import { join } from 'node:path';

export interface FileObject {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  expires_at: null;
  filename: string;
  purpose: string;
  status: 'processed';
  status_details: null;
}

/** Uploaded files: metadata in memory, bytes on disk under `dir`, one file per id. */
export class FileStore {
  readonly #files = new Map<string, FileObject>();

  constructor(readonly dir: string) {}

  /** Only for ids this store minted; never for an id taken from a URL unchecked. */
  path(id: string): string {
    return join(this.dir, id);
  }

  add(file: FileObject): void {
    this.#files.set(file.id, file);
  }

  get(id: string): FileObject | undefined {
    return this.#files.get(id);
  }

  /** Oldest first. */
  list(): FileObject[] {
    return [...this.#files.values()];
  }

  async delete(id: string): Promise<boolean> {
    if (!this.#files.delete(id)) return false;
    await rm(this.path(id), { force: true });
    return true;
  }
}
