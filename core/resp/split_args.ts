/**
 * Redis's `sdssplitargs`: how an inline request (`SET k "a b"`), a config file line and other
 * text lines are split into arguments.
 *
 * @module
 */

function isSpace(c: number): boolean {
  return c === 32 || (c >= 9 && c <= 13);
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

const ESCAPES: Record<string, string> = { n: "\n", r: "\r", t: "\t", b: "\b", a: "\x07" };

/**
 * Splits a line into arguments with Redis's `sdssplitargs` rules: blanks separate, `"..."` takes
 * `\n \r \t \b \a \xHH` escapes, `'...'` takes `\'`, and a closing quote must be followed by a
 * blank or the end. Returns undefined for unbalanced quotes. A NUL byte ends the line (the
 * parser never passes one; config files may).
 */
export function splitArgs(line: string): string[] | undefined {
  const out: string[] = [];
  const n = line.indexOf("\0") >= 0 ? line.indexOf("\0") : line.length;
  let p = 0;
  for (;;) {
    while (p < n && isSpace(line.charCodeAt(p))) p++;
    if (p >= n) return out;
    let cur = "";
    let inq = false;
    let insq = false;
    for (;;) {
      const c = p < n ? line[p]! : "";
      if (inq) {
        if (
          c === "\\" && line[p + 1] === "x" && p + 3 < n &&
          hexValue(line.charCodeAt(p + 2)) >= 0 && hexValue(line.charCodeAt(p + 3)) >= 0
        ) {
          cur += String.fromCharCode(
            hexValue(line.charCodeAt(p + 2)) * 16 + hexValue(line.charCodeAt(p + 3)),
          );
          p += 4;
          continue;
        }
        if (c === "\\" && p + 1 < n) {
          const e = line[p + 1]!;
          cur += ESCAPES[e] ?? e;
          p += 2;
          continue;
        }
        if (c === '"') {
          if (p + 1 < n && !isSpace(line.charCodeAt(p + 1))) return undefined;
          p++;
          break;
        }
        if (c === "") return undefined;
        cur += c;
        p++;
      } else if (insq) {
        if (c === "\\" && line[p + 1] === "'") {
          cur += "'";
          p += 2;
          continue;
        }
        if (c === "'") {
          if (p + 1 < n && !isSpace(line.charCodeAt(p + 1))) return undefined;
          p++;
          break;
        }
        if (c === "") return undefined;
        cur += c;
        p++;
      } else {
        if (c === "" || c === " " || c === "\n" || c === "\r" || c === "\t") {
          p++;
          break;
        }
        if (c === '"') inq = true;
        else if (c === "'") insq = true;
        else cur += c;
        p++;
      }
    }
    out.push(cur);
  }
}
