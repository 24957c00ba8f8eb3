import fs from "node:fs";
import { createHash } from "node:crypto";

const PREFIX = "fnv2-";
const SHA256 = /^[0-9a-f]{64}$/;

/**
 * What a run records of its workstream file to tell later whether the file changed (a resume, a
 * report, the one-worker comparison): its length and two 32-bit hashes of its bytes (FNV-1a and
 * a multiply-xorshift lane), `fnv2-<length>-<16 hex>`. Not a cryptographic digest, and not
 * meant to be: nothing trusts it against someone forging a file. It replaced a sha256 because
 * node:crypto, loaded for that one hash, cost a one-step run ~10 ms of CPU and 1 MB of memory
 * (bench/NOTES.md, issue 32); a run recorded with the sha256 is still compared by it (sameFile).
 */
export function fileDigest(bytes: Uint8Array): string {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i]!;
    a = Math.imul(a ^ byte, 0x01000193);
    b = Math.imul(b ^ byte, 0x5bd1e995);
    b ^= b >>> 15;
  }
  return `${PREFIX}${bytes.length}-${hex(a)}${hex(b)}`;
}

function hex(n: number): string {
  return (n >>> 0).toString(16).padStart(8, "0");
}

/**
 * Whether `recorded` (a run's record of its file) is the file `ws` was loaded from. A record of
 * a ws before fileDigest is a sha256 of the bytes: that is computed again, from the file.
 */
export function sameFile(recorded: string | undefined, ws: { hash: string; file: string }): boolean {
  if (recorded === ws.hash) return true;
  if (recorded === undefined || !SHA256.test(recorded)) return false;
  try {
    return createHash("sha256").update(fs.readFileSync(ws.file)).digest("hex") === recorded;
  } catch {
    return false;
  }
}
