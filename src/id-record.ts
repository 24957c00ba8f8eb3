/**
 * A record keyed by names users choose (step ids, tool names), without a prototype: a step may be
 * called "constructor" or "__proto__", which on a plain object read an inherited member or set the
 * prototype instead of a key (both crashed ws, exit 70). JSON.stringify writes it like any object.
 */
export function idRecord<T>(entries?: Iterable<readonly [string, T]>): Record<string, T> {
  const record = Object.create(null) as Record<string, T>;
  if (entries) for (const [key, value] of entries) record[key] = value;
  return record;
}
