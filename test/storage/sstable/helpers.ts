// Shared by the SSTable tests: the two readers every table test runs against, building a
// table file from a list of entries, a temp directory, and the trivially correct model.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { TableBuilder, type TableBuilderOptions } from '../../../lib/storage/sstable/table_builder'
import { TableReader } from '../../../lib/storage/sstable/table_reader'
import { openTableFile, type TableFileReader } from '../../../lib/storage/mmap/index'
import type { Kind } from '../../../lib/storage/types'

export const readers: TableFileReader[] = ['mmap', 'pread']

export interface ModelEntry {
  key: Buffer
  seq: number
  kind: Kind
  expiresAtMs: number
  value: Buffer
}

export function tmpDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringwood-sst-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

export const defaultOptions: TableBuilderOptions = { blockBytes: 4096, bloomBitsPerKey: 10, zeroSeqs: false }

/** Builds `entries` (already in FORMAT.md §1 order) into one buffer. */
export function buildBytes(entries: readonly ModelEntry[], options: Partial<TableBuilderOptions> = {}): Buffer {
  const chunks: Uint8Array[] = []
  const b = new TableBuilder({ ...defaultOptions, ...options }, (c) => chunks.push(c))
  for (const e of entries) b.add(e.key, e.seq, e.kind, e.expiresAtMs, e.value)
  const { size } = b.finish()
  const out = Buffer.concat(chunks)
  if (out.length !== size) throw new Error('size mismatch')
  return out
}

export function writeTable(file: string, entries: readonly ModelEntry[], options: Partial<TableBuilderOptions> = {}): Buffer {
  const bytes = buildBytes(entries, options)
  fs.writeFileSync(file, bytes)
  return bytes
}

export function openWith(file: string, reader: TableFileReader): TableReader {
  return TableReader.open(openTableFile(file, { reader }))
}

/** FORMAT.md §1 order. */
export function compareEntries(a: ModelEntry, b: ModelEntry): number {
  return Buffer.compare(a.key, b.key) || b.seq - a.seq
}

export { catchErr } from '../../support/tmp'

/** The repository root (holds package.json), from the source or the compiled test folder. */
export function repoRoot(): string {
  let dir = __dirname
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const up = path.dirname(dir)
    if (up === dir) throw new Error('no package.json above ' + __dirname)
    dir = up
  }
  return dir
}
