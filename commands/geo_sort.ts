/**
 * The orderings of GEO search results. A full sort is stable (glibc's `qsort`, which Redis
 * uses, is a merge sort); with COUNT below the number of results Redis sorts only the leading
 * part with its own partial quicksort (Bentley and McIlroy's, skipping partitions outside the
 * wanted range), which is not stable: points at equal distances come out in the order that
 * algorithm leaves them, so it is reproduced step for step here.
 *
 * @module
 */

/** A three-way comparison: negative, zero or positive. */
export type Compare<T> = (a: T, b: T) => number;

/**
 * Sorts `items` as Redis's GEO searches do: all of it stably when `keep` covers the whole
 * array, else only enough to put the `keep` first items in order.
 *
 * @param items the results, sorted in place
 * @param cmp the comparison
 * @param keep how many leading items must be in order
 * @example
 * ```ts
 * const a = [3, 1, 2];
 * geoSort(a, (x, y) => x - y, 3); // a is [1, 2, 3]
 * ```
 */
export function geoSort<T>(items: T[], cmp: Compare<T>, keep: number): void {
  if (keep >= items.length) items.sort(cmp);
  else partialSort(items, cmp, 0, items.length, keep - 1);
}

/** Index of the median of three (the same choices as Redis's `med3`). */
function med3<T>(v: T[], cmp: Compare<T>, a: number, b: number, c: number): number {
  if (cmp(v[a]!, v[b]!) < 0) {
    if (cmp(v[b]!, v[c]!) < 0) return b;
    return cmp(v[a]!, v[c]!) < 0 ? c : a;
  }
  if (cmp(v[b]!, v[c]!) > 0) return b;
  return cmp(v[a]!, v[c]!) < 0 ? a : c;
}

function swap<T>(v: T[], i: number, j: number): void {
  const t = v[i]!;
  v[i] = v[j]!;
  v[j] = t;
}

/** Swaps the `n` items from `i` with the `n` items from `j`. */
function swapRuns<T>(v: T[], i: number, j: number, n: number): void {
  for (let k = 0; k < n; k++) swap(v, i + k, j + k);
}

/**
 * Sorts enough of `v[start, start + n)` for positions 0..`last` of the whole array to hold
 * their final items: a three-way partition around a pseudo-median, recursing only into the
 * parts that overlap the wanted range.
 */
function partialSort<T>(v: T[], cmp: Compare<T>, start: number, n: number, last: number): void {
  for (;;) {
    if (n < 7) {
      for (let m = start + 1; m < start + n; m++) {
        for (let l = m; l > start && cmp(v[l - 1]!, v[l]!) > 0; l--) swap(v, l, l - 1);
      }
      return;
    }
    let pm = start + Math.floor(n / 2);
    if (n > 7) {
      let pl = start;
      let pn = start + n - 1;
      if (n > 40) {
        const d = Math.floor(n / 8);
        pl = med3(v, cmp, pl, pl + d, pl + 2 * d);
        pm = med3(v, cmp, pm - d, pm, pm + d);
        pn = med3(v, cmp, pn - 2 * d, pn - d, pn);
      }
      pm = med3(v, cmp, pl, pm, pn);
    }
    swap(v, start, pm);
    // Items equal to the pivot gather at both ends, then move to the middle.
    let pa = start + 1;
    let pb = pa;
    let pc = start + n - 1;
    let pd = pc;
    for (;;) {
      let c: number;
      while (pb <= pc && (c = cmp(v[pb]!, v[start]!)) <= 0) {
        if (c === 0) swap(v, pa++, pb);
        pb++;
      }
      while (pb <= pc && (c = cmp(v[pc]!, v[start]!)) >= 0) {
        if (c === 0) swap(v, pc, pd--);
        pc--;
      }
      if (pb > pc) break;
      swap(v, pb++, pc--);
    }
    const end = start + n;
    let r = Math.min(pa - start, pb - pa);
    swapRuns(v, start, pb - r, r);
    r = Math.min(pd - pc, end - pd - 1);
    swapRuns(v, pb, end - r, r);
    r = pb - pa;
    // The wanted range starts at 0: a part matters unless it begins after `last`.
    if (r > 1 && start <= last) partialSort(v, cmp, start, r, last);
    r = pd - pc;
    if (r <= 1) return;
    start = end - r;
    n = r;
    if (start > last) return;
  }
}
