/** Words separated by runs of whitespace; leading and trailing whitespace make none. */
export function wordCount(text) {
  const trimmed = text.trim();
  return trimmed === "" ? 0 : trimmed.split(/\s+/).length;
}
