// The `ringwood` command line on a real data directory: check, dump-wal, dump-sstable, and a
// damaged table reported by check with a non-zero exit code.

import t from 'tap'
import { spawnSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { Engine } from '../../lib/storage'
import { tempDir } from '../support/tmp'

const main = path.join(__dirname, '..', '..', 'lib', 'cli', 'main.js')
const run = (...args: string[]): { code: number | null; out: string } => {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8' })
  return { code: r.status, out: r.stdout + r.stderr }
}

t.test('check, dump-wal and dump-sstable on a data directory', async (t) => {
  const dir = tempDir(t)
  const e = await Engine.open(dir, { compactionInline: true })
  for (let i = 0; i < 100; i++) await e.put(`key${i}`, `value${i}`)
  await e.compactAll()
  await e.put('in-the-log', 'yes')
  await e.close()
  const check = run('check', dir)
  t.equal(check.code, 0, check.out)
  t.match(check.out, /^ok: 1 tables, 100 table entries, 1 log records checked/m)
  const log = fs.readdirSync(dir).filter((n) => n.endsWith('.log')).map((n) => path.join(dir, n)).find((p) => fs.statSync(p).size > 0)!
  const wal = run('dump-wal', log)
  t.equal(wal.code, 0)
  t.match(wal.out, /in-the-log/)
  const sst = path.join(dir, fs.readdirSync(dir).find((n) => n.endsWith('.sst'))!)
  const dump = run('dump-sstable', sst)
  t.equal(dump.code, 0)
  t.match(dump.out, /"key42" seq=0 PUT value="value42"/)
  t.match(dump.out, /ok: 100 entries, every checksum verified/)

  const fd = fs.openSync(sst, 'r+')
  fs.writeSync(fd, Buffer.from([0xff]), 0, 1, 10)
  fs.closeSync(fd)
  const bad = run('check', dir)
  t.equal(bad.code, 1, 'a damaged table fails the check')
  t.match(bad.out, /PROBLEM: .*\.sst/)
  t.equal(run('no-such-command').code, 2)
  t.equal(run('check').code, 2, 'a missing argument is a usage error')
})
