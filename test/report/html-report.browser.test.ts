import { pathToFileURL } from "node:url";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { closeBrowser, openPage } from "../helpers/browser.js";
import { cleanup, gitProject, readEvents, recStep, ws } from "../run/rig.js";
import { deployDemo, report } from "./report-page.js";

afterEach(cleanup);
afterAll(closeBrowser);

describe("ws report in a real browser", () => {
  it("the deploy demo's page opens from disk with no console error and no request, one bar per attempt, each bar named when focused", async () => {
    const p = deployDemo();
    expect(ws(p, ["run", "ws-deploy-pipeline"]).code).toBe(0);
    const { file } = report(p, "ws-deploy-pipeline");
    const { page, requests, problems } = await openPage(pathToFileURL(file).href);
    try {
      const starts = readEvents(p, "ws-deploy-pipeline").filter((e) => e.type === "step-start").map((e) => `${e.step}/${e.attempt as number}`);
      const shown = await page.locator("[data-step][data-attempt]").evaluateAll((els) => els.map((e) => `${e.getAttribute("data-step")}/${e.getAttribute("data-attempt")}`));
      expect(shown.sort()).toEqual(starts.sort());
      expect(await page.locator("section[id^='step-']").count()).toBe(10);
      // Each bar is laid out with a width (drawn, not only present in the markup).
      const widths = await page.locator("a.bar rect.k-attempt").evaluateAll((els) => els.map((e) => e.getBoundingClientRect().width));
      expect(widths.every((w) => w > 0)).toBe(true);
      // The keyboard reaches a bar, and the page says what it is.
      await page.locator('a.bar[data-step="prepare"]').focus();
      expect(await page.locator("#focused").textContent()).toMatch(/^prepare · attempt 1 \(shell\) · start \+/);
      expect(requests).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await page.context().close();
    }
  });

  it("with scripts off the page still shows every bar and section", async () => {
    const p = gitProject([{ id: "two", steps: [recStep("a", ["--fail-first", 1], { retries: 1 }), recStep("b", [], { depends_on: ["a"] })] }]);
    expect(ws(p, ["run", "two"]).code).toBe(0);
    const { file } = report(p, "two");
    const { page, requests, problems } = await openPage(pathToFileURL(file).href, { width: 1000, height: 700 }, { javaScriptEnabled: false });
    try {
      expect(await page.locator("a.bar").evaluateAll((els) => els.map((e) => `${e.getAttribute("data-step")}/${e.getAttribute("data-attempt")}`))).toEqual(["a/1", "a/2", "b/1"]);
      expect(await page.locator("#step-a .attempt").count()).toBe(2);
      expect(await page.locator("#step-a details.feedback summary").textContent()).toBe("what the retry was told");
      expect(requests).toEqual([]);
      expect(problems).toEqual([]);
    } finally {
      await page.context().close();
    }
  });
});
