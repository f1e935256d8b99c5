// The reviewer's diff: what the current code would change in each reference stack versus the
// pinned templates (the syrupy snapshots), through the CDK's own diff engine.
// Usage: node tools/review-diff.cjs <pinned dir> <cdk.out dir>   (run by `make diff`)
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const { fullDiff, formatDifferences } = require("@aws-cdk/cloudformation-diff");

const [pinnedDir, currentDir] = process.argv.slice(2);
const ASSET_HASH = /\b[0-9a-f]{64}\b/g; // masked in the snapshots too

function stacks(dir, suffix) {
  return fs.existsSync(dir)
    ? fs.readdirSync(dir).filter((f) => f.endsWith(suffix)).map((f) => f.slice(0, -suffix.length))
    : [];
}

function read(file) {
  return fs.existsSync(file)
    ? JSON.parse(fs.readFileSync(file, "utf8").replace(ASSET_HASH, "<asset-hash>"))
    : {};
}

const names = [...new Set([...stacks(pinnedDir, ".json"), ...stacks(currentDir, ".template.json")])].sort();
let changed = 0;
for (const name of names) {
  const diff = fullDiff(
    read(path.join(pinnedDir, `${name}.json`)),
    read(path.join(currentDir, `${name}.template.json`)),
  );
  process.stdout.write(`\n=== Stack ${name}\n`);
  if (diff.isEmpty) {
    process.stdout.write("There were no differences\n");
    continue;
  }
  changed += 1;
  formatDifferences(process.stdout, diff);
}
process.stdout.write(`\n${changed} of ${names.length} stacks differ from the pinned templates.\n`);
