// Shared helpers of the commit log tests: temp dirs, golden files, entry builders.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Kind, type Entry } from '../../../lib/storage/types'
import type { Prng } from '../../../lib/util/prng'

export function tempDir(t: { teardown(fn: () => void): void }): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringwood-wal-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  return dir
}

/** The source tree's root (compiled tests run from dist/). */
export function repoRoot(): string {
  let dir = __dirname
  while (!fs.existsSync(path.join(dir, 'tsconfig.json')) || dir.split(path.sep).includes('dist')) {
    const up = path.dirname(dir)
    if (up === dir) throw new Error('repository root not found')
    dir = up
  }
  return dir
}

/** Compares `actual` with test/golden/NAME (hex, 32 bytes a line); RINGWOOD_REWRITE_GOLDEN=1 rewrites it. */
export function goldenHex(name: string, actual: Buffer): { expected: string; actual: string } {
  const file = path.join(repoRoot(), 'test', 'golden', name)
  const hex = (actual.toString('hex').match(/.{1,64}/g) ?? []).join('\n') + '\n'
  if (process.env['RINGWOOD_REWRITE_GOLDEN'] === '1' || !fs.existsSync(file)) fs.writeFileSync(file, hex)
  return { expected: fs.readFileSync(file, 'utf8'), actual: hex }
}

export function put(key: string, value: string, seq = 0): Entry {
  return { key: Buffer.from(key), seq, kind: Kind.Put, expiresAtMs: 0, value: Buffer.from(value) }
}

export function randomEntry(prng: Prng): Entry {
  const kind = prng.pick([Kind.Del, Kind.Put, Kind.Put, Kind.PutTtl] as const)
  return {
    key: prng.bytes(prng.range(0, 24)),
    seq: 0,
    kind,
    expiresAtMs: kind === Kind.PutTtl ? prng.range(0, 2 ** 52) : 0,
    value: kind === Kind.Del ? Buffer.alloc(0) : prng.bytes(prng.range(0, 200)),
  }
}

/** Entries compared without their seq and with Buffers as hex. */
export function plain(e: Entry): [number, string, number, string] {
  return [e.kind, e.key.toString('hex'), e.expiresAtMs, e.value.toString('hex')]
}
