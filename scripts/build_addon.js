// npm's install step: builds the mmap addon (binding.gyp) with node-gyp. If the build fails,
// installation still succeeds: the storage engine then reads SSTables with positional reads
// and says so once when it starts (lib/storage/mmap/index.ts).
'use strict'
const { spawnSync } = require('node:child_process')
const path = require('node:path')

const fs = require('node:fs')

// npm sets npm_config_node_gyp to its bundled node-gyp; run by hand, look beside npm.
const bundled = path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js')
const gyp = process.env.npm_config_node_gyp || (fs.existsSync(bundled) ? bundled : undefined)
const gypArgs = ['rebuild']
// Build against the headers installed with this Node (no download) when npm did not say where.
const prefix = path.join(path.dirname(process.execPath), '..')
if (!process.env.npm_config_nodedir && fs.existsSync(path.join(prefix, 'include', 'node', 'node_api.h'))) {
  gypArgs.push('--nodedir=' + prefix)
}
const [cmd, args] = gyp ? [process.execPath, [gyp, ...gypArgs]] : ['node-gyp', gypArgs]
const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: path.join(__dirname, '..') })
if (r.status !== 0) {
  console.warn(
    'ringwood: the mmap addon did not build (node-gyp exit ' + r.status + '); ' +
      'SSTables will be read with positional reads instead. See README.md, "Native addon".',
  )
}
