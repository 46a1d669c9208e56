// Precompresses the build's text assets (gzip and brotli, best level) beside the originals,
// so pbk serves them without compressing per request. Both outputs are deterministic.
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const outDir = process.env.PBK_ADMIN_OUT_DIR || new URL("../../pbk_admin/dist", import.meta.url).pathname;
const compressible = /\.(js|css|html|svg|json|txt)$/;

function* files(dir) {
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* files(path);
    else if (compressible.test(name)) yield path;
  }
}

for (const path of files(outDir)) {
  const data = readFileSync(path);
  writeFileSync(path + ".gz", gzipSync(data, { level: 9 }));
  writeFileSync(path + ".br", brotliCompressSync(data, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
    },
  }));
}
