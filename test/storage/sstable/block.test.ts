// Blocks (FORMAT.md §3.1): prefix compression and restart points written by BlockBuilder, read
// back by BlockIterator (both directions, seeks across restart segments) and by findInBlock.

import t from 'tap'
import { BlockBuilder } from '../../../lib/storage/sstable/block_builder'
import { BlockIterator } from '../../../lib/storage/sstable/block_iterator'
import { findInBlock, TableGetResult } from '../../../lib/storage/sstable/block_get'
import { readU32 } from '../../../lib/util/bytes'
import { isKvError } from '../../../lib/errors'
import { Kind } from '../../../lib/storage/types'
import { catchErr } from './helpers'

function build(n: number, interval: number): Buffer {
  const b = new BlockBuilder(interval)
  for (let i = 0; i < n; i++) b.add(Buffer.from(`prefix/key/${String(i).padStart(4, '0')}`), Kind.Put, n - i, 0, Buffer.from(`v${i}`))
  return Buffer.from(b.finish())
}

t.test('prefix compression and restart points', async (t) => {
  const block = build(40, 16)
  t.equal(readU32(block, block.length - 4), 3, 'restarts at entries 0, 16, 32')
  t.equal(readU32(block, block.length - 16), 0, 'restart[0] = 0')
  const full = build(40, 1)
  t.ok(block.length < full.length * 0.7, `compressed ${block.length} vs ${full.length} with full keys`)
  const empty = new BlockBuilder(16).finish()
  t.same([...empty], [0, 0, 0, 0], 'an empty block is restartCount 0')
})

t.test('iterate forward and reverse, seek either way', async (t) => {
  const block = build(40, 16)
  const keys = Array.from({ length: 40 }, (_, i) => `prefix/key/${String(i).padStart(4, '0')}`)
  for (const reverse of [false, true]) {
    const it = new BlockIterator(reverse)
    it.reset(block, 0, block.length, 'f', 0)
    const got: string[] = []
    for (it.seekToStart(); it.valid(); it.next()) got.push(it.key().toString())
    t.same(got, reverse ? keys.slice().reverse() : keys)
    for (const [target, fwd, rev] of [
      ['prefix/key/0016', 16, 16],
      ['prefix/key/00155', 16, 15],
      ['a', 0, -1],
      ['z', -1, 39],
    ] as const) {
      it.seek(Buffer.from(target))
      const want = reverse ? rev : fwd
      t.equal(it.valid() ? it.key().toString() : 'none', want < 0 ? 'none' : keys[want]!, `${reverse ? 'reverse' : 'forward'} seek ${target}`)
    }
  }
})

t.test('findInBlock honors snapshots and stops at larger keys', async (t) => {
  const b = new BlockBuilder(2)
  b.add(Buffer.from('a'), Kind.Put, 9, 0, Buffer.from('a9'))
  b.add(Buffer.from('a'), Kind.Del, 7, 0, Buffer.alloc(0))
  b.add(Buffer.from('a'), Kind.PutTtl, 3, 12345, Buffer.from('a3'))
  b.add(Buffer.from('ab'), Kind.Put, 5, 0, Buffer.from('ab5'))
  const block = Buffer.from(b.finish())
  const out = new TableGetResult()
  const find = (k: string, snap: number): string =>
    findInBlock(block, 0, block.length, Buffer.from(k), snap, out, 'f', 0) ? `${out.seq}/${out.kind}/${out.expiresAtMs}/${out.value}` : 'none'
  t.equal(find('a', 100), '9/1/0/a9')
  t.equal(find('a', 8), '7/0/0/')
  t.equal(find('a', 6), '3/2/12345/a3')
  t.equal(find('a', 2), 'none')
  t.equal(find('ab', 5), '5/1/0/ab5')
  t.equal(find('aa', 100), 'none')
  t.equal(find('b', 100), 'none')
  t.equal(find('', 100), 'none')
})

t.test('malformed blocks are KV_CORRUPTION', async (t) => {
  const block = build(20, 4)
  const it = new BlockIterator(false)
  const bad = Buffer.from(block)
  bad.writeUInt32LE(9999, bad.length - 4)
  t.ok(isKvError(catchErr(() => it.reset(bad, 0, bad.length, 'f', 0)), 'KV_CORRUPTION'), 'restart count too large')
  const kind = Buffer.from(block)
  kind[3 + 'prefix/key/0000'.length] = 7 // the first entry's kind byte
  it.reset(kind, 0, kind.length, 'f', 0)
  t.ok(isKvError(catchErr(() => it.seekToStart()), 'KV_CORRUPTION'), 'unknown kind (iterator)')
  t.ok(isKvError(catchErr(() => findInBlock(kind, 0, kind.length, Buffer.from('prefix/key/0000'), 100, new TableGetResult(), 'f', 0)), 'KV_CORRUPTION'), 'unknown kind (get)')
})
