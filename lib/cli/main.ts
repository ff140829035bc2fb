#!/usr/bin/env node
// The `ringwood` command line. Each command is one small module; this file only dispatches.

import { runDemo } from './demo'
import { runClusterDemo } from './cluster_demo'
import { dumpSstableLines } from '../storage/sstable'
import { dumpWal } from '../storage/wal/dump'
import { checkDirectory } from '../storage/checker'
import { KvError } from '../errors'

const usage = `usage: ringwood <command> [args]

commands:
  demo                 a short guided run of the embedded cluster on a temporary directory (npm start)
  engine-demo          a short guided run of the storage engine alone
  dump-wal FILE        every record of a commit log segment (NNNNNN.log), checksums verified
  dump-sstable FILE    footer, properties, index and every entry of an SSTable (NNNNNN.sst)
  check DIR            offline check of a data directory: manifest, tables, checksums, key order, logs
  help                 this text`

async function main(argv: string[]): Promise<number> {
  const [cmd, arg] = argv
  switch (cmd) {
    case 'demo':
      await runClusterDemo()
      return 0
    case 'engine-demo':
      await runDemo()
      return 0
    case 'dump-wal':
      if (arg === undefined) return fail('dump-wal needs a FILE')
      process.stdout.write(dumpWal(arg))
      return 0
    case 'dump-sstable':
      if (arg === undefined) return fail('dump-sstable needs a FILE')
      for (const line of dumpSstableLines(arg)) process.stdout.write(line + '\n')
      return 0
    case 'check': {
      if (arg === undefined) return fail('check needs a DIR')
      const r = checkDirectory(arg)
      for (const w of r.warnings) console.log(`warning: ${w}`)
      for (const p of r.problems) console.log(`PROBLEM: ${p}`)
      console.log(`${r.ok ? 'ok' : 'FAILED'}: ${r.tables} tables, ${r.entries} table entries, ${r.logRecords} log records checked`)
      return r.ok ? 0 : 1
    }
    case undefined:
    case 'help':
    case '--help':
      console.log(usage)
      return 0
    default:
      return fail(`unknown command '${cmd}'`)
  }
}

function fail(message: string): number {
  console.error(`ringwood: ${message}\n\n${usage}`)
  return 2
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof KvError) console.error(`ringwood: ${err.code}: ${err.message}`)
    else console.error(err)
    process.exit(1)
  },
)
