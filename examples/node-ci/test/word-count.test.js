import assert from "node:assert/strict";
import { test } from "node:test";
import { wordCount } from "../src/word-count.js";

test("one word", () => {
  assert.equal(wordCount("one"), 1);
});

test("runs of whitespace separate words", () => {
  assert.equal(wordCount("  two \t\n words "), 2);
});

test("only whitespace is no word", () => {
  assert.equal(wordCount(" \n "), 0);
});
