/** "waiting (quota, until 14:05)": a step parked on its tool's quota, in local time like the tools print it. */
export function waitingLabel(until: string | undefined): string {
  if (until === undefined) return "waiting (quota)";
  const at = new Date(until);
  if (Number.isNaN(at.getTime())) return "waiting (quota)";
  return `waiting (quota, until ${String(at.getHours()).padStart(2, "0")}:${String(at.getMinutes()).padStart(2, "0")})`;
}
