import { createRequire } from "node:module";
import path from "node:path";
import { Resvg } from "@resvg/resvg-js";
import { FONT_NAME } from "./dot.js";

export interface PngImage {
  data: Buffer;
  width: number;
  height: number;
}

/**
 * The bundled DejaVu Sans. resvg silently drops text whose font it cannot find, and system fonts
 * differ per machine (or are absent in containers), so the font ships with ws and system fonts
 * are never loaded: the same SVG gives the same PNG everywhere.
 */
export function fontFiles(): string[] {
  const dir = path.join(path.dirname(createRequire(import.meta.url).resolve("dejavu-fonts-ttf/package.json")), "ttf");
  return [path.join(dir, "DejaVuSans.ttf"), path.join(dir, "DejaVuSans-Bold.ttf")];
}

/** SVG → PNG. `zoom` 2 by default: Graphviz sizes in points, which looks blurry at 1:1 on modern screens. */
export function svgToPng(svg: string, options: { zoom?: number } = {}): PngImage {
  const resvg = new Resvg(svg, {
    font: { loadSystemFonts: false, fontFiles: fontFiles(), defaultFontFamily: FONT_NAME, sansSerifFamily: FONT_NAME },
    fitTo: { mode: "zoom", value: options.zoom ?? 2 },
    background: "white",
  });
  const image = resvg.render();
  return { data: image.asPng(), width: image.width, height: image.height };
}
