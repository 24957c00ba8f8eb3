import { Resvg } from "@resvg/resvg-js";
import fs from "node:fs";
import { describe, expect, it } from "vitest";
import { renderDot } from "../../src/render/dot.js";
import { fontFiles, svgToPng } from "../../src/render/png.js";
import { dotToSvg } from "../../src/render/svg.js";
import { handmadeView } from "./helpers.js";
import { pngSize } from "./svg-text.js";

function darkPixels(svg: string): number {
  const image = new Resvg(svg, { font: { loadSystemFonts: false, fontFiles: fontFiles(), defaultFontFamily: "DejaVu Sans" } }).render();
  let dark = 0;
  const px = image.pixels;
  for (let i = 0; i < px.length; i += 4) if (px[i + 3]! > 128 && px[i]! < 100) dark++;
  return dark;
}

describe("svgToPng", () => {
  it("writes a PNG whose IHDR size is what was asked for (zoom 2 by default)", () => {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="200" height="100"><rect width="200" height="100" fill="#eee"/></svg>';
    const image = svgToPng(svg);
    expect(pngSize(image.data)).toEqual({ width: 400, height: 200 });
    expect(image).toMatchObject({ width: 400, height: 200 });
    expect(pngSize(svgToPng(svg, { zoom: 1 }).data)).toEqual({ width: 200, height: 100 });
  });

  it("ships its font: the files exist and text is drawn with system fonts off", () => {
    for (const file of fontFiles()) expect(fs.existsSync(file)).toBe(true);
    const text = '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="60"><text x="10" y="45" font-family="DejaVu Sans" font-size="40">Hello</text></svg>';
    expect(darkPixels(text)).toBeGreaterThan(100);
    // The control: resvg with no font draws nothing for the same text (why fontFiles matters).
    const none = new Resvg(text, { font: { loadSystemFonts: false } }).render().pixels;
    expect(none.some((v) => v !== 0)).toBe(false);
  });

  it("renders a graph's labels: dropping the <text> elements changes the pixels", async () => {
    const svg = await dotToSvg(renderDot(handmadeView()));
    const withText = svgToPng(svg);
    const withoutText = svgToPng(svg.replace(/<text\b[^>]*>[^<]*<\/text>/g, ""));
    expect(pngSize(withText.data)).toEqual({ width: withText.width, height: withText.height });
    expect(withText.width).toBeGreaterThan(100);
    expect(withoutText.width).toBe(withText.width);
    expect(Buffer.compare(withText.data, withoutText.data)).not.toBe(0);
  });
});
