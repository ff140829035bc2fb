// Golden bytes of a small SSTable (FORMAT.md §3): any change to the byte format shows up as a
// diff of test/golden/sstable_small.sst.hex, to be reviewed with the spec.
// Regenerate (after changing FORMAT.md §3 on purpose):
//   npx tsc -p . && RINGWOOD_REWRITE_GOLDEN=1 npx tap dist/test/storage/sstable/golden.test.js

import fs from 'node:fs'
import path from 'node:path'
import t from 'tap'
import { Kind } from '../../../lib/storage/types'
import { buildBytes, type ModelEntry, openWith, readers, repoRoot, tmpDir } from './helpers'

const golden = path.join(repoRoot(), 'test', 'golden', 'sstable_small.sst.hex')

function fixedEntries(): ModelEntry[] {
  const e = (key: string, seq: number, kind: Kind, value: string, expiresAtMs = 0): ModelEntry => ({
    key: Buffer.from(key), seq, kind, expiresAtMs, value: Buffer.from(value),
  })
  return [
    e('apple', 9, Kind.Put, 'red'),
    e('apple', 4, Kind.Del, ''),
    e('apple', 2, Kind.Put, 'green'),
    e('apricot', 7, Kind.PutTtl, 'orange', 1_700_000_000_000),
    e('banana', 300, Kind.Put, 'yellow'),
    e('blueberry', 5, Kind.Del, ''),
    e('cherry', 1, Kind.Put, 'dark red'),
  ]
}

/** "offset  32 bytes of hex" per line: readable diffs. */
function toHex(bytes: Buffer): string {
  const lines: string[] = []
  for (let i = 0; i < bytes.length; i += 32) lines.push(`${i.toString(16).padStart(6, '0')}  ${bytes.subarray(i, i + 32).toString('hex')}`)
  return lines.join('\n') + '\n'
}

function fromHex(text: string): Buffer {
  return Buffer.from(text.split('\n').filter((l) => l.trim() !== '').map((l) => l.slice(8)).join(''), 'hex')
}

t.test('sstable_small.sst matches its golden bytes', async (t) => {
  const bytes = buildBytes(fixedEntries(), { blockBytes: 48, bloomBitsPerKey: 10, zeroSeqs: false })
  if (process.env['RINGWOOD_REWRITE_GOLDEN'] === '1') {
    fs.mkdirSync(path.dirname(golden), { recursive: true })
    fs.writeFileSync(golden, toHex(bytes))
    t.comment(`rewrote ${golden}: review the diff against FORMAT.md §3`)
  }
  if (!fs.existsSync(golden)) {
    t.fail(`${golden} is missing; create it with RINGWOOD_REWRITE_GOLDEN=1 npx tap dist/test/storage/sstable/golden.test.js`)
    return
  }
  const want = fs.readFileSync(golden, 'utf8')
  t.equal(toHex(bytes), want, 'bytes differ from the golden file; if FORMAT.md §3 changed on purpose, regenerate with RINGWOOD_REWRITE_GOLDEN=1')
  // The footer's last 8 bytes are the magic, little-endian ("RINGWOOD" reversed).
  t.equal(bytes.subarray(bytes.length - 8).toString('latin1'), 'DOOWGNIR')
})

for (const reader of readers) {
  t.test(`${reader}: the golden file reads back`, async (t) => {
    if (!fs.existsSync(golden)) return
    const file = path.join(tmpDir(t), 'golden.sst')
    fs.writeFileSync(file, fromHex(fs.readFileSync(golden, 'utf8')))
    const r = openWith(file, reader)
    t.teardown(() => r.close())
    const it = r.iterator(false)
    const got: string[] = []
    for (it.seekToStart(); it.valid(); it.next()) got.push(`${it.key()}@${it.seq()}:${it.kind()}:${it.expiresAtMs()}:${it.value()}`)
    t.same(got, fixedEntries().map((e) => `${e.key}@${e.seq}:${e.kind}:${e.expiresAtMs}:${e.value}`))
    t.equal(r.get(Buffer.from('apple'), 5)!.kind, Kind.Del)
    t.equal(r.properties.keys, 5)
  })
}

t.test('a table written before ttlEntries and ttlExpiryEighths existed reads them as 0 and empty', async (t) => {
  // The golden bytes of this suite before those two properties were added (FORMAT.md §3.4).
  const old = path.join(repoRoot(), 'test', 'golden', 'sstable_small_before_ttl_counts.sst.hex')
  const file = path.join(tmpDir(t), 'old.sst')
  fs.writeFileSync(file, fromHex(fs.readFileSync(old, 'utf8')))
  const r = openWith(file, readers[0]!)
  t.teardown(() => r.close())
  t.match(r.properties, { entries: 7, tombstones: 2, minExpiresAtMs: 1_700_000_000_000, ttlEntries: 0 })
  t.same(r.properties.ttlExpiryEighths, [])
  const now = buildBytes(fixedEntries(), { blockBytes: 48, bloomBitsPerKey: 10, zeroSeqs: false })
  const file2 = path.join(tmpDir(t), 'new.sst')
  fs.writeFileSync(file2, now)
  const r2 = openWith(file2, readers[0]!)
  t.teardown(() => r2.close())
  t.match(r2.properties, { minExpiresAtMs: 1_700_000_000_000, ttlEntries: 1 })
  t.same(r2.properties.ttlExpiryEighths, Array(8).fill(1_700_000_000_000))
})
