import assert from "node:assert/strict";
import { test } from "node:test";
import { newest, nextVersion } from "../src/release.js";

test("the next version of each kind", () => {
  assert.equal(nextVersion("1.2.3", "patch"), "1.2.4");
  assert.equal(nextVersion("1.2.3", "minor"), "1.3.0");
  assert.equal(nextVersion("1.2.3", "major"), "2.0.0");
  assert.throws(() => nextVersion("one", "patch"), /not a version/);
});

test("newest compares as versions, not strings", () => {
  assert.equal(newest(["1.9.0", "1.10.0", "1.2.0"]), "1.10.0");
});
