/**
 * A tiny, strict XML reader for the tests: enough of XML 1.0 to prove a JUnit report is
 * well-formed (tags nest and close in order, attributes are quoted, entities are known, every
 * character is allowed) and to read it back as a tree. It throws on anything it does not accept.
 */

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /^[A-Za-z_:][A-Za-z0-9_:.-]*/;

function decode(raw: string, where: number): string {
  return raw.replace(/&([^;]*);|&/g, (match, ref: string | undefined) => {
    if (ref === undefined) throw new Error(`bare & at ${where}`);
    const named: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'" };
    if (ref in named) return named[ref]!;
    const m = /^#(x[0-9A-Fa-f]+|[0-9]+)$/.exec(ref);
    if (!m) throw new Error(`unknown entity ${match} at ${where}`);
    const code = m[1]!.startsWith("x") ? parseInt(m[1]!.slice(1), 16) : parseInt(m[1]!, 10);
    checkChars(String.fromCodePoint(code), where);
    return String.fromCodePoint(code);
  });
}

function checkChars(text: string, where: number): void {
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    const ok =
      c === 0x9 || c === 0xa || c === 0xd || (c >= 0x20 && c <= 0xd7ff) || (c >= 0xe000 && c <= 0xfffd) || (c >= 0x10000 && c <= 0x10ffff);
    if (!ok) throw new Error(`character U+${c.toString(16)} not allowed in XML near ${where}`);
  }
}

export function parseXml(xml: string): XmlElement {
  checkChars(xml, 0);
  let i = 0;
  if (xml.startsWith("<?xml")) {
    const end = xml.indexOf("?>");
    if (end < 0) throw new Error("unterminated declaration");
    i = end + 2;
  }
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  while (i < xml.length) {
    const lt = xml.indexOf("<", i);
    const text = lt < 0 ? xml.slice(i) : xml.slice(i, lt);
    if (text.includes("]]>")) throw new Error(`"]]>" in text at ${i}`);
    const top = stack[stack.length - 1];
    if (top) top.text += decode(text, i);
    else if (text.trim() !== "") throw new Error(`text outside the root element at ${i}`);
    if (lt < 0) break;
    i = lt + 1;
    if (xml[i] === "/") {
      const name = NAME.exec(xml.slice(i + 1))?.[0];
      const open = stack.pop();
      if (!name || !open || open.name !== name) throw new Error(`</${name}> does not close <${open?.name}> at ${lt}`);
      i += 1 + name.length;
      while (xml[i] === " " || xml[i] === "\n") i++;
      if (xml[i] !== ">") throw new Error(`bad end tag at ${lt}`);
      i++;
      continue;
    }
    const name = NAME.exec(xml.slice(i))?.[0];
    if (!name) throw new Error(`bad tag at ${lt}`);
    i += name.length;
    const element: XmlElement = { name, attrs: {}, children: [], text: "" };
    for (;;) {
      const space = /^[ \t\n\r]*/.exec(xml.slice(i))![0];
      i += space.length;
      if (xml.startsWith("/>", i) || xml[i] === ">") break;
      if (space === "") throw new Error(`attributes must be separated by space at ${i}`);
      const attr = NAME.exec(xml.slice(i))?.[0];
      if (!attr) throw new Error(`bad attribute at ${i}`);
      i += attr.length;
      if (xml[i] !== "=" || xml[i + 1] !== '"') throw new Error(`attribute ${attr} not ="quoted" at ${i}`);
      const close = xml.indexOf('"', i + 2);
      if (close < 0) throw new Error(`unterminated attribute ${attr}`);
      const raw = xml.slice(i + 2, close);
      if (raw.includes("<")) throw new Error(`< in attribute ${attr}`);
      if (attr in element.attrs) throw new Error(`duplicate attribute ${attr}`);
      // Attribute-value normalization: literal whitespace becomes a space, references survive.
      element.attrs[attr] = decode(raw.replace(/[\t\n\r]/g, " "), i);
      i = close + 1;
    }
    const parent = stack[stack.length - 1];
    if (parent) parent.children.push(element);
    else if (root) throw new Error("second root element");
    else root = element;
    if (xml.startsWith("/>", i)) i += 2;
    else {
      i += 1;
      stack.push(element);
    }
  }
  if (stack.length > 0) throw new Error(`unclosed <${stack[stack.length - 1]!.name}>`);
  if (!root) throw new Error("no root element");
  return root;
}

export function find(element: XmlElement, name: string): XmlElement[] {
  return element.children.filter((c) => c.name === name);
}
