// Dolos (char mode) over a dump and a set of posts, for scripts/peers.py.
//
//   node scripts/peers_dolos.mjs IN.json OUT.json   (run with NODE_PATH or from
//   a folder whose node_modules holds @dodona/dolos-lib@3.5.1)
//
// IN.json: {"docs": [[path, text], ...], "posts": [[id, text], ...],
//           "kgramLength": optional, "kgramsInWindow": optional, "maxFingerprintCount": optional}
// OUT.json: {"seconds": analyze time, "pairs": {postId: {docPath: sharedFingerprints}},
//            "options": {...}}
// Dolos indexes all files together (one winnowing index, its default k and
// window for the char language unless given) and pairs any two files that
// share a fingerprint; only post-document pairs are kept here.
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { pathToFileURL } from "node:url";
import path from "node:path";

const [inPath, outPath, modulesDir] = process.argv.slice(2);
const req = createRequire(pathToFileURL(path.join(modulesDir || process.cwd(), "x.js")));
const lib = await import(pathToFileURL(req.resolve("@dodona/dolos-lib")).href);
const { Dolos, File } = lib;

const input = JSON.parse(readFileSync(inPath, "utf8"));
const opts = { language: "char" };
if (input.kgramLength) opts.kgramLength = input.kgramLength;
if (input.kgramsInWindow) opts.kgramsInWindow = input.kgramsInWindow;
// Dolos' boilerplate option: fingerprints in more files than this are ignored
if (input.maxFingerprintCount) opts.maxFingerprintCount = input.maxFingerprintCount;
const files = [];
for (const [p, text] of input.docs) {
  const f = new File("doc:" + p, text);
  files.push(f);
}
for (const [id, text] of input.posts) {
  files.push(new File("post:" + id, text));
}
const t0 = process.hrtime.bigint();
const dolos = new Dolos(opts);
const report = await dolos.analyze(files);
const pairs = {};
for (const fp of report.sharedFingerprints()) {
  const fs = fp.files();
  const posts = fs.filter((f) => f.path.startsWith("post:"));
  if (posts.length === 0) continue;
  const docs = fs.filter((f) => f.path.startsWith("doc:"));
  for (const p of posts) {
    const id = p.path.slice(5);
    const m = (pairs[id] ??= {});
    for (const d of docs) {
      const dp = d.path.slice(4);
      m[dp] = (m[dp] || 0) + 1;
    }
  }
}
const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
writeFileSync(
  outPath,
  JSON.stringify({
    seconds,
    options: {
      kgramLength: dolos.options.kgramLength,
      kgramsInWindow: dolos.options.kgramsInWindow,
      maxFingerprintCount: dolos.options.maxFingerprintCount,
    },
    pairs,
  }),
);
