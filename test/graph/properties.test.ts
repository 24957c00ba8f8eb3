import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { checkGraph } from "../../src/graph/check.js";
import { criticalPath } from "../../src/graph/critical-path.js";
import { findCycles } from "../../src/graph/cycles.js";
import { findScopeConflicts, plainPrefix } from "../../src/graph/conflicts.js";
import { buildGraph, type Graph } from "../../src/graph/graph.js";
import { acyclicPart, waves } from "../../src/graph/order.js";
import { ancestors, descendants, reachability, type Reachability } from "../../src/graph/reachability.js";
import { compilePattern, isAbsolute, literalPrefix, matchesScope, normalizeScopePattern, patternsOverlap, scopeEntryProblem } from "../../src/scope/patterns.js";
import type { Workstream } from "../../src/workstream/model.js";
import { makeWs } from "./make-ws.js";

/** Ranks 0..n-1; an edge [lo, hi] means rank hi depends on rank lo; steps appear in `order`. */
interface RandomDag {
  n: number;
  edges: Array<[number, number]>;
  order: number[];
}

const dagArbitrary: fc.Arbitrary<RandomDag> = fc.integer({ min: 1, max: 24 }).chain((n) =>
  fc.record({
    n: fc.constant(n),
    edges: fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 3 * n }).map(orientedUnique),
    order: fc.shuffledSubarray(
      Array.from({ length: n }, (_, i) => i),
      { minLength: n, maxLength: n },
    ),
  }),
);

/** Drops self-loops and duplicates, orients each edge from the lower rank to the higher. */
function orientedUnique(pairs: Array<[number, number]>): Array<[number, number]> {
  const seen = new Map<string, [number, number]>();
  for (const [x, y] of pairs) if (x !== y) seen.set(`${Math.min(x, y)}-${Math.max(x, y)}`, [Math.min(x, y), Math.max(x, y)]);
  return [...seen.values()];
}

function wsOf(dag: RandomDag, extra: Array<[number, number]> = []): Workstream {
  const deps = new Map<number, string[]>();
  for (const [lo, hi] of [...dag.edges, ...extra]) deps.set(hi, [...(deps.get(hi) ?? []), `r${lo}`]);
  return makeWs(dag.order.map((rank) => ({ id: `r${rank}`, dependsOn: deps.get(rank) ?? [] })));
}

function graphOf(dag: RandomDag, extra: Array<[number, number]> = []): Graph {
  return buildGraph(wsOf(dag, extra));
}

function edgesOf(g: Graph): Array<[number, number]> {
  return g.deps.flatMap((list, node) => list.map((dep): [number, number] => [node, dep]));
}

function naiveReaches(g: Graph, from: number, to: number): boolean {
  const seen = new Set<number>();
  const stack = [...g.deps[to]!];
  while (stack.length > 0) {
    const node = stack.pop()!;
    if (node === from) return true;
    if (seen.has(node)) continue;
    seen.add(node);
    stack.push(...g.deps[node]!);
  }
  return false;
}

describe("random DAGs", () => {
  it("have no cycles, and order and waves respect every edge", () => {
    fc.assert(
      fc.property(dagArbitrary, (dag) => {
        const g = graphOf(dag);
        expect(findCycles(g)).toEqual([]);
        expect(checkGraph(wsOf(dag), undefined)).toEqual([]);
        const order = acyclicPart(g);
        expect([...order].sort((a, b) => a - b)).toEqual(g.ids.map((_, i) => i));
        const position = new Map(order.map((node, k) => [node, k]));
        const wave = new Map(waves(g).flatMap((nodes, k) => nodes.map((node) => [node, k] as const)));
        expect(wave.size).toBe(dag.n);
        for (const [node, dep] of edgesOf(g)) {
          expect(position.get(dep)!).toBeLessThan(position.get(node)!);
          expect(wave.get(dep)!).toBeLessThan(wave.get(node)!);
        }
        for (const [node, k] of wave) {
          // Longest chain: a node past wave 0 has a dependency exactly one wave before it.
          if (k > 0) expect(g.deps[node]!.some((dep) => wave.get(dep) === k - 1)).toBe(true);
          else expect(g.deps[node]).toEqual([]);
        }
      }),
    );
  });

  it("have a consistent critical path", () => {
    fc.assert(
      fc.property(dagArbitrary, fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 24, maxLength: 24 }), (dag, weights) => {
        const g = graphOf(dag);
        const weight = (node: number): number => weights[node]!;
        const { length, path, remaining } = criticalPath(g, weight);
        g.ids.forEach((_, node) => {
          const after = Math.max(0, ...g.dependents[node]!.map((next) => remaining[next]!));
          expect(remaining[node]).toBe(weight(node) + after);
        });
        expect(g.deps[path[0]!]).toEqual([]);
        expect(g.dependents[path[path.length - 1]!]).toEqual([]);
        for (let k = 1; k < path.length; k++) expect(g.deps[path[k]!]).toContain(path[k - 1]!);
        expect(length).toBe(path.reduce((sum, node) => sum + weight(node), 0));
        expect(length).toBe(Math.max(...remaining));
      }),
    );
  });

  it("report a back edge along an existing path as a cycle containing that edge", () => {
    fc.assert(
      fc.property(dagArbitrary, fc.nat(), fc.array(fc.nat(), { maxLength: 10 }), (dag, pick, walk) => {
        fc.pre(dag.edges.length > 0);
        const [lo, first] = dag.edges[pick % dag.edges.length]!;
        // Walk up from `first` through dependents: lo ... hi is an existing dependency path.
        let hi = first;
        for (const choice of walk) {
          const up = dag.edges.filter(([from]) => from === hi).map(([, to]) => to);
          if (up.length === 0) break;
          hi = up[choice % up.length]!;
        }
        const g = graphOf(dag, [[hi, lo]]);
        const from = g.index.get(`r${lo}`)!;
        const to = g.index.get(`r${hi}`)!;
        const cycles = findCycles(g);
        expect(cycles.length).toBeGreaterThan(0);
        for (const cycle of cycles) {
          const k = cycle.indexOf(from);
          expect(k).toBeGreaterThanOrEqual(0);
          expect(cycle[(k + 1) % cycle.length]).toBe(to);
        }
        const reported = checkGraph(wsOf(dag, [[hi, lo]]), undefined).filter((d) => d.code === "cycle");
        expect(reported.length).toBeGreaterThan(0);
        expect(reported[0]!.related!.map((r) => r.message)).toContain(`r${lo} depends on r${hi}`);
      }),
    );
  });
});

