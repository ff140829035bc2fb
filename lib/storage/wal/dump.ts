// `ringwood dump-wal FILE`: a human-readable listing of a commit log segment (FORMAT.md §2),
// one line per record and one per entry. Damage is listed, not thrown, so the tool works on
// the files that need it most.

import { RealFs } from '../fs/real_fs'
import type { FileSystem } from '../fs/file_system'
import { Kind, kindNames } from '../types'
import { showBytes } from '../../util/bytes'
import { decodeGroup, recordHeaderBytes, scanRecords } from './log_format'

export function dumpWal(path: string, fs: FileSystem = new RealFs()): string {
  const buf = fs.readFile(path)
  const out: string[] = [`${path}: ${buf.length} bytes`]
  let records = 0
  let entries = 0
  for (const item of scanRecords(buf)) {
    if (item.type === 'damage') {
      const what = item.resumes ? `next good record at ${item.end}` : 'runs to the end of the file (torn tail if newest segment)'
      out.push(`@${item.offset} DAMAGE ${item.end - item.offset} bytes, crc or framing bad; ${what}`)
      continue
    }
    records++
    try {
      const g = decodeGroup(item.payload, path, item.offset)
      out.push(`@${item.offset} record length=${item.payload.length + recordHeaderBytes} crc=ok firstSeq=${g.firstSeq} count=${g.entries.length}`)
      for (const e of g.entries) {
        entries++
        const ttl = e.kind === Kind.PutTtl ? ` expiresAtMs=${e.expiresAtMs}` : ''
        const value = e.kind === Kind.Del ? '' : ` value=${showBytes(e.value)}`
        out.push(`  seq=${e.seq} ${kindNames[e.kind]} key=${showBytes(e.key)}${ttl}${value}`)
      }
    } catch (err) {
      out.push(`@${item.offset} record length=${item.payload.length + recordHeaderBytes} crc=ok UNDECODABLE: ${(err as Error).message}`)
    }
  }
  out.push(`${records} records, ${entries} entries`)
  return out.join('\n') + '\n'
}
