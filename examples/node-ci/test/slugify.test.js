import assert from "node:assert/strict";
import { test } from "node:test";
import { slugify } from "../src/slugify.js";

test("punctuation and spaces become one dash", () => {
  assert.equal(slugify("Hello, World!"), "hello-world");
});

test("no leading or trailing dash", () => {
  assert.equal(slugify("  --Already-Slugged--  "), "already-slugged");
});

test("accents are dropped, not turned into dashes", () => {
  assert.equal(slugify("Crème Brûlée"), "creme-brulee");
});
