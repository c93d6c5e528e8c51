// SPDX-License-Identifier: Apache-2.0
//
// How the store saves a batch: as a record appended to the state file's
// journal (journal.ts) when the change is small beside the state file,
// else as the whole state file (file.ts), which drops the journal. So a
// dest edit at 10,000 services writes a kilobyte, not 9 MB, and the
// journal never grows past half the state file: a start reads at most
// 1.5 x the state, and replays at most that much.
//
// A record is appended only once the dataplane took the state: an
// appended line cannot be taken back, whereas a whole state file is
// written ahead to a temporary file and discarded if refused. A process
// appends only to a journal it began itself, after writing the state
// file whole: its first save is always whole, so what an earlier process
// left (a torn last record) is never written after.
//
// Control thread; one staged save at a time (the store's).

import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';

import { loadAddon } from '../dataplane/addon';
import { StateError } from './errors';
import { stageStateFile, syncDir, type SavedState, type StagedStateFile, type StateBody } from './file';
import { journalFile, journalHeader, journalRecord, type JournalChange } from './journal';

/** The journal is folded into the state file when it would grow past this share of it. */
const JOURNAL_SHARE = 0.5;

export class StateSaver {
  /** Bytes and generation of the state file this process last wrote whole. */
  private baseBytes = 0;
  private baseGeneration = 0;
  /**
   * Bytes of the journal on top of it. Undefined before this process
   * wrote the state file whole, and after a failed save: the next save
   * is whole.
   */
  private journalBytes: number | undefined;

  constructor(private readonly file: string) {}

  /**
   * Stages the save of `state`. `change()` is what it changed since the
   * last save (a journal record), `whole()` all of it (the state file);
   * each is made only if it is written.
   */
  stage(state: SavedState, whole: () => StateBody, change: () => JournalChange): StagedStateFile {
    // A state file deleted under a running balancer: records appended
    // without it would be dropped at the next start (file.ts).
    if (this.journalBytes !== undefined && !fs.existsSync(this.file)) this.journalBytes = undefined;
    if (this.journalBytes !== undefined) {
      const parts = journalRecord(state.generation, change());
      if (this.journalBytes === 0) parts.unshift(journalHeader(this.baseGeneration));
      const bytes = parts.reduce((n, p) => n + p.byteLength, 0);
      if (this.journalBytes + bytes <= this.baseBytes * JOURNAL_SHARE) return this.append(parts, bytes);
    }
    return this.rewrite(state, whole());
  }

  /**
   * Writes `state` as the whole state file when a journal is beside it
   * (from this process or an earlier one), so that the file alone is the
   * state again: what a stop does, for an operator who reads or copies it.
   */
  async fold(state: SavedState, whole: () => StateBody): Promise<void> {
    if (this.journalBytes === 0 || !fs.existsSync(journalFile(this.file))) return;
    await this.rewrite(state, whole()).commit();
  }

  /** The record, appended at commit (after the publication). */
  private append(parts: Uint8Array[], bytes: number): StagedStateFile {
    const file = journalFile(this.file);
    const before = this.journalBytes as number;
    return {
      bytes,
      commit: async () => {
        this.journalBytes = undefined;  // until the record is on disk
        try {
          await loadAddon().writeFileDurable(file, parts, true);
          if (before === 0) await syncDir(path.dirname(file));  // the journal's name is new
        } catch (err) {
          // The record (or a piece of it) may be in the file, even on disk
          // (its fsync, or the directory's, failed after the write): the
          // change is refused, so cut it off, durably. Best effort: the
          // save after this one is whole and drops the journal anyway.
          await cutBack(file, before).catch(() => undefined);
          throw new StateError('unavailable', `cannot write state file journal ${file}: ${(err as Error).message}`);
        }
        this.journalBytes = before + bytes;
      },
      discard: () => Promise.resolve(),
    };
  }

  /** The whole state file, written from now on; the journal goes once it is in place. */
  private rewrite(state: SavedState, body: StateBody): StagedStateFile {
    const staged = stageStateFile(this.file, state, body);
    return {
      bytes: staged.bytes,
      commit: async () => {
        this.journalBytes = undefined;
        await staged.commit();
        this.baseBytes = staged.bytes;
        this.baseGeneration = state.generation;
        // The journal continues the old state file: a start would leave it
        // unread, but a record appended to it would be lost with it. Until
        // it is gone, every save is whole.
        this.journalBytes = await fsp.rm(journalFile(this.file), { force: true }).then(
          () => 0,
          () => undefined,
        );
      },
      discard: () => staged.discard(),
    };
  }
}

/** Truncates file to `size` and fsyncs it. */
async function cutBack(file: string, size: number): Promise<void> {
  const fh = await fsp.open(file, 'r+');
  try {
    await fh.truncate(size);
    await fh.sync();
  } finally {
    await fh.close();
  }
}
