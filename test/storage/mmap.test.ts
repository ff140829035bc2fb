// lib/storage/mmap: MmapFile views, the reader choice of openTableFile (option, env var,
// missing addon), and that a view outlives close() safely (the GC owns the mapping).

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import t from 'tap'
import { AssertionError } from '../../lib/assert'
import { chooseReader, MmapFile, native, openTableFile } from '../../lib/storage/mmap/index'
import { PreadFile } from '../../lib/storage/fs/real_fs'
import { catchErr } from '../support/tmp'

function tmpFile(t: { teardown(fn: () => void): void }, bytes: Buffer): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ringwood-mmap-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'f')
  fs.writeFileSync(file, bytes)
  return file
}

t.test('MmapFile reads zero-copy views', { skip: native === undefined ? 'addon not built' : false }, async (t) => {
  const data = Buffer.from('0123456789abcdef')
  const f = new MmapFile(tmpFile(t, data), native!)
  t.equal(f.size, 16)
  const v = f.read(4, 6)
  t.equal(v.toString(), '456789')
  t.equal(v.buffer, f.mapping.buffer, 'a view into the mapping, not a copy')
  t.type(catchErr(() => f.read(10, 7)), AssertionError, 'read past the end')
  f.close()
  t.equal(v.toString(), '456789', 'a view taken before close is still memory-safe')
  t.type(catchErr(() => f.read(0, 1)), AssertionError, 'read after close')
})

t.test('MmapFile maps an empty file', { skip: native === undefined ? 'addon not built' : false }, async (t) => {
  const f = new MmapFile(tmpFile(t, Buffer.alloc(0)), native!)
  t.equal(f.size, 0)
  t.equal(f.read(0, 0).length, 0)
  f.close()
})

t.test('openTableFile: option, then RINGWOOD_READER, then the addon decide', async (t) => {
  const file = tmpFile(t, Buffer.from('x'))
  const saved = process.env['RINGWOOD_READER']
  t.teardown(() => {
    if (saved === undefined) delete process.env['RINGWOOD_READER']
    else process.env['RINGWOOD_READER'] = saved
  })
  delete process.env['RINGWOOD_READER']
  t.equal(chooseReader(), native === undefined ? 'pread' : 'mmap')
  t.equal(chooseReader({ reader: 'pread' }), 'pread')
  process.env['RINGWOOD_READER'] = 'pread'
  t.equal(chooseReader(), 'pread')
  t.equal(chooseReader({ reader: 'mmap' }), native === undefined ? 'pread' : 'mmap', 'the option overrides the env var')
  const f = openTableFile(file)
  t.type(f, PreadFile)
  f.close()
})

t.test('hugePages advises a SharedArrayBuffer (THP in madvise mode) and leaves its bytes alone', { skip: native === undefined ? 'addon not built' : false }, async (t) => {
  const sab = new SharedArrayBuffer(8 * 1024 * 1024 + 64)
  const u8 = new Uint8Array(sab)
  u8[0] = 7
  u8[u8.length - 1] = 9
  const thp = fs.existsSync('/sys/kernel/mm/transparent_hugepage/enabled') ? fs.readFileSync('/sys/kernel/mm/transparent_hugepage/enabled', 'utf8') : ''
  const took = native!.hugePages!(new Int32Array(sab, 64))
  t.equal(typeof took, 'boolean')
  if (/\[(madvise|always)\]/.test(thp)) t.equal(took, true, `the kernel takes the advice (${thp.trim()})`)
  t.equal(u8[0], 7)
  t.equal(u8[u8.length - 1], 9, 'contents unchanged')
  t.equal(native!.hugePages!(new Uint8Array(0)), false, 'an empty view: nothing to advise')
})
