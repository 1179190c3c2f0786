// The JavaScript client's TypeScript declarations, from the wire contract's
// JSON Schema (docs/protocol.schema.json) with json-schema-to-typescript.
// Usage: node scripts/contract-ts.mjs TOOLS_DIR SCHEMA OUT (TOOLS_DIR holds
// the package's node_modules: scripts/contract installs it there).
import { readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";

const [toolsDir, schemaPath, outPath] = process.argv.slice(2);
const { compile } = createRequire(join(toolsDir, "package.json"))("json-schema-to-typescript");

const schema = JSON.parse(readFileSync(schemaPath, "utf8"));
const ts = await compile(schema, "ChatWireContract", {
  bannerComment:
    "/* Generated from docs/protocol.schema.json (itself generated from domain/src/protocol) by scripts/contract: do not edit. */",
  // Every definition, not only those the (empty) root reaches.
  unreachableDefinitions: true,
  additionalProperties: false,
  format: true,
  style: { printWidth: 120 },
});
writeFileSync(outPath, ts);
