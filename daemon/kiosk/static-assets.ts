/**
 * The files the kiosk page is made of: daemon/kiosk/web (plain HTML, CSS and
 * ES modules, no bundler) and the QR decoder from the zxing-wasm package,
 * served by the gateway itself so the kiosk works with no internet. The set
 * is fixed when the server starts: a request can only name one of them.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface StaticAsset {
  readonly body: Buffer;
  readonly contentType: string;
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.webmanifest': 'application/manifest+json',
  '.wasm': 'application/wasm',
};

/** zxing-wasm's reader build, by its path inside the package's dist/. */
const ZXING_FILES = ['es/reader/index.js', 'es/share.js', 'reader/zxing_reader.wasm'];
export const ZXING_PREFIX = '/vendor/zxing-wasm/';

/** The page's source directory: next to this module in the source tree, copied next to it by `npm run build`. */
export function webDirectory(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, 'web');
  if (existsSync(beside)) return beside;
  // dist/daemon/kiosk -> daemon/kiosk/web, when the build did not copy it.
  return join(here, '..', '..', '..', 'daemon', 'kiosk', 'web');
}

function zxingDist(): string {
  const require = createRequire(import.meta.url);
  // The package exports its wasm file; its directory is dist/reader.
  return dirname(dirname(require.resolve('zxing-wasm/reader/zxing_reader.wasm')));
}

export function loadStaticAssets(dir: string = webDirectory()): Map<string, StaticAsset> {
  const assets = new Map<string, StaticAsset>();
  const add = (path: string, file: string): void => {
    const contentType = CONTENT_TYPES[extname(file)];
    if (contentType !== undefined) assets.set(path, { body: readFileSync(file), contentType });
  };
  for (const name of readdirSync(dir)) add(`/${name}`, join(dir, name));
  const index = assets.get('/index.html');
  if (index === undefined) throw new Error(`the kiosk page is missing: no index.html in ${dir}`);
  assets.set('/', index);
  const dist = zxingDist();
  for (const file of ZXING_FILES) add(`${ZXING_PREFIX}${file}`, join(dist, file));
  return assets;
}
