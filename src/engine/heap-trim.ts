import v8 from "node:v8";
import vm from "node:vm";

/**
 * Keeps a long run's heap near what is alive in it. What lives as long as a step (its promises,
 * its attempt, its events) survives two scavenges of the small young generation and is promoted;
 * V8 then starts no major GC until the old generation reaches a limit it sets at start-up, far
 * above what a run keeps: a 1000-step run grew its heap from 14 to 33 MB of which ~10 MB was
 * alive (`gc()` at its end), and no mark-compact ran at all (bench/NOTES.md, issue 32). So after
 * a step ends, if the heap has grown by GROWTH since its low point, an incremental major GC is
 * started (`execution: "async"`: marking runs in steps and on V8's helper threads, so the main
 * thread pays well under a millisecond; measured in bench/NOTES.md).
 *
 * `gc` is V8's own extension, exposed at run time by setting its flag before the first context is
 * made (vm.runInNewContext makes one): Node's documented `--expose-gc` without asking users for a
 * flag. Where that is refused, nothing is trimmed.
 */
const GROWTH_MIN = 4 * 1024 * 1024;
/** ...or this share of what the heap held at its low point, so a 50 000-step run is not collected every few steps. */
const GROWTH_SHARE = 0.25;

type Gc = (options: { type: "major"; execution: "async" }) => void;

let gc: Gc | undefined | null;
let low = Infinity;

function exposedGc(): Gc | undefined {
  if (gc !== undefined) return gc ?? undefined;
  try {
    v8.setFlagsFromString("--expose-gc");
    const found: unknown = vm.runInNewContext("gc");
    gc = typeof found === "function" ? (found as Gc) : null;
  } catch {
    gc = null;
  }
  return gc ?? undefined;
}

/** Called at each step's end: starts a major GC when the heap grew enough since its low point. */
export function trimHeap(): void {
  const used = v8.getHeapStatistics().used_heap_size;
  if (used < low) low = used;
  if (used - low < Math.max(GROWTH_MIN, low * GROWTH_SHARE)) return;
  exposedGc()?.({ type: "major", execution: "async" });
  // The collection lowers `used` over the next steps; the low point follows it down from here.
  low = used;
}
