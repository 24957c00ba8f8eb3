/**
 * DOT → SVG offline, in-process, with Graphviz compiled to WebAssembly. Imported lazily (by the
 * graph command, only for svg/png) because loading the wasm module costs ~100 ms.
 */
export async function dotToSvg(dot: string): Promise<string> {
  const { Graphviz } = await import("@hpcc-js/wasm-graphviz");
  const graphviz = await Graphviz.load();
  return graphviz.dot(dot);
}