describe("reachability on random graphs, cycles allowed", () => {
  const anyGraph = fc.integer({ min: 1, max: 14 }).chain((n) =>
    fc.record({
      n: fc.constant(n),
      edges: fc.array(fc.tuple(fc.nat(n - 1), fc.nat(n - 1)), { maxLength: 3 * n }),
    }),
  );

  it("agrees with a naive walk, and ancestors/descendants agree with it", () => {
    fc.assert(
      fc.property(anyGraph, ({ n, edges }) => {
        const ids = Array.from({ length: n }, (_, i) => `n${i}`);
        const g = buildGraph(makeWs(ids.map((id, i) => ({ id, dependsOn: edges.filter(([x]) => x === i).map(([, y]) => ids[y]!) }))));
        const reach = reachability(g);
        // What graphs over 30 000 nodes use: a pruned search, and past its budget cached walks.
        const searching = reachability(g, { bitsets: 0, search: 1_000 });
        const walking = reachability(g, { bitsets: 0, search: 0 });
        for (let from = 0; from < n; from++) {
          const below = descendants(g, [from]);
          for (let to = 0; to < n; to++) {
            const expected = naiveReaches(g, from, to);
            expect(reach.reaches(from, to)).toBe(expected);
            expect(searching.reaches(from, to)).toBe(expected);
            expect(walking.reaches(from, to)).toBe(expected);
            expect(below.has(to)).toBe(expected || from === to);
            expect(ancestors(g, [to]).has(from)).toBe(expected || from === to);
          }
        }
        // Every cycle found is a real cycle of distinct nodes, and cyclic nodes are all covered.
        const cycles = findCycles(g);
        const onCycle = new Set(cycles.flat());
        for (const cycle of cycles) {
          expect(new Set(cycle).size).toBe(cycle.length);
          cycle.forEach((node, k) => expect(g.deps[node]).toContain(cycle[(k + 1) % cycle.length]!));
        }
        for (let node = 0; node < n; node++) if (reach.reaches(node, node) && cycles.length < 100) expect(onCycle.has(node)).toBe(true);
      }),
    );
  });
});

