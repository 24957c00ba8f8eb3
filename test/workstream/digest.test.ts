import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { fileDigest, sameFile } from "../../src/workstream/digest.js";

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function fileWith(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ws-digest-"));
  dirs.push(dir);
  const file = path.join(dir, "w.json");
  fs.writeFileSync(file, text);
  return file;
}

describe("fileDigest", () => {
  it("is a function of the bytes: the same bytes, the same digest; any one byte changed, another", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 2000 }), fc.nat(), fc.integer({ min: 1, max: 255 }), (bytes, at, flip) => {
        const changed = Uint8Array.from(bytes);
        changed[at % bytes.length]! ^= flip;
        return fileDigest(Uint8Array.from(bytes)) === fileDigest(bytes) && fileDigest(changed) !== fileDigest(bytes);
      }),
      { numRuns: 500 },
    );
  });

  it("tells apart files that differ only in length (a trailing newline) or in the order of two bytes", () => {
    expect(fileDigest(Buffer.from('{"id":"w"}'))).not.toBe(fileDigest(Buffer.from('{"id":"w"}\n')));
    expect(fileDigest(Buffer.from("ab"))).not.toBe(fileDigest(Buffer.from("ba")));
    expect(fileDigest(new Uint8Array())).toMatch(/^fnv2-0-[0-9a-f]{16}$/);
  });
});

describe("sameFile", () => {
  it("compares a digest with the file's, and a sha256 recorded by an earlier ws with the file's sha256", () => {
    const text = '{"id":"w","steps":[{"id":"a","run":"true"}]}\n';
    const file = fileWith(text);
    const ws = { file, hash: fileDigest(Buffer.from(text)) };
    expect(sameFile(ws.hash, ws)).toBe(true);
    expect(sameFile(fileDigest(Buffer.from(text + " ")), ws)).toBe(false);
    expect(sameFile(createHash("sha256").update(text).digest("hex"), ws)).toBe(true);
    expect(sameFile(createHash("sha256").update(text + " ").digest("hex"), ws)).toBe(false);
    expect(sameFile(undefined, ws)).toBe(false);
  });
});
