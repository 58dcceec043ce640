/**
 * Bundles the CLI (and with it the whole node) into one CommonJS file for the single executable,
 * plus the writer thread's script, which runs as its own eval'd worker. Native addons and the
 * lz4 WebAssembly are not bundled; they travel as SEA assets (see package.ts).
 */
import { build, type Plugin } from 'esbuild';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * lz4-wasm-nodejs reads its .wasm from next to its own file, which doesn't exist in the
 * executable, and instantiates it as soon as it is loaded. In the bundle it reads the embedded
 * asset instead, and only when compress or decompress is first called: most gateways never see
 * an lz4 batch, and the instance costs a few MB.
 */
const LZ4_EAGER = `const path = require('path').join(__dirname, 'lz4_wasm_nodejs_bg.wasm');
const bytes = require('fs').readFileSync(path);

const wasmModule = new WebAssembly.Module(bytes);
const wasmInstance = new WebAssembly.Instance(wasmModule, imports);
wasm = wasmInstance.exports;
module.exports.__wasm = wasm;`;

const LZ4_LAZY = `function eddyInstantiate() {
  if (wasm) return;
  const bytes = require('node:sea').getAsset('lz4_wasm_nodejs_bg.wasm');
  wasm = new WebAssembly.Instance(new WebAssembly.Module(bytes), imports).exports;
}
for (const name of ['compress', 'decompress']) {
  const f = module.exports[name];
  module.exports[name] = function (input) {
    eddyInstantiate();
    return f(input);
  };
}`;

const lz4WasmFromAsset: Plugin = {
  name: 'lz4-wasm-from-sea-asset',
  setup(b) {
    b.onLoad({ filter: /lz4-wasm-nodejs[\\/]lz4_wasm_nodejs\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      if (!source.includes(LZ4_EAGER)) throw new Error(`${args.path} no longer loads its wasm the way the bundle expects; update packaging/bundle.ts`);
      return { contents: source.replace(LZ4_EAGER, LZ4_LAZY), loader: 'js' };
    });
  },
};

/**
 * prom-client's index requires its whole library up front, and with it Node's cluster, https,
 * tls, zlib and child_process modules (for AggregatorRegistry and Pushgateway, which Eddy never
 * uses) and every default-metric collector. In the bundle each export is a getter that requires
 * its module on first use, so the node loads only Registry, Counter and Gauge (and the default
 * collectors when it serves /metrics).
 */
const PROM_EXPORT = /^exports\.(\w+) =\s*require\('(\.\/lib\/\w+)'\)(\.\w+)?;$/gm;

const promClientLazy: Plugin = {
  name: 'prom-client-lazy-exports',
  setup(b) {
    b.onLoad({ filter: /prom-client[\\/]index\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      let n = 0;
      const contents = source.replace(PROM_EXPORT, (_, name: string, path: string, member = '') => {
        n++;
        return `Object.defineProperty(exports, '${name}', { enumerable: true, configurable: true, get: () => require('${path}')${member} });`;
      });
      if (n < 10 || /^exports\.\w+ =\s*require\(/m.test(contents)) {
        throw new Error(`${args.path} no longer exports its modules the way the bundle expects; update packaging/bundle.ts`);
      }
      return { contents, loader: 'js' };
    });
  },
};

/**
 * Node modules a package requires as it loads but uses only on a path the node does not take.
 * ws's WebSocket needs https and tls only to open wss:// connections, yet the server loads it too;
 * loading tls (OpenSSL's TLS layer) costs ~2 MB of resident memory. In the bundle each of these
 * is required on its first use instead.
 */
const LAZY_NODE_REQUIRES: { file: RegExp; modules: string[] }[] = [{ file: /[\\/]ws[\\/]lib[\\/]websocket\.js$/, modules: ['https', 'tls'] }];

const lazyNodeRequires: Plugin = {
  name: 'lazy-node-requires',
  setup(b) {
    for (const { file, modules } of LAZY_NODE_REQUIRES) {
      b.onLoad({ filter: file }, (args) => {
        let source = readFileSync(args.path, 'utf8');
        for (const m of modules) {
          const eager = `const ${m} = require('${m}');`;
          if (!source.includes(eager)) throw new Error(`${args.path} no longer has \`${eager}\`; update packaging/bundle.ts`);
          source = source.replace(eager, `const ${m} = new Proxy({}, { get: (_, name) => require('${m}')[name] });`);
        }
        return { contents: source, loader: 'js' };
      });
    }
  },
};

export async function bundle(outDir: string, version: string, sqliteLib: string): Promise<{ main: string; worker: string }> {
  const main = join(outDir, 'eddy.cjs');
  const worker = join(outDir, 'writer-worker.cjs');
  const common = {
    bundle: true,
    platform: 'node' as const,
    format: 'cjs' as const,
    target: 'node24',
    minify: true,
    keepNames: false,
    legalComments: 'eof' as const,
    logLevel: 'warning' as const,
    // import.meta.url only appears on paths the packaged executable doesn't take (node_modules
    // lookups); see runtime/packaged.ts.
    logOverride: { 'empty-import-meta': 'silent' as const },
    alias: { 'better-sqlite3': sqliteLib },
  };
  await build({
    ...common,
    entryPoints: ['cli/main.ts'],
    outfile: main,
    // ws's optional native helpers are not installed; ws works without them.
    external: ['bufferutil', 'utf-8-validate'],
    banner: { js: `/* Eddy ${version}: bundled for the single executable */` },
    plugins: [lz4WasmFromAsset, promClientLazy, lazyNodeRequires],
  });
  await build({ ...common, entryPoints: ['node/storage/writer-worker.js'], outfile: worker });
  return { main, worker };
}
