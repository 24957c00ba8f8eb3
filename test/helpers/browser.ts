import fs from "node:fs";
import { chromium, type Browser, type BrowserContextOptions, type Page } from "playwright-core";

/**
 * A real browser for the tests that look at what ws draws: Debian's chromium (`.ci/run` installs
 * it), driven by playwright-core (which downloads nothing). Every request the page makes and every
 * console message and page error are recorded, so a test can say "opened from disk, asked the
 * network for nothing, logged no error".
 */

export const CHROMIUM = process.env.WS_CHROMIUM ?? "/usr/bin/chromium";

export interface OpenedPage {
  page: Page;
  /** Every URL requested after the page's own (file://) URL. */
  requests: string[];
  /** console.error/warning messages and uncaught page errors. */
  problems: string[];
}

let shared: Promise<Browser> | undefined;

/** One browser per test file (launching costs ~1 s); closed by `closeBrowser` in an afterAll. */
export function browser(): Promise<Browser> {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: apt-get install chromium (.ci/run does), or set WS_CHROMIUM`);
  shared ??= chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
  return shared;
}

export async function closeBrowser(): Promise<void> {
  const b = shared;
  shared = undefined;
  await (await b)?.close();
}

/** Opens `url` (a file:// URL or an http one) in a fresh page of the given size and waits for it to load; `options` go to its context (e.g. `javaScriptEnabled: false`). */
export async function openPage(url: string, size = { width: 1280, height: 900 }, options: BrowserContextOptions = {}): Promise<OpenedPage> {
  const context = await (await browser()).newContext({ ...options, viewport: size });
  const page = await context.newPage();
  const requests: string[] = [];
  const problems: string[] = [];
  page.on("request", (request) => {
    if (request.url() !== url) requests.push(request.url());
  });
  page.on("console", (message) => {
    if (message.type() === "error" || message.type() === "warning") problems.push(`${message.type()}: ${message.text()}`);
  });
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  await page.goto(url, { waitUntil: "load" });
  return { page, requests, problems };
}
