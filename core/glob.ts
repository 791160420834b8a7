/**
 * Glob-style matching with Redis's rules (KEYS, SCAN MATCH, CONFIG GET, PSUBSCRIBE): `*`, `?`,
 * `[abc]`, `[^a-z]`, and `\` to escape. Works on binary strings.
 *
 * @module
 */

function lower(c: number): number {
  return c >= 65 && c <= 90 ? c + 32 : c;
}

/**
 * True when `str` matches `pattern`.
 *
 * @param pattern the glob pattern
 * @param str the string to test
 * @param nocase compare letters case-insensitively
 * @returns whether the whole string matches
 * @example
 * ```ts
 * globMatch("user:*", "user:42"); // true
 * ```
 */
export function globMatch(pattern: string, str: string, nocase = false): boolean {
  if (pattern === "*") return true;
  const skip = { longer: false };
  return match(pattern, 0, str, 0, nocase, skip, 0);
}

/** How deep `*`s may nest before a pattern stops matching (Redis 7.4, CVE-2024-31228). */
const MAX_NESTING = 1000;

function match(
  p: string,
  pi: number,
  s: string,
  si: number,
  nocase: boolean,
  skip: { longer: boolean },
  nesting: number,
): boolean {
  // An abusive pattern (thousands of `*`) matches nothing instead of recursing without end.
  if (nesting > MAX_NESTING) return false;
  const plen = p.length;
  const slen = s.length;
  while (pi < plen && si < slen) {
    const pc = p.charCodeAt(pi);
    if (pc === 42) { // '*'
      while (pi + 1 < plen && p.charCodeAt(pi + 1) === 42) pi++;
      if (pi + 1 === plen) return true;
      while (si < slen) {
        if (match(p, pi + 1, s, si, nocase, skip, nesting + 1)) return true;
        if (skip.longer) return false;
        si++;
      }
      // No later start for the rest of the pattern can match: longer earlier '*' runs cannot help.
      skip.longer = true;
      return false;
    }
    if (pc === 63) { // '?'
      si++;
      pi++;
      continue;
    }
    if (pc === 91) { // '['
      pi++;
      const not = p.charCodeAt(pi) === 94;
      if (not) pi++;
      let matched = false;
      const c = s.charCodeAt(si);
      for (;;) {
        if (pi >= plen) {
          pi--;
          break;
        }
        const q = p.charCodeAt(pi);
        if (q === 92 && plen - pi >= 2) {
          pi++;
          if (p.charCodeAt(pi) === c) matched = true;
        } else if (q === 93) {
          break;
        } else if (plen - pi >= 3 && p.charCodeAt(pi + 1) === 45) {
          let start = p.charCodeAt(pi);
          let end = p.charCodeAt(pi + 2);
          if (start > end) [start, end] = [end, start];
          let cc = c;
          if (nocase) {
            start = lower(start);
            end = lower(end);
            cc = lower(c);
          }
          pi += 2;
          if (cc >= start && cc <= end) matched = true;
        } else if (nocase ? lower(q) === lower(c) : q === c) {
          matched = true;
        }
        pi++;
      }
      if (not) matched = !matched;
      if (!matched) return false;
      si++;
      pi++;
      continue;
    }
    if (pc === 92 && plen - pi >= 2) pi++;
    const q = p.charCodeAt(pi);
    const c = s.charCodeAt(si);
    if (nocase ? lower(q) !== lower(c) : q !== c) return false;
    si++;
    pi++;
  }
  if (si === slen) {
    while (pi < plen && p.charCodeAt(pi) === 42) pi++;
  }
  return pi === plen && si === slen;
}
