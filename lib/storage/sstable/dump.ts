// `ringwood dump-sstable FILE`: a readable listing of one SSTable (FORMAT.md §3) — footer,
// properties, index, then every data block with its entries. Every block's crc is verified
// (reading a block through TableReader verifies it); a corrupt block ends the dump with the
// KV_CORRUPTION error, after everything before it was printed.

import { openTableFile, type OpenTableFileOptions } from '../mmap/index'
import { BlockIterator } from './block_iterator'
import { TableReader } from './table_reader'
import { kindNames } from '../types'
import { showBytes } from '../../util/bytes'

/** Yields the dump line by line (so a CLI can stream a large table). */
export function* dumpSstableLines(path: string, options: OpenTableFileOptions = {}): Generator<string> {
  const t = TableReader.open(openTableFile(path, options))
  try {
    const f = t.footer
    yield `sstable ${path} (${t.size} bytes, format version ${f.version})`
    yield `footer: filter @${f.filter.offset}+${f.filter.size} properties @${f.properties.offset}+${f.properties.size} index @${f.index.offset}+${f.index.size}`
    yield 'properties:'
    for (const [k, v] of Object.entries(t.properties)) yield `  ${k}: ${Buffer.isBuffer(v) ? showBytes(v) : String(v)}`
    yield `index: ${t.index.count} data blocks`
    for (let i = 0; i < t.index.count; i++) {
      yield `  [${i}] last=${showBytes(t.index.key(i))} @${t.index.offsets[i]}+${t.index.sizes[i]}`
    }
    const it = new BlockIterator(false)
    for (let i = 0; i < t.index.count; i++) {
      t.loadBlock(i)
      yield `block ${i} @${t.index.offsets[i]}+${t.index.sizes[i]} crc ok`
      it.reset(t.blockBuf, t.blockStart, t.index.sizes[i]!, t.path, t.index.offsets[i]!)
      for (it.seekToStart(); it.valid(); it.next()) {
        const kind = kindNames[it.kind()]
        const ttl = it.kind() === 2 ? ` expiresAtMs=${it.expiresAtMs()}` : ''
        const value = it.kind() === 0 ? '' : ` value=${showBytes(it.value())}`
        yield `  ${showBytes(it.key())} seq=${it.seq()} ${kind}${ttl}${value}`
      }
    }
    yield `ok: ${t.properties.entries} entries, every checksum verified`
  } finally {
    t.close()
  }
}

/** The whole dump as one string (lines joined by newlines). */
export function dumpSstable(path: string, options: OpenTableFileOptions = {}): string {
  return [...dumpSstableLines(path, options)].join('\n') + '\n'
}