describe("patternsOverlap", () => {
  const segmentPatterns = ["a", "b", "ab", "x.ts", ".h", "*", "*.ts", "a*", "*b", "?", "**", "{a,b}", "[ab]", "x.*", "{a,x}.ts", "@(a|ab)"];
  const pattern = fc.array(fc.constantFrom(...segmentPatterns), { minLength: 1, maxLength: 3 }).map((parts) => parts.join("/"));
  // Every path of up to three segments over a small alphabet: a common path, if any, is among them.
  const pathSegments = ["a", "b", "ab", "ba", "x.ts", ".h", "[ab]", "x.*"];
  const paths = pathSegments.flatMap((x) => [x, ...pathSegments.flatMap((y) => [`${x}/${y}`, ...pathSegments.map((z) => `${x}/${y}/${z}`)])]);

  it("is sound: a path matched by both patterns means they overlap", () => {
    fc.assert(
      fc.property(pattern, pattern, (p, q) => {
        const common = paths.find((file) => matchesScope(file, [p]) && matchesScope(file, [q]));
        if (common !== undefined) expect(patternsOverlap(p, q), `${p} vs ${q} share ${common}`).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });

  it("is symmetric", () => {
    fc.assert(
      fc.property(pattern, pattern, (p, q) => {
        expect(patternsOverlap(p, q)).toBe(patternsOverlap(q, p));
      }),
    );
  });
});

describe("findScopeConflicts", () => {
  // Entries that take every path through the bucketing: plain ones read off the string, and the
  // ones compiled first (braces across segments, classes, groups, negations, ./ and .., absolute).
  const entries = [
    "src/a.ts", "src/b.ts", "src/*.ts", "src/**", "src/x/**/*.ts", "src/x/y.ts", "src/x|y.ts", "src?/a.ts", "lib/*.js",
    "src/{a,b}.ts", "{src,lib}/x/*", "src/[ab].ts", "src/@(a|b).ts", "!src/a.ts", "./src/a.ts", "src/x/../a.ts", "src/", "**/*.ts",
    "../out.ts", "/abs.ts", "a/{b/c,d}/e", "",
    // Glob-free entries kept with their folder: a path named twice, a path that is another
    // entry's literal prefix, a file at the root; braces read off the string after a glob, and
    // the ones that must be compiled (a `/` inside, too many alternatives, a brace first).
    "src/x", "src/x/**", "src/x/*", "a.ts", "*.ts", "src/*.{ts,js}", "src/x/*.{ts,y}", "src/*{x/y}", "src/*{a,b,c,d,e,f,g,h}", "src/x/{y.ts,z}",
  ];
  const scopes = fc.array(fc.array(fc.constantFrom(...entries), { maxLength: 3 }), { minLength: 1, maxLength: 8 });

  it("agrees with comparing every pair of unordered steps", () => {
    fc.assert(
      fc.property(scopes, fc.array(fc.tuple(fc.nat(7), fc.nat(7)), { maxLength: 6 }), (fileScopes, edges) => {
        const ws = makeWs(
          fileScopes.map((fileScope, i) => ({
            id: `s${i}`,
            fileScope,
            dependsOn: edges.filter(([lo, hi]) => hi === i && lo < i).map(([lo]) => `s${lo}`),
          })),
        );
        const g = buildGraph(ws);
        const reach = reachability(g);
        const expected: string[] = [];
        for (let a = 0; a < fileScopes.length; a++) {
          for (let b = a + 1; b < fileScopes.length; b++) {
            if (reach.reaches(a, b) || reach.reaches(b, a)) continue;
            const usable = (list: string[]) => [...new Set(list)].filter((p) => normalizeScopePattern(p) !== undefined);
            const pair = usable(fileScopes[a]!).flatMap((p) => usable(fileScopes[b]!).map((q) => [p, q] as const)).find(([p, q]) => patternsOverlap(p, q));
            if (pair) expected.push(`${a}:${pair[0]} ~ ${b}:${pair[1]}`);
          }
        }
        const found = (reach?: Reachability) => findScopeConflicts(ws, g, reach).map((c) => `${c.a}:${c.patternA} ~ ${c.b}:${c.patternB}`);
        expect(found()).toEqual(expected);
        expect(found(reachability(g, { bitsets: 0, search: 1_000 }))).toEqual(expected);
      }),
      { numRuns: 1000 },
    );
  });
});

describe("plainPrefix", () => {
  it("gives what compilePattern's alternatives give to literalPrefix, when it reads an entry at all", () => {
    const segment = fc.constantFrom("src", "a.ts", "*", "**", "*.ts", "?", "x|y", "*.{ts,js}", "{a,b}", "*{a/b}", "a}", "*.{a,{b,c}}", "[ab]", "@(a)", "!a", "*,*,*,*");
    const pattern = fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join("/"));
    fc.assert(
      fc.property(pattern, (p) => {
        const prefix = plainPrefix(p);
        if (prefix === undefined) return;
        for (const alternative of compilePattern(p).alternatives) expect(literalPrefix(alternative).join("/"), p).toBe(prefix);
      }),
      { numRuns: 2000 },
    );
  });

  it("reads the common entries off the string", () => {
    expect(["src/mod/*.ts", "src/mod/**/*.ts", "src/mod/*.{ts,tsx}", "src/a.ts"].map(plainPrefix)).toEqual(["src/mod", "src/mod", "src/mod", "src/a.ts"]);
    expect(["src/{a,b}.ts", "src/*{a/b}", "src/[ab].ts", "!src/a.ts"].map(plainPrefix)).toEqual([undefined, undefined, undefined, undefined]);
  });
});

describe("scopeEntryProblem", () => {
  it("refuses exactly what normalizeScopePattern refuses, and says why", () => {
    const segment = fc.constantFrom("a", "b.ts", ".", "..", "", "...", ".h", "*", "C:", "\\x", "!a");
    const entry = fc.tuple(fc.constantFrom("", "!", "/", "\\", "C:/", "./"), fc.array(segment, { maxLength: 5 })).map(([lead, parts]) => lead + parts.join("/"));
    fc.assert(
      fc.property(entry, (pattern) => {
        const expected = normalizeScopePattern(pattern) === undefined ? (isAbsolute(pattern) ? "absolute" : "outside") : undefined;
        expect(scopeEntryProblem(pattern), pattern).toBe(expected);
      }),
      { numRuns: 2000 },
    );
  });
});
